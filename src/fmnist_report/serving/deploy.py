"""Deploy an export to a SageMaker real-time endpoint running the TensorFlow Serving container.

The SageMaker Python SDK (2.x) and boto3 are the optional extra ``sagemaker`` and are imported
only when a deployment really runs. Without them, without AWS credentials, or with
``dry_run``, nothing is changed: the plan is all there is.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist_report.errors import ConfigError, ModelError, UserError
from fmnist_report.serving.artifacts import TARBALL, read_metadata, verify_artifact

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
#: The TF Serving image version; the SDK checks it against the images it knows.
DEFAULT_FRAMEWORK_VERSION = "2.16"
DEFAULT_S3_PREFIX = "fmnist-report/model"
# No square brackets: the CLI prints messages as rich markup, which would swallow "[sagemaker]".
INSTALL_HINT = "pip install 'sagemaker>=2.200,<3' boto3, the extra named sagemaker"

_RULES: dict[str, tuple[str, str]] = {
    "instance_type": (r"ml\.[a-z0-9]+\.[a-z0-9]+", "a SageMaker instance type such as ml.m5.large"),
    "role": (
        r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+",
        "an IAM role ARN such as arn:aws:iam::123456789012:role/SageMakerExecutionRole",
    ),
    "bucket": (
        r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens), without s3:// or a path",
    ),
    "s3_prefix": (r"[\w!.*'()/=+-]*", "a key prefix of letters, digits and !-_.*'()/=+"),
    "endpoint_name": (
        r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        "1-63 letters, digits and hyphens, starting with a letter or digit",
    ),
    "region": (r"[a-z]{2}(-[a-z]+)+-\d", "an AWS region such as eu-west-1"),
    "framework_version": (r"\d+\.\d+(\.\d+)?", "a TensorFlow Serving version such as 2.16"),
}


def _check(name: str, value: str | None) -> None:
    if value is None:
        return
    pattern, allowed = _RULES[name]
    if not re.fullmatch(pattern, value):
        raise ConfigError(f"--{name.replace('_', '-')} must be {allowed}, got {value!r}")


@dataclass(frozen=True)
class DeployPlan:
    """Everything a deployment will do, decided before anything is touched."""

    tarball: Path
    sha256: str
    endpoint_name: str
    instance_type: str
    framework_version: str
    s3_prefix: str
    region: str | None = None
    bucket: str | None = None
    role: str | None = None
    exported_with: str | None = None

    @property
    def s3_uri(self) -> str:
        bucket = self.bucket or "<default bucket sagemaker-REGION-ACCOUNT>"
        key = f"{self.s3_prefix}/{TARBALL}" if self.s3_prefix else TARBALL
        return f"s3://{bucket}/{key}"

    @property
    def processor(self) -> str:
        family = self.instance_type.split(".")[1]
        return "gpu" if family.startswith(("p", "g")) else "cpu"

    def steps(self) -> list[str]:
        region = self.region or "<region: pass --region or set AWS_REGION>"
        role = self.role or "<role: pass --role>"
        steps = [
            f"upload {self.tarball} (sha256 {self.sha256[:12]}…, verified against metadata.json) "
            f"to {self.s3_uri} in {region}",
            f"create a TensorFlowModel from {self.s3_uri} with the SageMaker TF Serving image "
            f"tensorflow-inference:{self.framework_version}-{self.processor}, execution role {role}",
            f"deploy it to endpoint {self.endpoint_name} on 1 x {self.instance_type} "
            "(creates the SageMaker model, endpoint configuration and endpoint)",
        ]
        return steps

    def notes(self) -> list[str]:
        notes = []
        if self.exported_with and _minor(self.exported_with) > _minor(self.framework_version):
            notes.append(
                f"the SavedModel was written by TensorFlow {self.exported_with} and will run on TF Serving "
                f"{self.framework_version}; invoke the endpoint once before relying on it"
            )
        return notes


def _minor(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version)[:2]
    return tuple(int(p) for p in parts)


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


def plan_deployment(
    model_dir: Path,
    *,
    role: str | None = None,
    bucket: str | None = None,
    s3_prefix: str = DEFAULT_S3_PREFIX,
    endpoint_name: str | None = None,
    region: str | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    framework_version: str = DEFAULT_FRAMEWORK_VERSION,
) -> DeployPlan:
    """Validate the export and the parameters; decide the names. Touches nothing remote."""
    s3_prefix = s3_prefix.strip("/")
    region = region or default_region()
    for name, value in (
        ("instance_type", instance_type),
        ("role", role),
        ("bucket", bucket),
        ("s3_prefix", s3_prefix),
        ("endpoint_name", endpoint_name),
        ("region", region),
        ("framework_version", framework_version),
    ):
        _check(name, value)
    tarball = Path(model_dir) / TARBALL
    if not tarball.is_file():
        raise ModelError(f"{tarball} does not exist; export the model first with `fmnist-report export`")
    record = read_metadata(model_dir)
    verify_artifact(model_dir, TARBALL, record)
    sha = record["artifacts"][TARBALL]["sha256"]
    return DeployPlan(
        tarball=tarball,
        sha256=sha,
        endpoint_name=endpoint_name or f"fmnist-report-{sha[:8]}",
        instance_type=instance_type,
        framework_version=framework_version,
        s3_prefix=s3_prefix,
        region=region,
        bucket=bucket,
        role=role,
        exported_with=record.get("versions", {}).get("tensorflow"),
    )


def sdk_problem() -> str | None:
    """Why the SageMaker SDK cannot be used here, or None when it can."""
    if importlib.util.find_spec("sagemaker") is None or importlib.util.find_spec("boto3") is None:
        return f"the SageMaker Python SDK is not installed ({INSTALL_HINT})"
    try:
        major = int(importlib.metadata.version("sagemaker").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
    if major >= 3:
        # SDK 3 dropped the Model/Predictor classes that TensorFlowModel belongs to.
        return f"sagemaker {importlib.metadata.version('sagemaker')} has no TensorFlowModel ({INSTALL_HINT})"
    return None


def credentials_problem(region: str | None) -> str | None:
    """Why no AWS call can be made, or None when credentials are found."""
    if importlib.util.find_spec("boto3") is None:
        return "boto3 is not installed, so no AWS credentials can be used"
    try:
        import boto3

        found = boto3.Session(region_name=region).get_credentials() is not None
    except Exception as exc:
        return f"the AWS configuration cannot be read ({exc})"
    if not found:
        return "no AWS credentials found (run `aws configure`, or set AWS_PROFILE or the AWS_* variables)"
    return None


def blockers(plan: DeployPlan) -> list[str]:
    """Everything that stops a real deployment; empty when it can run."""
    problems = [p for p in (sdk_problem(), credentials_problem(plan.region)) if p]
    if plan.region is None:
        problems.append("no AWS region (pass --region or set AWS_REGION)")
    if plan.role is None:
        problems.append("no execution role (pass --role with the ARN of a role SageMaker can assume)")
    return problems


def execute(plan: DeployPlan, *, echo: Callable[[str], None] = print) -> str:
    """Run the plan against AWS; returns the endpoint name. Each step is echoed as it starts."""
    import boto3
    import sagemaker
    from sagemaker.tensorflow import TensorFlowModel

    step = "connect"
    try:
        session = sagemaker.Session(boto_session=boto3.Session(region_name=plan.region))
        bucket = plan.bucket or session.default_bucket()
        step = "upload"
        echo(f"uploading {plan.tarball} to s3://{bucket}/{plan.s3_prefix}")
        model_data = session.upload_data(path=str(plan.tarball), bucket=bucket, key_prefix=plan.s3_prefix)
        step = "create model"
        echo(f"creating the TensorFlow Serving {plan.framework_version} model from {model_data}")
        model = TensorFlowModel(
            model_data=model_data,
            role=plan.role,
            framework_version=plan.framework_version,
            sagemaker_session=session,
        )
        step = "deploy"
        echo(f"deploying endpoint {plan.endpoint_name} on {plan.instance_type} (several minutes)")
        model.deploy(
            initial_instance_count=1,
            instance_type=plan.instance_type,
            endpoint_name=plan.endpoint_name,
        )
    except Exception as exc:  # botocore and the SDK raise many types; the user needs the message
        reason = _first_line(exc)
        raise UserError(
            f"SageMaker deployment failed at step '{step}' ({reason}); fix that and run again"
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
        "instance_type": plan.instance_type,
        "framework_version": plan.framework_version,
        "steps": plan.steps(),
        "notes": plan.notes(),
    }
