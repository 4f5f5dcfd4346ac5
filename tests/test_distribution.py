"""sff is distributed as `serverless-for-frontend` (the index's `sff` is another project):
the packaging metadata, the README and every project `sff new` makes say so, and a new
project installs from this checkout with the one command its README gives."""

from __future__ import annotations

import re
import subprocess
import tomllib
import venv
from pathlib import Path

from sff import distribution
from sff.scaffold import create_project, install_command

ROOT = Path(__file__).resolve().parents[1]


def test_the_distribution_name_is_ours_and_the_import_name_stays_sff() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["name"] == distribution.NAME == "serverless-for-frontend"
    assert project["scripts"] == {"sff": "sff.cli:main"}
    assert distribution.checkout() == ROOT


def test_the_readme_never_installs_the_other_sff() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert not re.search(r"pip install [\"']?sff\b", readme)
    for extra in ("asgi", "redis", "testing"):
        assert f'pip install "serverless-for-frontend[{extra}]"' in readme


def test_a_new_project_depends_on_the_distribution_and_documents_its_install(
    tmp_path: Path,
) -> None:
    create_project(tmp_path / "shop")
    pyproject = tomllib.loads((tmp_path / "shop" / "pyproject.toml").read_text("utf-8"))
    readme = (tmp_path / "shop" / "README.md").read_text("utf-8")

    assert pyproject["project"]["dependencies"] == ["serverless-for-frontend"]
    assert install_command() == f'pip install -e {ROOT} -e ".[test]"'
    assert install_command() in readme


def test_a_new_project_installs_in_a_fresh_venv_from_this_checkout_and_passes(
    tmp_path: Path,
) -> None:
    create_project(tmp_path / "shop")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    readme = (tmp_path / "shop" / "README.md").read_text("utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("pip install"))

    def run(*args: str, shell: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args[0] if shell else list(args),
            shell=shell,
            cwd=tmp_path / "shop",
            capture_output=True,
            text=True,
            timeout=600,
            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(Path.home())},
            check=False,
        )

    installed = run(f"{bin_dir}/{command} -q --disable-pip-version-check", shell=True)
    assert installed.returncode == 0, installed.stderr[-2000:]
    probe = run(
        str(bin_dir / "python"),
        "-c",
        "import sff, importlib.metadata as m; print(sff.__file__);"
        "print(m.version('serverless-for-frontend'));"
        "print([d.metadata['Name'] for d in m.distributions() if d.metadata['Name'] == 'sff'])",
    )
    where, version, others = probe.stdout.splitlines()
    assert Path(where).is_relative_to(ROOT)  # this checkout, not the index's `sff`
    assert version == "0.1.0" and others == "[]"
    tests = run(str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout[-2000:]
    assert "6 passed" in tests.stdout  # its 4 tests and the 2 cells of the degradation matrix
