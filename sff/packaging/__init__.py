"""Deploy packaging: one zip per project for AWS Lambda, Alibaba Cloud Function Compute 3.0
or Google Cloud Functions, plus the platform's infrastructure file.

A CLI-only layer: nothing on a handler's import path imports it.

    report = build_package(".", [PackagedFunction("hello", "functions.hello.handler")],
                           target="aws-lambda", out_dir="dist", progress=print)
    print(report.format())
"""

from sff.packaging._archive import find_interpreter
from sff.packaging._build import build_package
from sff.packaging._infra import TRIGGERS, Deploy, PackagedFunction, Trigger
from sff.packaging._report import PackageReport
from sff.packaging._stage import PackagingError, UnshippedModule
from sff.packaging._targets import TARGETS, Arch, SizeLimit, Target, TargetName

__all__ = [
    "TARGETS",
    "TRIGGERS",
    "Arch",
    "Deploy",
    "PackageReport",
    "PackagedFunction",
    "PackagingError",
    "SizeLimit",
    "Target",
    "TargetName",
    "Trigger",
    "UnshippedModule",
    "build_package",
    "find_interpreter",
]
