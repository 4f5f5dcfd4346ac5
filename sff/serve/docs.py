"""``/docs``: Swagger UI over ``/openapi.json``, so each function can be tried from a browser.

The UI's files come from the ``swagger-ui-py`` package (the serve extra; Swagger UI 5, which
reads OpenAPI 3.1), never a CDN: the page works offline, and what runs in the browser is the
version the install pinned. Only its static files are used (found without importing the
package, which would load its Jinja templates for nothing).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sff.inbound import HttpResponse

ASSETS = {  # the only files served, by name: nothing else of the package is reachable
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sff serve — API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, tryItOutEnabled: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout", validatorUrl: null
});
</script>
</body>
</html>
"""


def answer(path: str) -> HttpResponse | None:
    """The page at ``/docs``, one of its assets at ``/docs/NAME``, or None (a 404)."""
    if path.rstrip("/") == "/docs":
        headers = {"content-type": "text/html; charset=utf-8"}
        return HttpResponse(200, headers, PAGE.encode())
    name = path.removeprefix("/docs/")
    if name not in ASSETS:
        return None
    headers = {"content-type": ASSETS[name], "cache-control": "public, max-age=86400"}
    return HttpResponse(200, headers, asset(name))


@cache
def asset(name: str) -> bytes:
    return (static_folder() / name).read_bytes()


def static_folder() -> Path:
    from importlib.util import find_spec

    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        from sff.distribution import install_hint

        raise RuntimeError(f"the Swagger UI needs swagger-ui-py: {install_hint('serve')}")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
