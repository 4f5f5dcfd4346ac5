"""Deploy packaging: one zip per project for AWS Lambda, Alibaba Cloud Function Compute 3.0
or Google Cloud Functions, plus the platform's infrastructure file.

A CLI-only layer: nothing on a handler's import path imports it.

    report = build_package(".", [PackagedFunction("hello", "functions.hello.handler")],
                           target="aws-lambda", out_dir="dist", progress=print)
    print(report.format())
"""

from sff.packaging._build import PackagingError, build_package, find_interpreter
from sff.packaging._infra import PackagedFunction
from sff.packaging._report import PackageReport
from sff.packaging._targets import TARGETS, Arch, SizeLimit, Target, TargetName

__all__ = [
    "TARGETS",
    "Arch",
    "PackageReport",
    "PackagedFunction",
    "PackagingError",
    "SizeLimit",
    "Target",
    "TargetName",
    "build_package",
    "find_interpreter",
]
