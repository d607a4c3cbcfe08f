"""What a deployment asks AWS before it changes anything: is the endpoint there, is the bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class EndpointExists(Exception):
    """A deployment would replace an endpoint that is there already."""


class BucketMissing(Exception):
    """The bucket asked for is not there, or not this account's."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError (empty for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def endpoint_status(sagemaker: Any, name: str) -> str | None:
    """The status of the endpoint called ``name``, or None when there is none."""
    try:
        found = sagemaker.describe_endpoint(EndpointName=name)
    except Exception as exc:
        # SageMaker answers a missing endpoint with a ValidationException ("Could not find endpoint").
        if error_code(exc) in ("ValidationException", "ResourceNotFound"):
            return None
        raise
    return str(found.get("EndpointStatus", "status unknown"))


def bucket_exists(s3: Any, bucket: str, *, forbidden_is_missing: bool = False) -> bool:
    """Whether the bucket is there; a 403 (another account's bucket) counts as missing if asked."""
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound") or (forbidden_is_missing and code == "403"):
            return False
        raise
    return True


def ensure_bucket(s3: Any, bucket: str, region: str | None, echo: Callable[[str], None]) -> None:
    """Create SageMaker's default bucket for the account and region if it does not exist yet."""
    if bucket_exists(s3, bucket):
        return
    echo(f"creating the bucket {bucket}")
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **where)
