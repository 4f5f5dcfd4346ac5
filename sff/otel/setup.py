"""The tracer provider and exporter, from the standard ``OTEL_*`` variables.

An SDK provider the application installed itself (e.g. a Lambda layer's) is used as it is.
Otherwise sff installs one: resource from ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``
plus the platform's attributes, a batch processor, and the OTLP/HTTP exporter (endpoint,
headers and timeout from ``OTEL_EXPORTER_OTLP_*``; ``OTEL_TRACES_EXPORTER=console`` prints
instead). The exporter's own timeout defaults to `EXPORT_TIMEOUT_S` rather than the SDK's
10 s, so a slow collector holds a background thread briefly, and never an answer.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from sff.otel.spans import Tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger("sff.otel")

EXPORT_TIMEOUT_S = 2.0
_TIMEOUT_VARS = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")


def start() -> Tracing | None:
    """The process's tracing, or None (with one warning) when the extra is not installed."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        logger.warning(
            "tracing is on but opentelemetry is not installed: "
            "pip install 'serverless-for-frontend[otel]'"
        )
        return None
    installed = trace.get_tracer_provider()
    if isinstance(installed, TracerProvider):
        return Tracing(installed)
    provider = own_provider()
    trace.set_tracer_provider(provider)
    return Tracing(provider)


def own_provider() -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from sff.otel.platform import attributes

    resource = Resource.create({"telemetry.sdk.name": "opentelemetry", **attributes()})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter()))
    return provider


def exporter() -> SpanExporter:
    """``OTEL_TRACES_EXPORTER``: ``otlp`` (the default, over HTTP/protobuf) or ``console``."""
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip().lower()
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind not in ("otlp", ""):
        logger.warning("OTEL_TRACES_EXPORTER=%s is not supported by sff; using otlp", kind)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    timeout = None if any(os.environ.get(v) for v in _TIMEOUT_VARS) else EXPORT_TIMEOUT_S
    return OTLPSpanExporter(timeout=timeout)
