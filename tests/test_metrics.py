"""metrics.json is the Summary serialised, with a shipped JSON Schema; metrics.csv holds its numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.records import Record
from fmnist_report.report import metrics
from fmnist_report.study.summary import summarize
from fmnist_report.study.summary_types import SchemaError, Summary, json_schema

from .factories import VARIANTS, make_results

SCHEMA_PATH = Path(__file__).parents[1] / "src" / "fmnist_report" / "schema" / "metrics.schema.json"


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Summary:
    """The Summary of the synthetic two-seed study."""
    return summarize(make_results(tmp_path_factory.mktemp("plain")))


@pytest.fixture(scope="module")
def with_variants(tmp_path_factory) -> Summary:
    """The Summary of the synthetic three-seed study with both declared variants."""
    return summarize(make_results(tmp_path_factory.mktemp("variants"), seeds=3, variants=VARIANTS))


def keys(value: object) -> list[str]:
    """Every key of every object in a JSON value."""
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in keys(v)]
    return []


def test_metrics_json_round_trips_the_summary(plain):
    assert Summary.from_dict(json.loads(plain.to_json())) == plain


@pytest.mark.parametrize("declared", [VARIANTS[:1], VARIANTS[1:]], ids=lambda v: v[0].name)
def test_metrics_json_round_trips_a_summary_with_a_variant(tmp_path, declared):
    summary = summarize(make_results(tmp_path, variants=declared))
    assert Summary.from_dict(json.loads(summary.to_json())) == summary


def test_an_analysis_record_that_is_not_its_experiments_shape_is_named(tmp_path):
    results = make_results(tmp_path)
    results.analyses["shift"] = Record("shift", "shift-1", {"accuracy": [0.9, 0.7], "layer": "conv1"})
    with pytest.raises(ValueError) as found:
        summarize(results)
    assert str(found.value) == "the shift record shift-1 does not hold its measurements: grid: Field required"


def test_metrics_json_is_nested_and_versioned_with_model_ids_as_keys(with_variants):
    document = json.loads(with_variants.to_json())
    assert list(document)[:2] == ["schema_version", "study"] and document["schema_version"] == 2
    assert [k for k in keys(document) if "." in k] == []
    assert list(document["models"]) == [
        "dense",
        "cnn3",
        "cnn5",
        "cnn7",
        "dense-permuted",
        "cnn3-permuted",
        "cnn3[dropout]",
        "dense[wide]",
    ]
    assert document["models"]["cnn3[dropout]"]["test_accuracy"]["mean"] == pytest.approx(0.9333333333333335)
    assert document["comparisons"]["cnn3__vs__cnn3[dropout]"]["family"] == "variants"


def test_pointer_escapes_tilde_and_slash_as_rfc_6901_says():
    assert metrics.pointer(("models", "cnn3[dropout=0.3]", "test_accuracy", "mean")) == (
        "/models/cnn3[dropout=0.3]/test_accuracy/mean"
    )
    assert metrics.pointer(("data", "class_names", 0)) == "/data/class_names/0"
    assert metrics.pointer(("a/b", "~c", "~/")) == "/a~1b/~0c/~0~1"
    assert metrics.pointer(()) == ""


def resolve(document: object, pointer: str) -> object:
    """The value at a JSON Pointer, read as RFC 6901 says (``~1`` before ``~0``)."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]  # type: ignore[index]
    return document


def test_metrics_csv_has_one_row_per_number_of_metrics_json(with_variants):
    rows = list(csv.reader(io.StringIO(metrics.metrics_csv(with_variants))))
    assert rows[:3] == [["path", "value"], ["/schema_version", "2"], ["/study/epochs", "2"]]
    found = dict(rows[1:])
    # Three seeds of the variant on 100 test images each; it gains 3 points on its base.
    assert float(found["/models/cnn3[dropout]/test_accuracy/mean"]) == pytest.approx(0.9333, abs=1e-4)
    assert found["/models/cnn3[dropout]/test_accuracy/n"] == "3"
    assert float(found["/comparisons/cnn3__vs__cnn3[dropout]/diff/mean"]) == pytest.approx(0.03)
    # Booleans and strings are not numbers: no row.
    assert "/models/cnn3/test_accuracy/has_ci" not in found and "/models/cnn3/near_chance" not in found
    assert "/study/profile" not in found and "/data/class_names/0" not in found
    document = with_variants.to_dict()
    assert len(found) == len(rows) - 1  # each path once
    for path, value in rows[1:]:
        assert float(value) == resolve(document, path), path


def test_numbers_leave_out_booleans_strings_and_nulls():
    value = {"a": [1, 2.5, True, None, "x"], "b/c": {"d": False, "e": 0}}
    assert list(metrics.numbers(value)) == [("/a/0", 1), ("/a/1", 2.5), ("/b~1c/e", 0)]


def test_the_shipped_schema_is_json_schema():
    """A change to the Summary that forgets the file fails here."""
    shipped = SCHEMA_PATH.read_text(encoding="utf-8")
    assert json.loads(shipped) == json_schema(), (
        "the Summary changed: write the schema again with "
        "`fmnist-report schema > src/fmnist_report/schema/metrics.schema.json`"
    )
    assert metrics.shipped_schema() == shipped == metrics.schema_text()  # the installed package ships it


def test_the_schema_command_prints_the_schema():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == SCHEMA_PATH.read_text(encoding="utf-8")
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == 2
    assert schema["required"][0] == "schema_version"


@pytest.mark.parametrize("which", ["plain", "with_variants"])
def test_metrics_json_validates_against_the_shipped_schema(request, which):
    document = json.loads(request.getfixturevalue(which).to_json())
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))).validate(document)


def test_the_schema_refuses_a_document_that_is_no_summary(plain):
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    document = json.loads(plain.to_json())
    document["models"]["cnn3"]["test_accuracy"]["mean"] = "high"
    assert [e.message for e in validator.iter_errors(document)] == ["'high' is not of type 'number'"]
    older = json.loads(plain.to_json())
    older["schema_version"] = 1
    assert [e.message for e in validator.iter_errors(older)] == ["2 was expected"]


def test_read_names_both_versions_of_an_older_metrics_json(plain):
    older = json.loads(plain.to_json())
    older["schema_version"] = 1
    with pytest.raises(SchemaError) as raised:
        metrics.read(json.dumps(older), "old/metrics.json")
    assert str(raised.value) == (
        "old/metrics.json has schema_version 1, this version reads 2; build it again with this "
        "version, or read it with the release that wrote it"
    )
    flat = json.dumps({"summary": {"dense.accuracy.mean": 0.764}, "protocol": {"format": 1}})
    with pytest.raises(SchemaError) as raised:
        metrics.read(flat, "old/metrics.json")
    assert str(raised.value) == (
        "old/metrics.json has schema_version 1 (it names none: a release before the Summary wrote it), "
        "this version reads 2; build it again with this version, or read it with the release that wrote it"
    )


def test_read_gives_back_the_summary(plain):
    assert metrics.read(plain.to_json().encode()) == plain
