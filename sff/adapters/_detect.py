"""Which adapter an event belongs to, by explicit markers only.

=====================================  ==============================================
marker                                 adapter
=====================================  ==============================================
``version: "v1"`` + ``rawPath`` +      ``aliyun_fc`` (FC 3.0 HTTP trigger; bytes on FC)
``requestContext``
``requestContext.elb``                 ``aws_lambda`` (ALB)
``requestContext.http``                ``aws_lambda`` (HTTP API v2, Function URL)
``httpMethod`` + ``requestContext``    ``aws_lambda`` (API Gateway REST v1)
a known non-HTTP event (SQS, ...)      rejected: 400 naming what it looks like
anything else                          ``direct``: the event is the input
=====================================  ==============================================
"""

from __future__ import annotations

import json
from typing import Any

from sff.adapters._errors import UnsupportedEvent
from sff.errors import InputError

RECORD_SOURCES = {
    "aws:sqs": "SQS",
    "aws:sns": "SNS",
    "aws:s3": "S3",
    "aws:dynamodb": "DynamoDB Streams",
    "aws:kinesis": "Kinesis",
    "aws:ses": "SES",
}
HTTP_KEYS = ("httpMethod", "rawPath", "requestContext")


def parse(event: Any) -> Any:
    """Bytes (how FC 3.0 hands over every event) or a JSON string become data."""
    if isinstance(event, bytes | bytearray):
        event = event.decode("utf-8", "replace")
    if isinstance(event, str):
        try:
            return json.loads(event) if event.strip() else {}
        except ValueError as exc:
            raise InputError(f"event is not valid JSON: {exc}", field="(body)") from None
    return event


def platform_of(event: Any) -> str:
    """The adapter module's name for a parsed event, or UnsupportedEvent."""
    if not isinstance(event, dict):
        return "direct"
    context = event.get("requestContext")
    if isinstance(context, dict):
        if event.get("version") == "v1" and "rawPath" in event:
            return "aliyun_fc"
        if "elb" in context or "http" in context or "httpMethod" in event:
            return "aws_lambda"
    looks_like = non_http_kind(event)
    if looks_like:
        raise UnsupportedEvent(f"unsupported event: looks like {looks_like}", received=looks_like)
    partial = [k for k in HTTP_KEYS if k in event]
    if partial:
        raise UnsupportedEvent(
            f"unsupported event: has {', '.join(partial)} like an HTTP event, but no "
            "known platform's markers (requestContext.http, requestContext.elb, "
            "httpMethod + requestContext, or version v1 + rawPath)",
            keys=sorted(event)[:20],
        )
    return "direct"


def non_http_kind(event: dict[str, Any]) -> str | None:
    """What a known non-HTTP event looks like, in words naming the marker."""
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        key = "eventSource" if "eventSource" in first else "EventSource"
        source = str(first.get(key, ""))[:60]
        name = RECORD_SOURCES.get(source, "an event-source batch")
        return f"{name} (Records[].{key}={source})"
    if "detail-type" in event and "source" in event:
        detail = str(event["detail-type"])[:80]
        return f"EventBridge (detail-type={detail!r}, source={str(event['source'])[:60]})"
    if "awslogs" in event:
        return "CloudWatch Logs (awslogs)"
    if "triggerTime" in event and "triggerName" in event:
        return "a Function Compute timer trigger (triggerName, triggerTime)"
    events = event.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        origin = events[0].get("eventSource")
        if isinstance(origin, str) and origin.startswith("acs:"):
            name = origin[4:].upper()[:40]
            return f"an Alibaba Cloud {name} trigger (events[].eventSource={origin[:60]})"
    return None
