"""The AWS SAM template: one function per declaration, behind the chosen trigger.

- ``http-api``: an HTTP API route per function (method + route; API Gateway fills the path
  parameters), plus an OPTIONS route when sff answers CORS preflights.
- ``function-url``: a Function URL per function (no routing: sff matches the route).
- ``alb``: one internet-facing Application Load Balancer in the VPC and subnets given at
  deploy, a listener rule per route forwarding to the function's target group.

Every environment variable is a template parameter (``USERS_API`` -> ``UsersApi``); one
without a declared default has no ``Default``, so a deploy that does not set it fails
instead of answering 502 at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sff.packaging._infra import (
    GENERATED,
    Deploy,
    PackagedFunction,
    camel,
    logical_ids,
    platform_timeout,
)
from sff.packaging._yaml import YamlValue, dump

Doc = dict[str, YamlValue]


def sam_template(
    functions: Sequence[PackagedFunction],
    *,
    code_uri: str,
    python: str,
    arch: str,
    deploy: Deploy | None = None,
) -> str:
    deploy = deploy or Deploy()
    ids = logical_ids(functions)
    parameters, param_of = _parameters(functions, deploy)
    resources: Doc = {}
    outputs: Doc = {}
    for fn in functions:
        props: Doc = {
            "Runtime": f"python{python}",
            "Handler": fn.handler,
            "CodeUri": code_uri,
            "Architectures": [arch],
            "Timeout": platform_timeout(fn),
            "MemorySize": fn.memory_mb,
        }
        names = sorted({*fn.env, *deploy.extra_env()})
        if names:
            props["Environment"] = {"Variables": {v: {"Ref": param_of[v]} for v in names}}
        if deploy.trigger == "http-api":
            props["Events"] = _http_api_events(fn, deploy)
        elif deploy.trigger == "function-url":
            props["FunctionUrlConfig"] = {"AuthType": "NONE"}
            outputs[f"{ids[fn.name]}Url"] = {
                "Description": f"Function URL of {fn.name} ({fn.method.upper()} {fn.route})",
                "Value": {"Fn::GetAtt": [f"{ids[fn.name]}Url", "FunctionUrl"]},
            }
        resources[ids[fn.name]] = {"Type": "AWS::Serverless::Function", "Properties": props}
    if deploy.trigger == "alb":
        parameters.update(_ALB_PARAMETERS)
        resources.update(_alb(functions, ids, deploy))
        outputs["AlbUrl"] = {
            "Description": "Base URL of the load balancer",
            "Value": {"Fn::Sub": "http://${LoadBalancer.DNSName}/"},
        }
    elif deploy.trigger == "http-api":
        outputs["ApiUrl"] = {
            "Description": "Base URL of the HTTP API",
            "Value": {
                "Fn::Sub": "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
            },
        }
    template: Doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"sff orchestration functions ({deploy.trigger})",
    }
    if parameters:
        template["Parameters"] = parameters
    template["Resources"] = resources
    template["Outputs"] = outputs
    return dump(template, GENERATED)


def _parameters(
    functions: Sequence[PackagedFunction], deploy: Deploy
) -> tuple[Doc, dict[str, str]]:
    declared: dict[str, str] = dict(deploy.extra_env())
    for fn in functions:
        for var, default in fn.env.items():
            declared.setdefault(var, default)
    parameters: Doc = {}
    param_of: dict[str, str] = {}
    for var in sorted(declared):
        param_of[var] = camel(var) or "Env"
        spec: Doc = {"Type": "String"}
        if declared[var]:
            spec["Default"] = declared[var]
        else:
            spec["MinLength"] = 1  # required: an empty override is refused too
        spec["Description"] = f"Value of the {var} environment variable"
        parameters[param_of[var]] = spec
    return parameters, param_of


def _http_api_events(fn: PackagedFunction, deploy: Deploy) -> Doc:
    events: Doc = {}
    for method in deploy.methods(fn):
        name = "Http" if method == fn.method.upper() else f"Http{method.title()}"
        events[name] = {"Type": "HttpApi", "Properties": {"Path": fn.route, "Method": method}}
    return events


_ALB_PARAMETERS: Doc = {
    "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "VPC of the load balancer"},
    "SubnetIds": {
        "Type": "List<AWS::EC2::Subnet::Id>",
        "Description": "Two or more subnets in different zones, for the load balancer",
    },
}
_NOT_FOUND = json.dumps(
    {"error": {"code": "not_found", "message": "no function at this path"}}, separators=(",", ":")
)


def alb_path_pattern(route: str) -> str:
    """``/products/{product_id}`` -> ``/products/*``: the ALB forwards, sff matches exactly."""
    return re.sub(r"\{[^}]+\}", "*", route)


def _alb(functions: Sequence[PackagedFunction], ids: dict[str, str], deploy: Deploy) -> Doc:
    resources: Doc = {
        "LoadBalancerSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "HTTP to the sff load balancer",
                "VpcId": {"Ref": "VpcId"},
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}
                ],
            },
        },
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "application",
                "Scheme": "internet-facing",
                "Subnets": {"Ref": "SubnetIds"},
                "SecurityGroups": [{"Ref": "LoadBalancerSecurityGroup"}],
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": {"Ref": "LoadBalancer"},
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [
                    {
                        "Type": "fixed-response",
                        "FixedResponseConfig": {
                            "StatusCode": "404",
                            "ContentType": "application/json",
                            "MessageBody": _NOT_FOUND,
                        },
                    }
                ],
            },
        },
    }
    # Literal routes before parameterised ones: `/products/featured` wins over `/products/*`.
    ordered = sorted(functions, key=lambda f: (f.route.count("{"), -len(f.route), f.name))
    for priority, fn in enumerate(ordered, start=1):
        base = ids[fn.name]
        resources[f"{base}AlbPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": [base, "Arn"]},
                "Principal": "elasticloadbalancing.amazonaws.com",
            },
        }
        resources[f"{base}TargetGroup"] = {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "DependsOn": f"{base}AlbPermission",
            "Properties": {
                "TargetType": "lambda",
                "Targets": [{"Id": {"Fn::GetAtt": [base, "Arn"]}}],
            },
        }
        resources[f"{base}ListenerRule"] = {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": {"Ref": "Listener"},
                "Priority": priority,
                "Conditions": [
                    {
                        "Field": "path-pattern",
                        "PathPatternConfig": {"Values": [alb_path_pattern(fn.route)]},
                    },
                    {
                        "Field": "http-request-method",
                        "HttpRequestMethodConfig": {"Values": deploy.methods(fn)},
                    },
                ],
                "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": f"{base}TargetGroup"}}],
            },
        }
    return resources
