"""Run one of the page handlers once in this process (or none: ``-``), print the peak RSS in KiB."""

from __future__ import annotations

import importlib
import sys

from benchmarks.apps._peak import peak_kib

if __name__ == "__main__":
    if sys.argv[1] != "-":
        module = importlib.import_module(f"benchmarks.apps.{sys.argv[1]}")
        assert module.handler({}, None)["statusCode"] == 200
    print(peak_kib())
