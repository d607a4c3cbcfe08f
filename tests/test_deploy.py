"""`fmnist-report deploy`: the plan, dry runs, refusals, and the SDK calls against a fake SageMaker."""

from __future__ import annotations

import json
import shutil
import sys
import types

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.errors import ConfigError, ModelError
from fmnist_report.serving import deploy

runner = CliRunner()
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """An untrained CNN, exported once for this file (deployment never needs training)."""
    import keras

    from fmnist_report.models import build_cnn
    from fmnist_report.serving.export import export_model

    keras.utils.set_random_seed(0)
    target = tmp_path_factory.mktemp("export") / "model"
    export_model(build_cnn(3), target, {"training": {"note": "untrained"}})
    return target


@pytest.fixture
def no_aws(monkeypatch):
    """Whatever is installed on this machine, no test may reach AWS."""
    monkeypatch.setattr(
        deploy, "sdk_problem", lambda: "the SageMaker Python SDK is not installed (pip install x)"
    )
    monkeypatch.setattr(deploy, "credentials_problem", lambda region: "no AWS credentials found")
    monkeypatch.setattr(deploy, "default_region", lambda: None)
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)


def test_dry_run_prints_the_steps_and_exits_0(model_dir, no_aws):
    args = ["deploy", "--model-dir", str(model_dir), "--dry-run", "--role", ROLE]
    args += ["--bucket", "my-models", "--region", "eu-west-1", "--endpoint-name", "fmnist-test"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "s3://my-models/fmnist-report/model/model.tar.gz" in out
    assert "tensorflow-inference:2.16-cpu" in out and ROLE in out
    assert "endpoint fmnist-test on 1 x ml.m5.large" in out
    assert "nothing was changed" in out


def test_dry_run_json_with_defaults(model_dir, no_aws):
    result = runner.invoke(app, ["deploy", "--model-dir", str(model_dir), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output.split("dry run:")[0])
    record = json.loads((model_dir / "metadata.json").read_text())
    assert plan["sha256"] == record["artifacts"]["model.tar.gz"]["sha256"]
    assert plan["endpoint_name"] == f"fmnist-report-{plan['sha256'][:8]}"
    assert plan["region"] is None and plan["dry_run"] is True and len(plan["steps"]) == 3
    assert any("TensorFlow 2." in n for n in plan["notes"])  # exported with a newer TF than 2.16


def test_without_sdk_or_credentials_nothing_is_changed_and_exit_1(model_dir, no_aws):
    result = runner.invoke(
        app, ["deploy", "--model-dir", str(model_dir), "--role", ROLE, "--region", "us-east-1"]
    )
    assert result.exit_code == 1
    assert "would do" in result.output and "1. upload" in result.output
    assert "not deploying, nothing was changed: the SageMaker Python SDK is not installed" in result.output
    assert "no AWS credentials found" in result.output and "Traceback" not in result.output


def test_missing_tarball_names_the_fix(model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / "model.tar.gz").unlink()
    result = runner.invoke(app, ["deploy", "--model-dir", str(copy), "--dry-run"])
    assert result.exit_code == 1
    assert "model.tar.gz does not exist; export the model first with `fmnist-report export`" in result.output
    with pytest.raises(ModelError, match="does not exist"):
        deploy.plan_deployment(tmp_path / "absent")


def test_tampered_tarball_is_refused(model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    with (copy / "model.tar.gz").open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        deploy.plan_deployment(copy)


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("role", "SageMakerRole", "IAM role ARN"),
        ("bucket", "s3://my-models/path", "bucket name"),
        ("endpoint_name", "bad_name!", "letters, digits and hyphens"),
        ("instance_type", "m5.large", "ml.m5.large"),
        ("region", "Europe", "AWS region"),
        ("framework_version", "latest", "2.16"),
    ],
)
def test_parameters_are_validated(model_dir, option, value, match):
    with pytest.raises(ConfigError, match=match):
        deploy.plan_deployment(model_dir, **{option: value})
    flag = "--" + option.replace("_", "-")
    result = runner.invoke(app, ["deploy", "--model-dir", str(model_dir), "--dry-run", flag, value])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_blockers_list_missing_role_and_region(model_dir, no_aws):
    plan = deploy.plan_deployment(model_dir)
    problems = deploy.blockers(plan)
    assert any("--role" in p for p in problems) and any("--region" in p for p in problems)


def test_sdk_and_credential_checks(monkeypatch):
    monkeypatch.setattr(deploy.importlib.util, "find_spec", lambda name: None)
    assert "not installed" in deploy.sdk_problem()
    assert "boto3 is not installed" in deploy.credentials_problem("eu-west-1")

    class NoCredentials:
        def __init__(self, region_name=None):
            pass

        def get_credentials(self):
            return None

    monkeypatch.setattr(deploy.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(Session=NoCredentials))
    assert "no AWS credentials found" in deploy.credentials_problem("eu-west-1")
    monkeypatch.setattr(deploy.importlib.metadata, "version", lambda name: "3.0.1")
    assert "has no TensorFlowModel" in deploy.sdk_problem()


def test_execute_drives_the_sdk(model_dir, monkeypatch):
    """The real deployment code, run against stand-ins for boto3 and the SageMaker SDK."""
    calls: list[tuple] = []

    class Session:
        def __init__(self, boto_session=None):
            calls.append(("session", boto_session.region_name))

        def default_bucket(self):
            return "sagemaker-eu-west-1-123456789012"

        def upload_data(self, path, bucket, key_prefix):
            calls.append(("upload", path, bucket, key_prefix))
            return f"s3://{bucket}/{key_prefix}/model.tar.gz"

    class TensorFlowModel:
        def __init__(self, **kwargs):
            calls.append(("model", kwargs["model_data"], kwargs["role"], kwargs["framework_version"]))

        def deploy(self, **kwargs):
            calls.append(("deploy", kwargs))

    boto3 = types.SimpleNamespace(
        Session=lambda region_name=None: types.SimpleNamespace(region_name=region_name)
    )
    sagemaker = types.ModuleType("sagemaker")
    sagemaker.Session = Session
    tensorflow = types.ModuleType("sagemaker.tensorflow")
    tensorflow.TensorFlowModel = TensorFlowModel
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    monkeypatch.setitem(sys.modules, "sagemaker", sagemaker)
    monkeypatch.setitem(sys.modules, "sagemaker.tensorflow", tensorflow)

    plan = deploy.plan_deployment(model_dir, role=ROLE, region="eu-west-1", s3_prefix="/models/fmnist/")
    echoed: list[str] = []
    assert deploy.execute(plan, echo=echoed.append) == plan.endpoint_name
    uri = "s3://sagemaker-eu-west-1-123456789012/models/fmnist/model.tar.gz"
    assert calls == [
        ("session", "eu-west-1"),
        ("upload", str(model_dir / "model.tar.gz"), "sagemaker-eu-west-1-123456789012", "models/fmnist"),
        ("model", uri, ROLE, "2.16"),
        (
            "deploy",
            {
                "initial_instance_count": 1,
                "instance_type": "ml.m5.large",
                "endpoint_name": plan.endpoint_name,
            },
        ),
    ]
    assert len(echoed) == 3

    def refused(self, **kwargs):
        raise RuntimeError("AccessDenied: not authorized to perform sagemaker:CreateModel\nmore detail")

    monkeypatch.setattr(TensorFlowModel, "deploy", refused)
    with pytest.raises(deploy.UserError, match=r"failed at step 'deploy' \(AccessDenied: not authorized"):
        deploy.execute(plan, echo=echoed.append)
