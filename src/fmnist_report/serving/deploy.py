"""Deploy an export to a SageMaker real-time endpoint running the TensorFlow Serving container.

Plain boto3 calls, imported only when a deployment really runs: upload model.tar.gz to S3,
``create_model``, ``create_endpoint_config``, ``create_endpoint``, then wait for the endpoint.
boto3 is the optional extra ``deploy``; the SageMaker Python SDK is not used, so deploying
never changes the versions of the packages the study runs on. A plan validates every
argument and lists everything that stands in the way before anything is touched; a dry run
is the plan alone.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist_report.errors import ConfigError, ModelError, UserError
from fmnist_report.json_types import JSON
from fmnist_report.serving import containers
from fmnist_report.serving.artifacts import TARBALL, read_metadata, verify_artifact
from fmnist_report.serving.aws_checks import (
    BucketMissing,
    EndpointExists,
    bucket_exists,
    endpoint_status,
    ensure_bucket,
)

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_S3_PREFIX = "fmnist-report/model"
# No square brackets: the CLI prints some messages as rich markup, which would swallow "[deploy]".
INSTALL_HINT = "pip install 'boto3>=1.34', the extra named deploy"
#: How long to wait for the endpoint to come into service: 60 polls, 30 s apart.
WAIT_DELAY_S, WAIT_ATTEMPTS = 30, 60

_RULES: dict[str, tuple[str, str]] = {
    "role": (
        r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}",
        "an IAM role ARN such as arn:aws:iam::123456789012:role/SageMakerExecutionRole",
    ),
    "bucket": (
        r"(?!xn--)(?!.*\.\.)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens), without s3:// or a path",
    ),
    "endpoint_name": (
        r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        "1-63 letters, digits and hyphens, starting with a letter or digit",
    ),
    "region": (r"[a-z]{2}(-[a-z]+)+-\d", "an AWS region such as eu-west-1"),
}


class DeployError(ConfigError):
    """Arguments that cannot be deployed; each problem is one line naming its fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def argument_problems(**values: str | None) -> list[str]:
    """Every way the given arguments are wrong, one line each; empty when they are all right."""
    problems = []
    for name, value in values.items():
        if value is None or name not in _RULES:
            continue
        pattern, allowed = _RULES[name]
        if not re.fullmatch(pattern, value):
            problems.append(f"--{name.replace('_', '-')} must be {allowed}, got {value!r}")
    bucket = values.get("bucket")
    if bucket and _is_ip(bucket):
        problems.append(f"--bucket must be a bucket name, not an IP address, got {bucket!r}")
    prefix = values.get("s3_prefix")
    if prefix is not None:
        problems += _prefix_problems(prefix)
    return problems


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _prefix_problems(prefix: str) -> list[str]:
    fix = "use a plain key prefix such as fmnist-report/model"
    if len(prefix) > 900:
        return [f"--s3-prefix is {len(prefix)} characters long; {fix}"]
    if not re.fullmatch(r"[\w!.*'()=+/-]*", prefix):
        return [f"--s3-prefix {prefix!r} holds characters other than letters, digits and !-_.*'()/=+; {fix}"]
    segments = prefix.strip("/").split("/") if prefix.strip("/") else []
    if any(part in ("", ".", "..") for part in segments):
        return [f"--s3-prefix {prefix!r} has an empty, '.' or '..' segment; {fix}"]
    return []


@dataclass(frozen=True)
class DeployPlan:
    """Everything a deployment will do, decided before anything is touched."""

    tarball: Path
    sha256: str
    endpoint_name: str
    model_name: str
    instance_type: str
    framework_version: str | None  # None when --image-uri names the image
    s3_prefix: str
    image_uri: str | None
    region: str | None = None
    bucket: str | None = None
    role: str | None = None
    exported_with: str | None = None

    @property
    def s3_key(self) -> str:
        # The export's checksum in the key: a later export never overwrites the model data of
        # an endpoint in service, which SageMaker reads again whenever it starts an instance.
        return "/".join(p for p in (self.s3_prefix, self.sha256[:12], TARBALL) if p)

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket or '<default bucket sagemaker-REGION-ACCOUNT>'}/{self.s3_key}"

    def steps(self) -> list[str]:
        region = self.region or "<region: pass --region or set AWS_REGION>"
        role = self.role or "<role: pass --role>"
        image = self.image_uri or "<image: needs a region this tool knows, or --image-uri>"
        return [
            f"upload {self.tarball} (sha256 {self.sha256[:12]}…, verified against metadata.json) "
            f"to {self.s3_uri} in {region}",
            f"create the SageMaker model {self.model_name} from it with the image {image}, execution role {role}",
            f"create the endpoint configuration {self.model_name}: 1 x {self.instance_type}",
            f"create the endpoint {self.endpoint_name} and wait until it is in service (several minutes)",
        ]

    def notes(self) -> list[str]:
        exported, chosen = self.exported_with, self.framework_version
        # The default image is the one that serves the export; only an older choice earns a note.
        if (
            exported
            and chosen
            and containers.minor(chosen) < containers.minor(containers.image_version_for(exported))
        ):
            return [
                f"the SavedModel was written by TensorFlow {exported} and will run on TF Serving "
                f"{self.framework_version}, older than the {containers.image_version_for(exported)} image that "
                "serves it; invoke the endpoint once before relying on it"
            ]
        return []


