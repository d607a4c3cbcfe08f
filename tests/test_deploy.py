"""`fmnist-report deploy`: validation, blockers, dry runs, and the boto3 calls against a fake AWS."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import sys
import types

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.errors import ModelError
from fmnist_report.serving import containers, deploy

from .factories import untrained_export

runner = CliRunner()
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IMAGE_220_CPU = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/tensorflow-inference:2.20-cpu-py312"
REAL_FIND_SPEC = importlib.util.find_spec


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """An untrained CNN, exported once for this file (deployment never needs training)."""
    return untrained_export(tmp_path_factory.mktemp("export"))


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch):
    """Whatever is installed or configured on this machine, no test may reach AWS."""
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(
        deploy.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "boto3" else REAL_FIND_SPEC(name, *a),
    )
    monkeypatch.delitem(sys.modules, "boto3", raising=False)


class ClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


class FakeAWS:
    """A stand-in for boto3: records every call; ``fail`` names an operation that raises."""

    def __init__(self, *, credentials: bool = True, bucket_exists: bool = False, fail: str | None = None):
        self.calls: list[tuple] = []
        self.credentials, self.bucket_exists, self.fail = credentials, bucket_exists, fail

    def install(self, monkeypatch) -> None:
        module = types.ModuleType("boto3")
        module.Session = self.session
        monkeypatch.setitem(sys.modules, "boto3", module)
        monkeypatch.setattr(
            deploy.importlib.util,
            "find_spec",
            lambda name, *a: object() if name == "boto3" else REAL_FIND_SPEC(name, *a),
        )

    def session(self, region_name=None):
        aws = self

        class Session:
            def get_credentials(self):
                return object() if aws.credentials else None

            def client(self, service):
                return Client(aws, service)

        session = Session()
        session.region_name = region_name
        return session

    def call(self, service: str, operation: str, args: tuple, kwargs: dict):
        self.calls.append((service, operation, *args, kwargs) if args else (service, operation, kwargs))
        if operation == self.fail:
            raise RuntimeError(f"AccessDenied: not authorized to perform {service}:{operation}\nmore detail")
        if operation == "get_caller_identity":
            return {"Account": "123456789012"}
        if operation == "head_bucket" and not self.bucket_exists:
            raise ClientError("404", "Not Found")
        if operation == "describe_endpoint" and not any(c[1] == "create_endpoint" for c in self.calls):
            raise ClientError("ValidationException", f"Could not find endpoint {kwargs['EndpointName']}.")
        if operation == "describe_endpoint":
            return {
                "FailureReason": "The primary container for production variant AllTraffic did not pass the ping health check"
            }
        return {}


class Client:
    def __init__(self, aws: FakeAWS, service: str) -> None:
        self.aws, self.service = aws, service

    def get_waiter(self, name):
        aws, service = self.aws, self.service

        class Waiter:
            def wait(self, **kwargs):
                aws.call(service, f"wait:{name}", (), kwargs)

        return Waiter()

    def __getattr__(self, operation):
        return lambda *args, **kwargs: self.aws.call(self.service, operation, args, kwargs)


def dry_run(model_dir, *args: str):
    return runner.invoke(app, ["deploy", "--model-dir", str(model_dir), "--dry-run", *args])


# -- the plan ---------------------------------------------------------------------------------


def test_the_default_image_serves_the_tensorflow_that_wrote_the_export():
    assert containers.image_version_for("2.21.0") == "2.20"  # no 2.21 image; 2.20 serves 2.21's models
    assert containers.image_version_for("2.19.1") == "2.19"
    assert containers.image_version_for("2.17.0") == "2.18"  # no 2.17 image: the next newer one loads it
    assert containers.image_version_for("2.9.0") == "2.13"
    assert containers.image_uri("eu-west-1", "2.20", "cpu") == IMAGE_220_CPU
    assert containers.image_uri("us-east-1", "2.19", "gpu").endswith("/tensorflow-inference:2.19-gpu")
    assert containers.image_uri("cn-north-1", "2.20", "cpu").startswith(
        "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/"
    )
    assert containers.image_uri("mars-north-1", "2.20", "cpu") is None


def test_dry_run_with_everything_in_place_exits_0(model_dir, monkeypatch):
    FakeAWS().install(monkeypatch)
    result = dry_run(
        model_dir,
        "--role",
        ROLE,
        "--bucket",
        "my-models",
        "--region",
        "eu-west-1",
        "--endpoint-name",
        "fmnist-test",
    )
    assert result.exit_code == 0, result.output
    sha = json.loads((model_dir / "metadata.json").read_text())["artifacts"]["model.tar.gz"]["sha256"]
    assert f"s3://my-models/fmnist-report/model/{sha[:12]}/model.tar.gz in eu-west-1" in result.output
    assert f"with the image {IMAGE_220_CPU}, execution role {ROLE}" in result.output
    assert "create the endpoint fmnist-test and wait" in result.output and "1 x ml.m5.large" in result.output
    assert "note:" not in result.output  # 2.20 is the image for a 2.21 export: nothing to warn of
    assert "nothing was changed; a real run would go ahead" in result.output


def test_dry_run_lists_every_blocker_and_exits_1(model_dir):
    result = dry_run(model_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "blocked: boto3 is not installed (pip install 'boto3>=1.34', the extra named deploy)" in result.output
    )
    assert "blocked: no AWS region (pass --region or set AWS_REGION)" in result.output
    assert "blocked: no execution role (pass --role" in result.output
    assert "a real run would be blocked" in result.output
    as_json = runner.invoke(app, ["deploy", "--model-dir", str(model_dir), "--dry-run", "--json"])
    plan = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and len(plan["blocked_by"]) == 3 and plan["dry_run"] is True
    assert plan["region"] is None and plan["image_uri"] is None and plan["framework_version"] == "2.20"


def test_missing_credentials_block_a_deployment(model_dir, monkeypatch):
    FakeAWS(credentials=False).install(monkeypatch)
    result = runner.invoke(
        app, ["deploy", "--model-dir", str(model_dir), "--role", ROLE, "--region", "us-east-1"]
    )
    assert result.exit_code == 1 and "would do" in result.output
    assert "blocked: no AWS credentials found (run `aws configure`" in result.output
    assert "not deploying, nothing was changed: 1 blocker(s) above" in result.output


def test_every_invalid_argument_is_reported_at_once(model_dir):
    args = ["--instance-type", "ml.potato.huge", "--framework-version", "0.0", "--s3-prefix", "../../etc"]
    result = dry_run(model_dir, *args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, result.output
    assert (
        "--instance-type 'ml.potato.huge' is not a SageMaker instance type; use one such as ml.m5.large"
        in result.output
    )
    assert (
        "--framework-version '0.0' is not a SageMaker TensorFlow Serving image version; use one of 2.13, 2.14, 2.16, 2.18, 2.19, 2.20"
        in result.output
    )
    assert "--s3-prefix '../../etc' has an empty, '.' or '..' segment" in result.output


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("role", "SageMakerRole", "IAM role ARN"),
        ("bucket", "s3://my-models/path", "bucket name"),
        ("bucket", "my..models", "bucket name"),
        ("bucket", "192.168.1.10", "not an IP address"),
        ("endpoint_name", "bad_name!", "letters, digits and hyphens"),
        ("instance_type", "m5.large", "not a SageMaker instance type"),
        ("instance_type", "ml.c6g.large", "c6g is not an instance family"),  # Graviton: arm64
        ("instance_type", "ml.potato.xlarge", "potato is not an instance family the TensorFlow Serving"),
        ("region", "Europe", "AWS region"),
        (
            "region",
            "ap-southeast-7",
            "no TensorFlow Serving image is known for region ap-southeast-7; pass --image-uri",
        ),
        ("framework_version", "latest", "2.20"),
        ("framework_version", "2.15", "not a SageMaker TensorFlow Serving image version"),
        ("image_uri", "tensorflow/serving:latest", "not an ECR image URI"),
        ("s3_prefix", "models//fmnist", "empty"),
        ("s3_prefix", "models/fmnist?x=1", "characters other than"),
    ],
)
def test_each_argument_is_validated(model_dir, option, value, match):
    with pytest.raises(deploy.DeployError, match=match):
        deploy.plan_deployment(model_dir, **{option: value})
    flag = "--" + option.replace("_", "-")
    result = dry_run(model_dir, flag, value)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1


def test_an_image_uri_stands_in_for_an_unknown_region_or_a_newer_image(model_dir):
    uri = "123456789012.dkr.ecr.ap-southeast-7.amazonaws.com/tensorflow-inference:2.20-cpu-py312"
    plan = deploy.plan_deployment(model_dir, region="ap-southeast-7", image_uri=uri)
    assert plan.image_uri == uri and plan.framework_version is None and plan.notes() == []
    with pytest.raises(deploy.DeployError, match="not both"):
        deploy.plan_deployment(model_dir, framework_version="2.19", image_uri=uri)


def test_gpu_instances_get_the_gpu_image_and_an_older_image_gets_a_note(model_dir):
    gpu = deploy.plan_deployment(model_dir, region="eu-west-1", instance_type="ml.g5.xlarge")
    assert gpu.image_uri.endswith("tensorflow-inference:2.20-gpu-py312")
    old = deploy.plan_deployment(model_dir, region="eu-west-1", framework_version="2.16")
    assert old.image_uri.endswith(":2.16-cpu") and "older than the 2.20 image" in old.notes()[0]


def test_names_fit_sagemaker_limits(model_dir):
    now = dt.datetime(2026, 11, 26, 15, 30, 0, tzinfo=dt.UTC)
    plan = deploy.plan_deployment(model_dir, endpoint_name="e" * 63, now=now)
    assert plan.model_name == "e" * 47 + "-20261126-153000" and len(plan.model_name) == 63


def test_a_missing_or_tampered_export_is_one_line(model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    with (copy / "model.tar.gz").open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(deploy.DeployError, match="sha256 mismatch"):
        deploy.plan_deployment(copy)
    (copy / "model.tar.gz").unlink()
    result = dry_run(copy, "--instance-type", "ml.potato.huge")  # listed with the other problems
    assert result.exit_code == 1
    assert "model.tar.gz does not exist; export the model first with `fmnist-report export`" in result.output
    assert "potato" in result.output
    assert isinstance(deploy.DeployError(["x"]), deploy.ConfigError) and not issubclass(
        ModelError, deploy.DeployError
    )


# -- the deployment ---------------------------------------------------------------------------


def test_execute_makes_the_boto3_calls_in_order(model_dir, monkeypatch):
    aws = FakeAWS()
    aws.install(monkeypatch)
    plan = deploy.plan_deployment(model_dir, role=ROLE, region="eu-west-1", s3_prefix="/models/fmnist/")
    echoed: list[str] = []
    assert deploy.execute(plan, echo=echoed.append) == plan.endpoint_name
    bucket = "sagemaker-eu-west-1-123456789012"
    key = f"models/fmnist/{plan.sha256[:12]}/model.tar.gz"
    assert aws.calls == [
        ("sagemaker", "describe_endpoint", {"EndpointName": plan.endpoint_name}),
        ("sts", "get_caller_identity", {}),
        ("s3", "head_bucket", {"Bucket": bucket}),
        (
            "s3",
            "create_bucket",
            {"Bucket": bucket, "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
        ),
        ("s3", "upload_file", str(model_dir / "model.tar.gz"), bucket, key, {}),
        (
            "sagemaker",
            "create_model",
            {
                "ModelName": plan.model_name,
                "ExecutionRoleArn": ROLE,
                "PrimaryContainer": {"Image": IMAGE_220_CPU, "ModelDataUrl": f"s3://{bucket}/{key}"},
            },
        ),
        (
            "sagemaker",
            "create_endpoint_config",
            {
                "EndpointConfigName": plan.model_name,
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": plan.model_name,
                        "InitialInstanceCount": 1,
                        "InstanceType": "ml.m5.large",
                        "InitialVariantWeight": 1.0,
                    }
                ],
            },
        ),
        (
            "sagemaker",
            "create_endpoint",
            {"EndpointName": plan.endpoint_name, "EndpointConfigName": plan.model_name},
        ),
        (
            "sagemaker",
            "wait:endpoint_in_service",
            {"EndpointName": plan.endpoint_name, "WaiterConfig": {"Delay": 30, "MaxAttempts": 60}},
        ),
    ]
    assert len(echoed) == 4 and echoed[0] == f"creating the bucket {bucket}"


def test_a_failed_step_names_itself_and_what_it_left_behind(model_dir, monkeypatch):
    FakeAWS(bucket_exists=True, fail="create_endpoint").install(monkeypatch)
    plan = deploy.plan_deployment(model_dir, role=ROLE, region="us-east-1", bucket="my-models")
    with pytest.raises(
        deploy.UserError,
        match=r"failed at step 'create endpoint' \(AccessDenied: not authorized to perform sagemaker:create_endpoint\); "
        r"created so far: model .*, endpoint configuration .*; fix that and run again$",
    ):
        deploy.execute(plan, echo=lambda line: None)
    FakeAWS(bucket_exists=True, fail="wait:endpoint_in_service").install(monkeypatch)
    with pytest.raises(
        deploy.UserError, match="'wait for the endpoint' \\(The primary container .* did not pass the ping"
    ):
        deploy.execute(plan, echo=lambda line: None)


def test_the_command_deploys_and_prints_how_to_invoke(model_dir, monkeypatch):
    aws = FakeAWS(bucket_exists=True)
    aws.install(monkeypatch)
    args = [
        "deploy",
        "--model-dir",
        str(model_dir),
        "--role",
        ROLE,
        "--region",
        "us-east-1",
        "--bucket",
        "my-models",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "is in service" in result.output and "aws sagemaker-runtime invoke-endpoint" in result.output
    assert [c[1] for c in aws.calls][-2:] == ["create_endpoint", "wait:endpoint_in_service"]
