"""`sff package` ships the project modules the functions import, and refuses a function that
imports one it would not ship (a ModuleNotFoundError at the first cold start otherwise)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sff.packaging._local import LocalImportError, top_levels

SHOP = Path(__file__).parent / "fixtures" / "shop"


def test_imports_are_followed_to_the_helper_package_and_nothing_else() -> None:
    assert top_levels(SHOP, ["functions.product"]) == ["contracts", "functions", "services"]


def test_include_adds_a_package_only_imported_dynamically() -> None:
    shipped = top_levels(SHOP, ["functions.product"], include=["scripts"])
    assert shipped == ["contracts", "functions", "scripts", "services"]


def test_a_relative_import_stays_in_its_package(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(SHOP, root)
    (root / "functions" / "product.py").write_text("from .shared import x\nimport json\n")
    (root / "functions" / "shared.py").write_text("from services.money import format_cents\n")
    assert top_levels(root, ["functions.product"]) == ["functions", "services"]


def test_importing_a_test_helper_names_the_module_and_the_importing_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(SHOP, root)
    pricing = root / "services" / "pricing.py"
    pricing.write_text(pricing.read_text() + "from tests.helpers import SAMPLE\n")
    with pytest.raises(LocalImportError) as failure:
        top_levels(root, ["functions.product"])
    message = str(failure.value)
    assert message.startswith("services/pricing.py:8 imports tests.helpers")
    assert "tests/ is never shipped" in message


def test_sff_package_exits_1_naming_an_unshipped_module_and_its_importer(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root)
    product = root / "functions" / "product.py"
    product.write_text(product.read_text() + "from tests.helpers import SAMPLE  # noqa\n")
    sff = shutil.which("sff", path=str(Path(sys.executable).parent)) or "sff"

    # A process of its own: this test run has a `tests` package of its own imported.
    done = subprocess.run(
        [sff, "package", "--all", "--target", "aws-lambda", "--out", str(root / "dist")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    assert "functions/product.py:28 imports tests.helpers" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "dist").exists()  # refused before anything was built