def default_region() -> str | None:
    """The region boto3 would use: its session (profile/config) or the AWS_* variables."""
    if importlib.util.find_spec("boto3") is not None:
        try:
            import boto3

            region = boto3.Session().region_name
            if region:
                return region
        except Exception:  # a broken AWS config file: fall back to the environment
            pass
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def installed_tensorflow() -> str | None:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def plan_deployment(
    model_dir: Path,
    *,
    role: str | None = None,
    bucket: str | None = None,
    s3_prefix: str = DEFAULT_S3_PREFIX,
    endpoint_name: str | None = None,
    region: str | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    framework_version: str | None = None,
    image_uri: str | None = None,
    now: dt.datetime | None = None,
) -> DeployPlan:
    """Validate the export and every argument, and decide the names. Touches nothing remote.

    Raises `DeployError` listing every invalid argument at once.
    """
    region = region or default_region()
    problems = argument_problems(
        role=role, bucket=bucket, s3_prefix=s3_prefix, endpoint_name=endpoint_name, region=region
    )
    checks = [containers.instance_problem(instance_type)]
    if framework_version is not None and image_uri is not None:
        checks.append("pass --framework-version or --image-uri, not both: the image URI names its version")
    elif framework_version is not None:
        checks.append(containers.version_problem(framework_version))
    elif image_uri is not None:
        checks.append(containers.image_uri_problem(image_uri))
    problems += [p for p in checks if p]
    well_formed_region = region is not None and re.fullmatch(_RULES["region"][0], region)
    if image_uri is None and well_formed_region and region not in containers.REGISTRIES:
        problems.append(
            f"no TensorFlow Serving image is known for region {region}; pass --image-uri with the "
            f"{containers.REPOSITORY} image of that region"
        )
    tarball = Path(model_dir) / TARBALL
    record: JSON = {}
    try:
        if not tarball.is_file():
            raise ModelError(f"{tarball} does not exist; export the model first with `fmnist-report export`")
        record = read_metadata(model_dir)
        verify_artifact(model_dir, TARBALL, record)
    except ModelError as exc:
        problems.append(str(exc))
    if problems:
        raise DeployError(problems)
    exported_with = record.get("versions", {}).get("tensorflow") or installed_tensorflow()
    version = None if image_uri else framework_version or containers.image_version_for(exported_with)
    sha = record["artifacts"][TARBALL]["sha256"]
    name = endpoint_name or f"fmnist-report-{sha[:8]}"
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    if version is not None and region is not None:
        image_uri = containers.image_uri(region, version, containers.processor(instance_type))
    return DeployPlan(
        tarball=tarball,
        sha256=sha,
        endpoint_name=name,
        model_name=f"{name[: 63 - len(stamp) - 1]}-{stamp}",
        instance_type=instance_type,
        framework_version=version,
        s3_prefix=s3_prefix.strip("/"),
        image_uri=image_uri,
        region=region,
        bucket=bucket,
        role=role,
        exported_with=exported_with,
    )


def credentials_problem(region: str | None) -> str | None:
    """Why no AWS call can be made, or None when credentials are found."""
    if importlib.util.find_spec("boto3") is None:
        return None  # `blockers` already says boto3 is missing
    try:
        import boto3

        found = boto3.Session(region_name=region).get_credentials() is not None
    except Exception as exc:
        return f"the AWS configuration cannot be read ({_first_line(exc)}); fix ~/.aws/config or the AWS_* variables"
    if not found:
        return "no AWS credentials found (run `aws configure`, or set AWS_PROFILE or the AWS_* variables)"
    return None


