"""Packaging without pip: infrastructure files checked by the real tools, strip/zip rules,
platform checks, and the local Lambda Runtime API driven by the real awslambdaric."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sff.packaging import Deploy, PackagedFunction, PackageReport, PackagingError, build_package
from sff.packaging._archive import strip as _strip
from sff.packaging._archive import write_zip as _zip
from sff.packaging._build import infra_path
from sff.packaging._fc import s_yaml
from sff.packaging._infra import gcp_main
from sff.packaging._sam import sam_template
from sff.packaging._targets import TARGETS
from sff.packaging._yaml import YamlValue, dump
from tests.lambda_runtime import LambdaInvocationError, run_under_awslambdaric

FIXTURES = Path(__file__).parent / "fixtures"
PKGPROJECT = FIXTURES / "pkgproject"
FC3_SCHEMA = FIXTURES / "fc3-component-props.schema.json"

FUNCTIONS = [
    PackagedFunction(
        "dashboard",
        "functions.dashboard.handler",
        {"USERS_API": "", "TODOS_API": "https://todos.example"},
        timeout_s=4.2,
        memory_mb=300,
    ),
    PackagedFunction(
        "add-todo",
        "functions.todos.add",
        {"TODOS_API": "https://todos.example"},
        timeout_s=10,
        method="post",
        route="/todos",
    ),
]


SAM = sam_template(FUNCTIONS, code_uri="a.zip", python="3.12", arch="x86_64")


def cfn_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The cfn-lint command installed with this interpreter's packages."""
    command = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    files = [str(path) for path in paths]
    return subprocess.run([command, *files], capture_output=True, text=True, check=False)


def test_sam_template_passes_cfn_lint(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        sam_template(FUNCTIONS, code_uri="app.zip", python="3.12", arch="arm64"), "utf-8"
    )
    (tmp_path / "app.zip").write_bytes(b"")
    done = cfn_lint(template)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sam_template_makes_each_env_var_a_parameter_every_function_references() -> None:
    template = yaml.safe_load(SAM)
    assert template["Parameters"] == {
        "TodosApi": {
            "Type": "String",
            "Default": "https://todos.example",
            "Description": "Value of the TODOS_API environment variable",
        },
        "UsersApi": {  # no default declared: the deploy must give one
            "Type": "String",
            "MinLength": 1,
            "Description": "Value of the USERS_API environment variable",
        },
    }
    dashboard = template["Resources"]["DashboardFunction"]["Properties"]
    add = template["Resources"]["AddTodoFunction"]["Properties"]
    assert dashboard["Environment"]["Variables"] == {
        "TODOS_API": {"Ref": "TodosApi"},
        "USERS_API": {"Ref": "UsersApi"},
    }
    assert add["Environment"]["Variables"] == {"TODOS_API": {"Ref": "TodosApi"}}
    assert add["Handler"] == "functions.todos.add"
    assert add["Events"]["Http"]["Properties"] == {"Path": "/todos", "Method": "POST"}
    assert dashboard["Runtime"] == "python3.12" and dashboard["CodeUri"] == "a.zip"


def test_platform_timeout_is_whole_seconds_rounded_up_plus_a_margin() -> None:
    template = yaml.safe_load(SAM)
    assert template["Resources"]["DashboardFunction"]["Properties"]["Timeout"] == 5 + 2
    assert template["Resources"]["AddTodoFunction"]["Properties"]["Timeout"] == 10 + 2


def test_s_yaml_props_validate_against_the_fc3_component_schema() -> None:
    schema = json.loads(FC3_SCHEMA.read_text("utf-8"))
    document = yaml.safe_load(
        s_yaml(FUNCTIONS, project="todo", code="./todo.zip", python="3.12", region="cn-hangzhou")
    )
    assert document["edition"] == "3.0.0" and document["name"] == "todo"
    assert set(document["resources"]) == {"dashboard", "add-todo"}
    for resource in document["resources"].values():
        assert resource["component"] == "fc3"
        jsonschema.Draft7Validator(schema).validate(resource["props"])
    props = document["resources"]["add-todo"]["props"]
    assert props["triggers"] == [
        {
            "triggerName": "http",
            "triggerType": "http",
            "triggerConfig": {"authType": "anonymous", "methods": ["POST"]},
        }
    ]
    assert props["handler"] == "functions.todos.add" and props["code"] == "./todo.zip"


