"""The Serverless Devs 3.x ``s.yaml``: one fc3 resource with an anonymous HTTP trigger per
function. The trigger lets through the function's method (and OPTIONS when sff answers
CORS preflights); resident mode names sff's instance lifecycle hooks."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sff.packaging._infra import GENERATED, Deploy, PackagedFunction, platform_timeout
from sff.packaging._yaml import YamlValue, dump

INITIALIZER = "sff.adapters.aliyun_fc.initializer"
PRE_STOP = "sff.adapters.aliyun_fc.pre_stop"
HOOK_TIMEOUT_S = 10


def _fc_memory(memory_mb: int) -> int:
    # The fc3 schema wants a multiple of 64 between 128 and 32768.
    return min(32768, max(128, math.ceil(memory_mb / 64) * 64))


def _fc_env_value(var: str, default: str) -> str:
    # No default: Serverless Devs reads the deployer's shell at `s deploy`.
    return default if default else "${env('" + var + "')}"


def s_yaml(
    functions: Sequence[PackagedFunction],
    *,
    project: str,
    code: str,
    python: str,
    region: str,
    access: str = "default",
    deploy: Deploy | None = None,
) -> str:
    deploy = deploy or Deploy()
    resources: dict[str, YamlValue] = {}
    for fn in functions:
        props: dict[str, YamlValue] = {
            "region": region,
            "functionName": fn.name,
            "description": f"sff function {fn.name} ({fn.method.upper()} {fn.route})",
            "runtime": f"python{python}",
            "code": code,
            "handler": fn.handler,
            "memorySize": _fc_memory(fn.memory_mb),
            "timeout": platform_timeout(fn),
            # One request per instance: sff's runtime runs one invocation at a time.
            "instanceConcurrency": 1,
        }
        env = {var: _fc_env_value(var, default) for var, default in fn.env.items()}
        env.update(deploy.extra_env())
        if env:
            props["environmentVariables"] = {var: env[var] for var in sorted(env)}
        if deploy.resident:
            props["instanceLifecycleConfig"] = {
                "initializer": {"handler": INITIALIZER, "timeout": HOOK_TIMEOUT_S},
                "preStop": {"handler": PRE_STOP, "timeout": HOOK_TIMEOUT_S},
            }
        props["triggers"] = [
            {
                "triggerName": "http",
                "triggerType": "http",
                "triggerConfig": {"authType": "anonymous", "methods": deploy.methods(fn)},
            }
        ]
        resources[fn.name] = {"component": "fc3", "props": props}
    document: dict[str, YamlValue] = {
        "edition": "3.0.0",
        "name": project,
        "access": access,
        "resources": resources,
    }
    return dump(document, GENERATED)
