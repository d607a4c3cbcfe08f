"""`deploy` against moto's AWS emulator on loopback: S3, STS and SageMaker as boto3 really calls them.

The server is started and stopped here, on 127.0.0.1; every AWS variable points at it, so no
request can leave the machine.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.serving import deploy

from .factories import untrained_export

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
REGION = "eu-west-1"
IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/tensorflow-inference:2.20-cpu-py312"
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return untrained_export(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def emulator():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(emulator, monkeypatch, tmp_path):
    """boto3 clients on the emulator, with its state reset; the deploy code sees the same settings."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{emulator}/moto-api/reset", method="POST"), timeout=10)
    session = boto3.Session(region_name=REGION)
    return session.client("s3"), session.client("sagemaker")


def deploy_cli(model_dir, *extra: str):
    args = ["deploy", "--model-dir", str(model_dir), "--role", ROLE, "--region", REGION, *extra]
    return runner.invoke(app, args)


def test_deploy_uploads_and_creates_model_config_and_endpoint_as_asked(model_dir, aws):
    s3, sagemaker = aws
    result = deploy_cli(model_dir, "--instance-type", "ml.c5.xlarge", "--endpoint-name", "fmnist-moto")
    assert result.exit_code == 0, result.output
    assert "is in service" in result.output
    plan = deploy.plan_deployment(model_dir, role=ROLE, region=REGION, endpoint_name="fmnist-moto")
    bucket = "sagemaker-eu-west-1-123456789012"
    stored = s3.get_object(Bucket=bucket, Key=plan.s3_key)["Body"].read()
    assert stored == (model_dir / "model.tar.gz").read_bytes()
    endpoint = sagemaker.describe_endpoint(EndpointName="fmnist-moto")
    assert endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.c5.xlarge" and variant["InitialInstanceCount"] == 1
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    assert model["ExecutionRoleArn"] == ROLE
    assert model["PrimaryContainer"]["Image"] == IMAGE  # the CPU image, for a CPU instance
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{bucket}/{plan.s3_key}"


def test_a_second_deploy_of_the_same_export_is_refused_in_one_line_and_changes_nothing(model_dir, aws):
    _, sagemaker = aws
    assert deploy_cli(model_dir).exit_code == 0
    models = sagemaker.list_models()["Models"]
    again = deploy_cli(model_dir)
    assert again.exit_code == 1
    lines = again.stderr.strip().splitlines()
    plan = deploy.plan_deployment(model_dir, role=ROLE, region=REGION)
    assert len(lines) == 1 and lines[0].startswith(
        f"error: the endpoint {plan.endpoint_name} already exists (InService)"
    )
    assert "--endpoint-name" in lines[0]
    assert sagemaker.list_models()["Models"] == models  # no second model, config or upload


def test_a_missing_bucket_is_one_line_before_anything_is_made(model_dir, aws):
    s3, sagemaker = aws
    result = deploy_cli(model_dir, "--bucket", "no-such-bucket-here")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the bucket no-such-bucket-here does not exist or is not this account's; nothing was changed. "
        "Create it, or leave --bucket out to use SageMaker's default bucket"
    )
    assert sagemaker.list_models()["Models"] == [] and s3.list_buckets()["Buckets"] == []


def test_a_given_bucket_is_used_as_it_is(model_dir, aws):
    s3, _ = aws
    s3.create_bucket(Bucket="my-models", CreateBucketConfiguration={"LocationConstraint": REGION})
    assert deploy_cli(model_dir, "--bucket", "my-models", "--endpoint-name", "in-my-bucket").exit_code == 0
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="my-models")["Contents"]]
    assert len(keys) == 1 and keys[0].endswith("/model.tar.gz")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["my-models"]


def test_a_bad_role_is_one_line_and_reaches_no_aws_call(model_dir, aws):
    _, sagemaker = aws
    result = runner.invoke(
        app, ["deploy", "--model-dir", str(model_dir), "--role", "SageMakerExecution", "--region", REGION]
    )
    assert result.exit_code == 1 and "--role" in result.output and "Traceback" not in result.output
    assert sagemaker.list_models()["Models"] == []
