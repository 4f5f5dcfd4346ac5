"""What the FaaS platform says about the instance, as semantic-convention attributes.

Only what the platform's own environment variables state: a region the platform does not
publish (Cloud Run, Cloud Functions gen 2) is left out rather than guessed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def attributes(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``cloud.*`` and ``faas.*`` attributes of this instance ({} off a FaaS platform)."""
    env = os.environ if env is None else env
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return _present(
            {
                "cloud.provider": "aws",
                "cloud.platform": "aws_lambda",
                "cloud.region": env.get("AWS_REGION"),
                "faas.name": env.get("AWS_LAMBDA_FUNCTION_NAME"),
                "faas.version": env.get("AWS_LAMBDA_FUNCTION_VERSION"),
                "faas.instance": env.get("AWS_LAMBDA_LOG_STREAM_NAME"),
                "faas.max_memory": _mib(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")),
            }
        )
    if env.get("FC_FUNCTION_NAME"):
        return _present(
            {
                "cloud.provider": "alibaba_cloud",
                "cloud.platform": "alibaba_cloud_fc",
                "cloud.region": env.get("FC_REGION"),
                "cloud.account.id": env.get("FC_ACCOUNT_ID"),
                "faas.name": env.get("FC_FUNCTION_NAME"),
                "faas.instance": env.get("FC_INSTANCE_ID"),
                "faas.max_memory": _mib(env.get("FC_FUNCTION_MEMORY_SIZE")),
            }
        )
    if env.get("FUNCTION_TARGET") or env.get("K_SERVICE"):
        functions = bool(env.get("FUNCTION_TARGET"))
        return _present(
            {
                "cloud.provider": "gcp",
                "cloud.platform": "gcp_cloud_functions" if functions else "gcp_cloud_run",
                "cloud.region": env.get("FUNCTION_REGION"),  # only older runtimes say
                "faas.name": env.get("K_SERVICE") or env.get("FUNCTION_NAME"),
                "faas.version": env.get("K_REVISION"),
            }
        )
    return {}


def _mib(value: str | None) -> int | None:
    """A memory size in MiB as the bytes ``faas.max_memory`` counts."""
    return int(value) * 1024 * 1024 if value and value.isdigit() else None


def _present(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v is not None and v != ""}