def test_s_yaml_rounds_memory_to_fc_steps_and_reads_unset_env_from_the_shell() -> None:
    props = yaml.safe_load(
        s_yaml(FUNCTIONS, project="todo", code="./t.zip", python="3.12", region="cn-shanghai")
    )["resources"]["dashboard"]["props"]
    assert props["memorySize"] == 320  # 300 rounded up to a multiple of 64
    assert props["environmentVariables"] == {
        "TODOS_API": "https://todos.example",
        "USERS_API": "${env('USERS_API')}",
    }


def test_s_yaml_with_a_region_fc_lacks_fails_the_schema() -> None:
    schema = json.loads(FC3_SCHEMA.read_text("utf-8"))
    document = yaml.safe_load(
        s_yaml(FUNCTIONS[:1], project="t", code="./t.zip", python="3.12", region="mars-1")
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document["resources"]["dashboard"]["props"], schema)


def test_yaml_emitter_output_parses_back_to_the_same_data() -> None:
    data: dict[str, YamlValue] = {
        "plain": "python3.12",
        "tricky": ["yes", "No", "3.0.0", "42", "", "a: b", "#x", "- y", "null", "ü ß", "l1\nl2"],
        "numbers": {"int": 3, "float": 2.5, "bool": True, "none": None},
        "empty": {"map": {}, "list": []},
        "nested": [{"a": 1, "b": [1, 2]}, [3, 4]],
        "with space": "${env('X')}",
    }
    assert yaml.safe_load(dump(data, "header\nline two")) == data


