"""Real builds: pip installs the target platform's wheels (network to the package index),
and the result runs with nothing but the unzipped folder on sys.path."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sff.packaging import PackagedFunction, PackageReport, build_package, find_interpreter
from tests.lambda_runtime import run_under_awslambdaric
from tests.test_package_infra import FC3_SCHEMA, PKGPROJECT, cfn_lint

PYTHON = "3.12"  # a runtime every platform offers
HELLO = PackagedFunction(
    "hello", "functions.hello.handler", {"GREETING": "hello"}, timeout_s=3, route="/hello"
)


def interpreter() -> str:
    found = find_interpreter(PYTHON)
    if found is None:
        pytest.skip(f"python{PYTHON} is not installed here")
    return found


def build(tmp: Path, **options: str) -> PackageReport:
    lines: list[str] = []
    report = build_package(
        PKGPROJECT,
        [HELLO],
        python=PYTHON,
        out_dir=tmp,
        progress=lines.append,
        **options,  # type: ignore[arg-type]
    )
    assert any(line.startswith("installing") for line in lines), lines
    assert lines[-1] == report.size_line()
    return report


def unzip(report: PackageReport, dest: Path) -> Path:
    with zipfile.ZipFile(report.zip_path) as archive:
        archive.extractall(dest)
    return dest


@pytest.fixture(scope="session")
def lambda_package(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PackageReport, Path]]:
    """The slow pip step runs once per session; tests get the report and the unzipped tree."""
    out = tmp_path_factory.mktemp("lambda")
    report = build(out, target="aws-lambda")
    yield report, unzip(report, tmp_path_factory.mktemp("lambda-unzipped"))


def test_lambda_package_answers_with_only_its_own_folder_on_sys_path(
    lambda_package: tuple[PackageReport, Path],
) -> None:
    _, tree = lambda_package
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1])\n"
        "from importlib.metadata import version\n"
        "import functions.hello as h\n"
        "print(json.dumps({'answer': h.handler({'name': 'zip'}, None),"
        " 'sff': version('serverless-for-frontend'), 'file': h.__file__,"
        " 'pydantic_core': sys.modules['pydantic_core'].__file__}))\n"
    )
    done = subprocess.run(
        [interpreter(), "-I", "-S", "-B", "-c", script, str(tree)],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen["answer"]["statusCode"] == 200
    assert json.loads(seen["answer"]["body"]) == {
        "greeting": "hello zip",
        "python": PYTHON,
        "sff": True,
    }
    assert seen["sff"] == "0.1.0"
    for module_file in (seen["file"], seen["pydantic_core"]):
        assert Path(module_file).is_relative_to(tree)


def test_lambda_package_ships_unchecked_pycs_for_the_target_python(
    lambda_package: tuple[PackageReport, Path],
) -> None:
    report, tree = lambda_package
    tag = f"cpython-{PYTHON.replace('.', '')}"
    magic = subprocess.run(
        [
            interpreter(),
            "-I",
            "-c",
            "import importlib.util as u, sys; sys.stdout.write(u.MAGIC_NUMBER.hex())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for pyc in (
        tree / "functions" / "__pycache__" / f"hello.{tag}.pyc",
        tree / "pydantic" / "__pycache__" / f"main.{tag}.pyc",
    ):
        header = pyc.read_bytes()[:8]
        assert header[:4].hex() == magic
        assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source not checked
    assert not list(tree.rglob("*.cpython-311.pyc"))
    assert f"{tag}.pyc" in report.pyc and report.warnings == ()


def test_lambda_package_keeps_metadata_and_drops_what_a_function_never_uses(
    lambda_package: tuple[PackageReport, Path],
) -> None:
    report, tree = lambda_package
    assert report.zip_path.name == "pkgproject-aws-lambda-x86_64.zip"
    assert (tree / "serverless_for_frontend-0.1.0.dist-info" / "METADATA").is_file()
    assert list(tree.glob("pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so"))
    assert not (tree / "bin").exists()
    assert not list(tree.glob("*.dist-info/RECORD")) and not list(tree.rglob("*.pyi"))
    assert report.unzipped_bytes == sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    assert report.zipped_bytes == report.zip_path.stat().st_size < 50 * 1024 * 1024
    assert report.over_limits == ()


def test_lambda_template_next_to_the_zip_passes_cfn_lint(
    lambda_package: tuple[PackageReport, Path],
) -> None:
    report, _ = lambda_package
    (template,) = report.infra_files
    assert template == report.zip_path.parent / "pkgproject-aws-lambda-x86_64.template.yaml"
    done = cfn_lint(template)
    assert done.returncode == 0, done.stdout + done.stderr
    props = yaml.safe_load(template.read_text("utf-8"))["Resources"]["HelloFunction"]["Properties"]
    assert props["CodeUri"] == report.zip_path.name
    assert props["Runtime"] == f"python{PYTHON}"


def test_awslambdaric_runs_the_unzipped_lambda_package(
    lambda_package: tuple[PackageReport, Path], tmp_path: Path
) -> None:
    _, tree = lambda_package
    python = interpreter()
    # The managed runtime brings awslambdaric; here it goes beside the package, not in it.
    ric = tmp_path / "ric"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(ric),
            "awslambdaric",
        ],
        check=True,
        capture_output=True,
    )
    answer = run_under_awslambdaric(
        "functions.hello.handler",
        {"name": "runtime"},
        cwd=tree,
        pythonpath=[ric],
        python=python,
        env={"GREETING": "hey"},
    )
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"greeting": "hey runtime", "python": PYTHON, "sff": True}


def test_fc_package_comes_with_an_s_yaml_the_fc3_schema_accepts(tmp_path: Path) -> None:
    report = build(tmp_path, target="aliyun-fc", region="cn-shanghai")
    assert report.zip_path.name == "pkgproject-aliyun-fc-x86_64.zip"
    (s_yaml,) = report.infra_files
    document = yaml.safe_load(s_yaml.read_text("utf-8"))
    props = document["resources"]["hello"]["props"]
    jsonschema.Draft7Validator(json.loads(FC3_SCHEMA.read_text("utf-8"))).validate(props)
    assert (s_yaml.parent / props["code"]).resolve() == report.zip_path
    assert props["runtime"] == f"python{PYTHON}" and props["region"] == "cn-shanghai"


def test_arm64_lambda_package_carries_aarch64_binaries(tmp_path: Path) -> None:
    report = build(tmp_path, target="aws-lambda", arch="arm64")
    assert report.zip_path.name == "pkgproject-aws-lambda-arm64.zip"
    with zipfile.ZipFile(report.zip_path) as archive:
        (so,) = [
            n for n in archive.namelist() if n.startswith("pydantic_core/") and n.endswith(".so")
        ]
        elf = archive.read(so)[:20]
    assert so.endswith("-aarch64-linux-gnu.so")
    assert int.from_bytes(elf[18:20], "little") == 183  # EM_AARCH64
    template = yaml.safe_load(report.infra_files[0].read_text("utf-8"))
    assert template["Resources"]["HelloFunction"]["Properties"]["Architectures"] == ["arm64"]


def test_gcp_package_holds_main_py_and_requirements_at_its_root(tmp_path: Path) -> None:
    report = build(tmp_path, target="gcp")
    assert report.infra_files == ()
    tree = unzip(report, tmp_path / "tree")
    assert (tree / "requirements.txt").read_text() == "functions-framework\n"
    script = (
        "import sys, types; sys.path.insert(0, sys.argv[1]); import main\n"
        "print(main.hello(types.SimpleNamespace(name='cloud'))[0])\n"
    )
    done = subprocess.run(
        [interpreter(), "-I", "-S", "-B", "-c", script, str(tree)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["greeting"] == "hello cloud"
    assert "entry point hello in main.py" in report.format()
    shutil.rmtree(tree)


SHOP = Path(__file__).parent / "fixtures" / "shop"
PRODUCT = PackagedFunction(
    "product",
    "functions.product.handler",
    {"CATALOG_API": "", "SHOP_CURRENCY": "EUR"},
    timeout_s=5,
    route="/products/{product_id}",
)
EVENTS = Path(__file__).parent / "events"


@pytest.fixture(scope="module")
def catalog() -> Iterator[str]:
    """A real HTTP backend on loopback answering the shop's product lookups."""

    class Catalog(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/products/2"
            body = json.dumps({"name": "Lamp", "price_cents": 1999} if found else {}).encode()
            self.send_response(200 if found else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Catalog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def build_shop(out: Path, target: str) -> PackageReport:
    return build_package(SHOP, [PRODUCT], target=target, python=PYTHON, out_dir=out)  # type: ignore[arg-type]


def invoke_unzipped(
    tree: Path, event: bytes, catalog: str, *, as_bytes: bool = False
) -> dict[str, Any]:
    """The handler run by the target Python with nothing but the unzipped tree on sys.path."""
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1])\n"
        "import functions.product as m\n"
        "event = sys.stdin.buffer.read()\n"
        "event = event if sys.argv[2] == 'bytes' else json.loads(event)\n"
        "print(json.dumps(m.handler(event, None)))\n"
    )
    kind = "bytes" if as_bytes else "json"  # Function Compute hands its events over as bytes
    done = subprocess.run(
        [interpreter(), "-I", "-S", "-B", "-c", script, str(tree), kind],
        input=event,
        capture_output=True,
        env={"CATALOG_API": catalog, "SHOP_CURRENCY": "EUR", "SFF_CACHE_URL": "memory://"},
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_shop_ships_its_services_package_and_answers_a_function_url_event(
    tmp_path: Path, catalog: str
) -> None:
    report = build_shop(tmp_path, "aws-lambda")
    tree = unzip(report, tmp_path / "tree")
    assert report.modules == ("contracts", "functions", "services")
    assert (tree / "services" / "money.py").is_file()
    assert not (tree / "tests").exists() and not (tree / "scripts").exists()
    event = json.loads((EVENTS / "aws_lambdaFunctionUrlEvent.json").read_text())

    event["rawPath"] = "/products/2"
    found = invoke_unzipped(tree, json.dumps(event).encode(), catalog)
    event["rawPath"] = "/products/2/reviews"
    off_route = invoke_unzipped(tree, json.dumps(event).encode(), catalog)

    assert found["statusCode"] == 200, found
    assert json.loads(found["body"]) == {"id": 2, "name": "Lamp", "price": "19.99 EUR"}
    assert off_route["statusCode"] == 404
    assert "GET /products/{product_id}" in json.loads(off_route["body"])["error"]["message"]


def test_the_shop_for_fc_answers_an_http_trigger_event_at_its_route(
    tmp_path: Path, catalog: str
) -> None:
    report = build_shop(tmp_path, "aliyun-fc")
    tree = unzip(report, tmp_path / "tree")
    event = json.loads((EVENTS / "fc3_httpTrigger_docs_example.json").read_text())
    event["rawPath"] = "/products/2"

    answer = invoke_unzipped(tree, json.dumps(event).encode(), catalog, as_bytes=True)

    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["price"] == "19.99 EUR"
    (s_yaml,) = report.infra_files
    assert s_yaml.name == "shop-aliyun-fc-x86_64.s.yaml"


def test_two_builds_of_one_tree_are_byte_identical_and_name_no_build_folder(
    tmp_path: Path,
) -> None:
    one = build_shop(tmp_path / "one", "aws-lambda")
    two = build_shop(tmp_path / "two", "aws-lambda")

    digest = [hashlib.sha256(r.zip_path.read_bytes()).hexdigest() for r in (one, two)]
    assert digest[0] == digest[1]
    with zipfile.ZipFile(one.zip_path) as archive:
        pyc = archive.read(f"services/__pycache__/money.cpython-{PYTHON.replace('.', '')}.pyc")
    assert b"/var/task/services/money.py" in pyc  # where Lambda unpacks it
    assert b"sff-package-" not in pyc
