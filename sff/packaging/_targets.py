"""What each FaaS platform accepts: Python runtimes, CPU architectures and code-size limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TargetName = Literal["aws-lambda", "aliyun-fc", "gcp"]
Arch = Literal["x86_64", "arm64"]

MB = 1024 * 1024

# pip's manylinux tag per architecture. manylinux2014 (glibc 2.17) loads on every runtime
# image of the three platforms, including Lambda's Amazon Linux 2 based python3.9-3.11.
PIP_PLATFORM: dict[Arch, str] = {
    "x86_64": "manylinux2014_x86_64",
    "arm64": "manylinux2014_aarch64",
}


@dataclass(frozen=True)
class SizeLimit:
    what: str  # "zipped" or "unzipped"
    max_bytes: int
    label: str


@dataclass(frozen=True)
class Target:
    name: TargetName
    pythons: tuple[str, ...]
    archs: tuple[Arch, ...]
    limits: tuple[SizeLimit, ...]
    code_root: str  # where the platform unpacks the zip: the path tracebacks name


TARGETS: dict[TargetName, Target] = {
    # Lambda blocked creating python3.9 functions on 2026-06-01 and python3.10/3.11 ones on
    # 2026-07-31 (the runtime lifecycle data cfn-lint ships flags them as errors).
    "aws-lambda": Target(
        "aws-lambda",
        pythons=("3.12", "3.13", "3.14"),
        archs=("x86_64", "arm64"),
        limits=(
            SizeLimit("zipped", 50 * MB, "Lambda direct upload (larger zips must go through S3)"),
            SizeLimit("unzipped", 250 * MB, "Lambda unzipped deployment package"),
        ),
        code_root="/var/task",
    ),
    # The fc3 component schema's runtime enum lists python3.9, python3.10 and python3.12
    # (plain "python3" is the legacy 3.6 runtime); Function Compute runs them on x86_64 only.
    "aliyun-fc": Target(
        "aliyun-fc",
        pythons=("3.9", "3.10", "3.12"),
        archs=("x86_64",),
        limits=(
            SizeLimit("zipped", 100 * MB, "FC3 code package uploaded through SDK/OpenAPI"),
            SizeLimit("zipped", 500 * MB, "FC3 code package uploaded by Serverless Devs or OSS"),
        ),
        code_root="/code",
    ),
    # Cloud Run functions' GA Python runtimes: python310 ... python314.
    "gcp": Target(
        "gcp",
        pythons=("3.10", "3.11", "3.12", "3.13", "3.14"),
        archs=("x86_64",),
        limits=(
            SizeLimit("zipped", 100 * MB, "Cloud Functions source upload through the API"),
            SizeLimit("unzipped", 500 * MB, "Cloud Functions unzipped source and modules"),
        ),
        code_root="/workspace",
    ),
}