def blockers(plan: DeployPlan) -> list[str]:
    """Everything that stops a real deployment, one line each naming its fix; empty when it can run."""
    problems = []
    if importlib.util.find_spec("boto3") is None:
        problems.append(f"boto3 is not installed ({INSTALL_HINT})")
    if plan.region is None:
        problems.append("no AWS region (pass --region or set AWS_REGION)")
    if plan.role is None:
        problems.append("no execution role (pass --role with the ARN of a role SageMaker can assume)")
    credentials = credentials_problem(plan.region)
    return problems + ([credentials] if credentials else [])


def execute(plan: DeployPlan, *, echo: Callable[[str], None] = print) -> str:
    """Run the plan against AWS; returns the endpoint name. Each step is echoed as it starts."""
    import boto3

    made: list[str] = []
    step = "connect"
    try:
        session = boto3.Session(region_name=plan.region)
        s3, sagemaker = session.client("s3"), session.client("sagemaker")
        step = "check the endpoint"
        status = endpoint_status(sagemaker, plan.endpoint_name)
        if status is not None:
            raise EndpointExists(
                f"the endpoint {plan.endpoint_name} already exists ({status}); nothing was changed. Delete it "
                f"first (aws sagemaker delete-endpoint --endpoint-name {plan.endpoint_name}) or pass "
                "--endpoint-name to deploy beside it"
            )
        bucket = plan.bucket
        if bucket is not None:
            step = "check the bucket"
            if not bucket_exists(s3, bucket, forbidden_is_missing=True):
                raise BucketMissing(
                    f"the bucket {bucket} does not exist or is not this account's; nothing was changed. "
                    "Create it, or leave --bucket out to use SageMaker's default bucket"
                )
        if bucket is None:
            step = "find the default bucket"
            account = session.client("sts").get_caller_identity()["Account"]
            bucket = f"sagemaker-{plan.region}-{account}"
            ensure_bucket(s3, bucket, plan.region, echo)
        model_data = f"s3://{bucket}/{plan.s3_key}"
        step = "upload"
        echo(f"uploading {plan.tarball} to {model_data}")
        s3.upload_file(str(plan.tarball), bucket, plan.s3_key)
        step = "create model"
        echo(f"creating the model {plan.model_name} with {plan.image_uri}")
        sagemaker.create_model(
            ModelName=plan.model_name,
            ExecutionRoleArn=plan.role,
            PrimaryContainer={"Image": plan.image_uri, "ModelDataUrl": model_data},
        )
        made.append(f"model {plan.model_name}")
        step = "create endpoint configuration"
        sagemaker.create_endpoint_config(
            EndpointConfigName=plan.model_name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": plan.model_name,
                    "InitialInstanceCount": 1,
                    "InstanceType": plan.instance_type,
                    "InitialVariantWeight": 1.0,
                }
            ],
        )
        made.append(f"endpoint configuration {plan.model_name}")
        step = "create endpoint"
        echo(f"creating the endpoint {plan.endpoint_name} on {plan.instance_type} (several minutes)")
        sagemaker.create_endpoint(EndpointName=plan.endpoint_name, EndpointConfigName=plan.model_name)
        made.append(f"endpoint {plan.endpoint_name}")
        step = "wait for the endpoint"
        try:
            sagemaker.get_waiter("endpoint_in_service").wait(
                EndpointName=plan.endpoint_name,
                WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_ATTEMPTS},
            )
        except Exception as exc:
            reason = sagemaker.describe_endpoint(EndpointName=plan.endpoint_name).get("FailureReason")
            raise RuntimeError(reason or _first_line(exc)) from exc
    except (EndpointExists, BucketMissing) as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # botocore raises many types; the user needs the message
        left = f"; created so far: {', '.join(made)}" if made else ""
        raise UserError(
            f"SageMaker deployment failed at step '{step}' ({_first_line(exc)}){left}; fix that and run again"
        ) from exc
    return plan.endpoint_name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def invoke_example(plan: DeployPlan) -> str:
    """A command that sends one PNG to the endpoint once it is in service."""
    region = f" --region {plan.region}" if plan.region else ""
    return (
        f"aws sagemaker-runtime invoke-endpoint --endpoint-name {plan.endpoint_name}{region} "
        "--content-type image/png --body fileb://garment.png prediction.json"
    )


def describe(plan: DeployPlan) -> dict[str, Any]:
    """The plan as plain values, for --json output."""
    return {
        "tarball": str(plan.tarball),
        "sha256": plan.sha256,
        "s3_uri": plan.s3_uri,
        "region": plan.region,
        "role": plan.role,
        "endpoint_name": plan.endpoint_name,
        "model_name": plan.model_name,
        "instance_type": plan.instance_type,
        "framework_version": plan.framework_version,
        "image_uri": plan.image_uri,
        "steps": plan.steps(),
        "notes": plan.notes(),
    }