def test_gcp_main_maps_each_function_to_its_handlers_gcp_entry(tmp_path: Path) -> None:
    shutil.copytree(PKGPROJECT / "functions", tmp_path / "functions")
    shutil.copytree(PKGPROJECT / "contracts", tmp_path / "contracts")
    functions = [
        PackagedFunction("hello", "functions.hello.handler"),
        PackagedFunction("no-entry", "contracts.hello.Hello"),
    ]
    (tmp_path / "main.py").write_text(gcp_main(functions), "utf-8")
    script = (
        "import sys, types; sys.path.insert(0, sys.argv[1]); import main\n"
        "print(main.hello(types.SimpleNamespace(name='gcp'))[0])\n"
        "try:\n    main.no_entry(None)\nexcept RuntimeError as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    body, error = done.stdout.strip().splitlines()
    assert json.loads(body)["greeting"] == "hello gcp"
    assert error == "contracts.hello.Hello is no sff Function handler and has no gcp_entry"


GREET = """
from sff import Backend, Function

users = Backend("users", default="http://users.test")
greet = Function("greet", sources={"user": users.get("/users/7")}, shape="{hi: user.name}")
handler = greet.handler
"""


def test_gcp_main_serves_an_sff_function_handler_through_the_gcp_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    functions_framework = pytest.importorskip("functions_framework")
    respx = pytest.importorskip("respx")
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "__init__.py").write_text("")
    (tmp_path / "functions" / "greet.py").write_text(GREET)
    (tmp_path / "main.py").write_text(
        gcp_main([PackagedFunction("greet", "functions.greet.handler")])
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for cached in [m for m in sys.modules if m == "main" or m.split(".")[0] == "functions"]:
        monkeypatch.delitem(sys.modules, cached)
    app = functions_framework.create_app(target="greet", source=str(tmp_path / "main.py"))
    with respx.mock(base_url="http://users.test") as backend:
        backend.get("/users/7").respond(json={"name": "Ada"})
        response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.get_json() == {"hi": "Ada"}


@pytest.mark.parametrize(
    ("target", "arch", "python", "message"),
    [
        ("aliyun-fc", "x86_64", "3.11", "aliyun-fc has no python3.11 runtime"),
        ("aliyun-fc", "x86_64", "3.10", "sff needs Python >= 3.11, not 3.10"),
        ("aliyun-fc", "arm64", "3.12", "aliyun-fc runs Python on x86_64 only"),
        ("gcp", "arm64", "3.12", "gcp runs Python on x86_64 only"),
        ("aws-lambda", "x86_64", "3.11", "supported: 3.12, 3.13, 3.14"),
    ],
)
def test_build_refuses_a_runtime_the_platform_or_sff_lacks_before_any_install(
    tmp_path: Path, target: str, arch: str, python: str, message: str
) -> None:
    with pytest.raises(PackagingError, match=message.replace(".", r"\.")):
        build_package(
            PKGPROJECT,
            [PackagedFunction("hello", "functions.hello.handler")],
            target=target,  # type: ignore[arg-type]
            arch=arch,  # type: ignore[arg-type]
            python=python,
            out_dir=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []


def test_strip_drops_tests_caches_stubs_and_pip_bookkeeping_but_keeps_metadata(
    tmp_path: Path,
) -> None:
    files = [
        "bin/sff",
        "pkg/__init__.py",
        "pkg/core.pyi",
        "pkg/py.typed",
        "pkg/tests/test_x.py",
        "pkg/__pycache__/core.cpython-311.pyc",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/RECORD",
        "pkg-1.0.dist-info/INSTALLER",
        "pkg-1.0.dist-info/direct_url.json",
        "pkg-1.0.dist-info/licenses/LICENSE",
        "functions/hello.py",
    ]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    _strip(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == [
        "functions/hello.py",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/licenses/LICENSE",
        "pkg/__init__.py",
        "pkg/py.typed",
    ]


def test_zip_is_byte_identical_whatever_the_file_times_and_sorted(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    for name in ("b/mod.py", "a.py", "lib/ext.so"):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(name)
    (stage / "lib/ext.so").chmod(0o755)
    _zip(stage, tmp_path / "one.zip")
    for path in stage.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    files, unzipped = _zip(stage, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert (files, unzipped) == (3, len("b/mod.py") + len("a.py") + len("lib/ext.so"))
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.py", "b/mod.py", "lib/ext.so"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert [i.external_attr >> 16 for i in infos] == [0o100644, 0o100644, 0o100755]


def test_report_warns_about_every_limit_the_package_is_over(tmp_path: Path) -> None:
    report = PackageReport(
        target="aws-lambda",
        arch="x86_64",
        python="3.12",
        zip_path=tmp_path / "big.zip",
        infra_files=(),
        functions=tuple(FUNCTIONS),
        file_count=10,
        zipped_bytes=60 * 1024 * 1024,
        unzipped_bytes=100 * 1024 * 1024,
        limits=TARGETS["aws-lambda"].limits,
        pyc="none",
        warnings=(),
        elapsed_s=1.0,
    )
    assert [lim.what for lim in report.over_limits] == ["zipped"]
    assert report.all_warnings == (
        "zipped size 60.0 MB is over the 50.0 MB limit: "
        "Lambda direct upload (larger zips must go through S3)",
    )
    text = report.format()
    assert "OVER zipped 50.0 MB (120% used)" in text
    assert "ok   unzipped 250.0 MB (40% used)" in text
    assert "one zip for all 2 function(s)" in text
    assert "add-todo         POST   /todos" in text


def test_awslambdaric_invokes_a_handler_through_the_local_runtime_api() -> None:
    answer = run_under_awslambdaric(
        "functions.hello.handler",
        {"name": "ric"},
        cwd=PKGPROJECT,
        env={"GREETING": "hi"},
    )
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["greeting"] == "hi ric"


def test_awslambdaric_reports_an_unimportable_handler_as_an_init_error() -> None:
    with pytest.raises(LambdaInvocationError) as caught:
        run_under_awslambdaric("functions.missing.handler", {}, cwd=PKGPROJECT)
    assert caught.value.outcome.kind == "init-error"
    assert caught.value.outcome.json()["errorType"] == "Runtime.ImportModuleError"


def test_awslambdaric_reports_a_raising_handler_as_an_invocation_error() -> None:
    with pytest.raises(LambdaInvocationError) as caught:
        run_under_awslambdaric("functions.hello.handler", {"fail": True}, cwd=PKGPROJECT)
    assert caught.value.outcome.kind == "error"
    assert caught.value.outcome.json()["errorType"] == "ValueError"
    assert caught.value.outcome.json()["errorMessage"] == "asked to fail"


PRODUCT = PackagedFunction(
    "product",
    "functions.product.handler",
    {"CATALOG_API": "", "MAIL_KEY": "", "REGION": "eu-west-1"},
    timeout_s=3,
    route="/products/{product_id}",
)
FEATURED = PackagedFunction(
    "featured", "functions.product.featured", {"CATALOG_API": ""}, route="/products/featured"
)
CORS = Deploy(cors_origins=("https://app.example",))


def test_sam_template_passes_cfn_lint_for_every_trigger_and_option(tmp_path: Path) -> None:
    templates = []
    for trigger in ("http-api", "function-url", "alb"):
        for cors, resident in ((False, False), (True, False), (False, True)):
            origins = CORS.cors_origins if cors else ()
            options = Deploy(trigger, origins, resident)  # type: ignore[arg-type]
            text = sam_template(
                [PRODUCT, FEATURED], code_uri="a.zip", python="3.12", arch="x86_64", deploy=options
            )
            templates.append(tmp_path / f"{trigger}-{cors}-{resident}.template.yaml")
            templates[-1].write_text(text, "utf-8")
    (tmp_path / "a.zip").write_bytes(b"")
    done = cfn_lint(*templates)  # one run: cfn-lint's start-up is most of its time
    assert done.returncode == 0, done.stdout + done.stderr


def sam(deploy: Deploy) -> dict[str, Any]:
    text = sam_template(
        [PRODUCT, FEATURED], code_uri="a.zip", python="3.12", arch="x86_64", deploy=deploy
    )
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_http_api_with_cors_routes_preflights_to_sff_and_passes_the_origins() -> None:
    template = sam(CORS)
    props = template["Resources"]["ProductFunction"]["Properties"]
    assert props["Events"] == {
        "Http": {
            "Type": "HttpApi",
            "Properties": {"Path": "/products/{product_id}", "Method": "GET"},
        },
        "HttpOptions": {
            "Type": "HttpApi",
            "Properties": {"Path": "/products/{product_id}", "Method": "OPTIONS"},
        },
    }
    assert props["Environment"]["Variables"]["SFF_CORS_ORIGINS"] == {"Ref": "SffCorsOrigins"}
    assert template["Parameters"]["SffCorsOrigins"]["Default"] == "https://app.example"
    assert "CorsConfiguration" not in json.dumps(template)  # the platform's CORS stays off


def test_function_url_trigger_gives_each_function_a_url_and_no_api() -> None:
    template = sam(Deploy("function-url"))
    props = template["Resources"]["ProductFunction"]["Properties"]
    assert props["FunctionUrlConfig"] == {"AuthType": "NONE"}
    assert "Events" not in props
    assert template["Outputs"]["ProductFunctionUrl"]["Value"] == {
        "Fn::GetAtt": ["ProductFunctionUrl", "FunctionUrl"]
    }
    assert "ApiUrl" not in template["Outputs"]


def test_alb_trigger_forwards_each_route_literal_routes_first() -> None:
    template = sam(Deploy("alb", cors_origins=("*",)))
    resources = template["Resources"]
    rules = {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
    }
    featured, product = rules["FeaturedFunctionListenerRule"], rules["ProductFunctionListenerRule"]
    assert featured["Priority"] < product["Priority"]
    assert product["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/products/*"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "OPTIONS"]}},
    ]
    group = resources["ProductFunctionTargetGroup"]
    assert group["Properties"]["TargetType"] == "lambda"
    assert set(template["Parameters"]) >= {"VpcId", "SubnetIds"}
    assert "AlbUrl" in template["Outputs"]


def test_every_variable_without_a_default_is_a_required_parameter() -> None:
    parameters = sam(Deploy())["Parameters"]
    assert "Default" not in parameters["CatalogApi"] and parameters["CatalogApi"]["MinLength"] == 1
    assert "Default" not in parameters["MailKey"]
    assert parameters["Region"]["Default"] == "eu-west-1"


def test_resident_lambda_sets_sff_resident() -> None:
    props = sam(Deploy(resident=True))["Resources"]["ProductFunction"]["Properties"]
    assert props["Environment"]["Variables"]["SFF_RESIDENT"] == {"Ref": "SffResident"}


@pytest.mark.parametrize(
    "deploy", [Deploy(), CORS, Deploy(resident=True)], ids=["plain", "cors", "resident"]
)
def test_s_yaml_passes_the_fc3_schema_for_every_option(deploy: Deploy) -> None:
    schema = json.loads(FC3_SCHEMA.read_text("utf-8"))
    document = yaml.safe_load(
        s_yaml(
            [PRODUCT],
            project="shop",
            code="./s.zip",
            python="3.12",
            region="cn-hangzhou",
            deploy=deploy,
        )
    )
    jsonschema.Draft7Validator(schema).validate(document["resources"]["product"]["props"])


def test_s_yaml_with_cors_lets_options_through_and_resident_names_the_hooks() -> None:
    both = Deploy(cors_origins=("https://app.example",), resident=True)
    props = yaml.safe_load(
        s_yaml(
            [PRODUCT],
            project="shop",
            code="./s.zip",
            python="3.12",
            region="cn-hangzhou",
            deploy=both,
        )
    )["resources"]["product"]["props"]
    assert props["triggers"][0]["triggerConfig"]["methods"] == ["GET", "OPTIONS"]
    assert props["environmentVariables"]["SFF_CORS_ORIGINS"] == "https://app.example"
    assert props["environmentVariables"]["MAIL_KEY"] == "${env('MAIL_KEY')}"
    assert props["instanceLifecycleConfig"] == {
        "initializer": {"handler": "sff.adapters.aliyun_fc.initializer", "timeout": 10},
        "preStop": {"handler": "sff.adapters.aliyun_fc.pre_stop", "timeout": 10},
    }


def test_each_target_and_architecture_has_its_own_deployment_file() -> None:
    names = {
        infra_path(Path(f"dist/shop-{target}-{arch}.zip"), target)
        for target, arch in [
            ("aws-lambda", "x86_64"),
            ("aws-lambda", "arm64"),
            ("aliyun-fc", "x86_64"),
        ]
    }
    assert names == {
        Path("dist/shop-aws-lambda-x86_64.template.yaml"),
        Path("dist/shop-aws-lambda-arm64.template.yaml"),
        Path("dist/shop-aliyun-fc-x86_64.s.yaml"),
    }
    assert infra_path(Path("dist/shop-gcp-x86_64.zip"), "gcp") is None


def test_the_readme_deploy_commands_name_the_files_sff_package_writes() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    deploy = readme[readme.index("## Deploy") :]
    for target, arch in (("aws-lambda", "x86_64"), ("aliyun-fc", "x86_64")):
        path = infra_path(Path(f"<project>-{target}-{arch}.zip"), target)
        assert path is not None and path.name in deploy
    assert "--template-file <project>-aws-lambda-x86_64.template.yaml" in deploy
    assert "s deploy -y -t <project>-aliyun-fc-x86_64.s.yaml" in deploy
    for option in ("http-api", "function-url", "alb"):
        assert f"`{option}`" in deploy
    assert "UsersApi" in deploy and "SffCorsOrigins" in sam(CORS)["Parameters"]
