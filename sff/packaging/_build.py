"""Build one deployable package for a FaaS platform: stage, install, compile, strip, zip,
and write the platform's deployment file next to the zip."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sff.packaging._archive import PycMode, compile_tree, strip, write_zip
from sff.packaging._fc import s_yaml
from sff.packaging._infra import TRIGGERS, Deploy, PackagedFunction, gcp_main
from sff.packaging._report import PackageReport
from sff.packaging._sam import sam_template
from sff.packaging._stage import (
    PackagingError,
    copy_project,
    pip_install,
    project_modules,
    project_requirements,
    pyproject,
    sff_min_python,
    stage_sff,
)
from sff.packaging._targets import PIP_PLATFORM, TARGETS, Arch, Target, TargetName


def _silent(_: str) -> None:
    return None


def build_package(
    root: str | os.PathLike[str],
    functions: Sequence[PackagedFunction],
    *,
    target: TargetName,
    arch: Arch = "x86_64",
    python: str | None = None,
    out_dir: str | os.PathLike[str],
    progress: Callable[[str], None] = _silent,
    name: str | None = None,
    region: str = "cn-hangzhou",
    pyc: PycMode = "pycache",
    deploy: Deploy | None = None,
) -> PackageReport:
    """Build `<name>-<target>-<arch>.zip` in `out_dir` holding the project's modules that
    the functions import (see `_local`), sff and its dependencies for the target's Linux,
    plus the platform's deployment file beside it (`<zip stem>.template.yaml` for SAM,
    `<zip stem>.s.yaml` for Serverless Devs) or a `main.py` inside the zip for Google Cloud
    Functions. One zip serves every function; two builds of one tree are byte-identical."""
    started = time.monotonic()
    project_root = Path(root).resolve()
    spec = _target(target, arch)
    version = _python_version(spec, python)
    deploy = _deploy(spec, deploy or Deploy())
    if not functions:
        raise PackagingError("no functions to package")
    project = _project_name(project_root, name)
    out = Path(out_dir).resolve()
    modules = project_modules(project_root, [fn.module for fn in functions], out)
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / f"{project}-{target}-{arch}.zip"
    warnings: list[str] = []

    with tempfile.TemporaryDirectory(prefix="sff-package-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        requirements = stage_sff(stage, progress) + project_requirements(project_root)
        progress(
            f"installing {len(requirements)} requirement(s) for {PIP_PLATFORM[arch]}, "
            f"cp{version.replace('.', '')}…"
        )
        pip_install(requirements, stage, arch=arch, python=version)
        copy_project(project_root, stage, modules)
        _check_handlers(stage, functions)
        if target == "gcp":
            (stage / "main.py").write_text(gcp_main(functions), encoding="utf-8")
            (stage / "requirements.txt").write_text("functions-framework\n", encoding="utf-8")
        strip(stage)
        pyc_note = compile_tree(stage, version, pyc, progress, warnings, code_root=spec.code_root)
        progress(f"zipping {zip_path.name}…")
        files, unzipped = write_zip(stage, zip_path)

    infra = _write_infra(spec, functions, zip_path, project, version, arch, region, deploy)
    report = PackageReport(
        target=target,
        arch=arch,
        python=version,
        zip_path=zip_path,
        infra_files=tuple(infra),
        functions=tuple(functions),
        file_count=files,
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=unzipped,
        limits=spec.limits,
        pyc=pyc_note,
        warnings=tuple(warnings),
        elapsed_s=time.monotonic() - started,
        modules=tuple(modules),
    )
    progress(report.size_line())
    return report


def _target(target: str, arch: str) -> Target:
    if target not in TARGETS:
        raise PackagingError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    spec = TARGETS[target]
    if arch not in spec.archs:
        raise PackagingError(f"{target} runs Python on {', '.join(spec.archs)} only, not {arch!r}")
    return spec


def _deploy(spec: Target, deploy: Deploy) -> Deploy:
    if deploy.trigger not in TRIGGERS:
        raise PackagingError(f"unknown trigger {deploy.trigger!r}; choose one of {TRIGGERS}")
    if deploy.trigger != "http-api" and spec.name != "aws-lambda":
        raise PackagingError(f"--trigger {deploy.trigger} is for aws-lambda, not {spec.name}")
    return deploy


def _python_version(spec: Target, python: str | None) -> str:
    version = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    origin = "requested" if python else "running interpreter's"
    if version not in spec.pythons:
        raise PackagingError(
            f"{spec.name} has no python{version} runtime (the {origin} version); "
            f"supported: {', '.join(spec.pythons)} — pass python=... / --python"
        )
    minimum = sff_min_python()
    if tuple(int(part) for part in version.split(".")) < minimum:
        raise PackagingError(
            f"sff needs Python >= {'.'.join(map(str, minimum))}, not {version} "
            f"(the {origin} version)"
        )
    return version


def _project_name(root: Path, name: str | None) -> str:
    if name:
        return name
    declared = pyproject(root).get("project", {}).get("name")
    return declared if isinstance(declared, str) and declared else root.name


def _check_handlers(stage: Path, functions: Sequence[PackagedFunction]) -> None:
    for fn in functions:
        path = stage.joinpath(*fn.module.split("."))
        if not (path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()):
            raise PackagingError(
                f"function {fn.name}: handler module {fn.module} is not in the package "
                f"(looked for {path.relative_to(stage)}.py)"
            )


def infra_path(zip_path: Path, target: str) -> Path | None:
    """The deployment file of a zip: one per target and architecture, never shared."""
    suffix = {"aws-lambda": ".template.yaml", "aliyun-fc": ".s.yaml"}.get(target)
    return None if suffix is None else zip_path.with_name(zip_path.stem + suffix)


def _write_infra(
    spec: Target,
    functions: Sequence[PackagedFunction],
    zip_path: Path,
    project: str,
    version: str,
    arch: Arch,
    region: str,
    deploy: Deploy,
) -> list[Path]:
    path = infra_path(zip_path, spec.name)
    if path is None:
        return []
    if spec.name == "aws-lambda":
        text = sam_template(
            functions, code_uri=zip_path.name, python=version, arch=arch, deploy=deploy
        )
    else:
        code = f"./{zip_path.name}"
        text = s_yaml(
            functions, project=project, code=code, python=version, region=region, deploy=deploy
        )
    path.write_text(text, "utf-8")
    return [path]
