"""The dev container (.devcontainer/devcontainer.json) against the devcontainer schema, offline.

The schema is vendored in tests/data/devcontainer/ (SOURCE.md names its origin and licence);
`devcontainer_errors` is shared with the tests of `fmnist-report new`, which writes one too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).parents[1]
SCHEMA_DIR = Path(__file__).parent / "data" / "devcontainer"
SCHEMA = SCHEMA_DIR / "devContainer.base.schema.json"
IMAGE = "mcr.microsoft.com/devcontainers/python:3.11-bookworm"


@functools.cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def devcontainer_errors(data: Any) -> list[str]:
    """What the schema finds wrong with a parsed devcontainer.json; empty when it is valid."""
    return [error.message for error in validator().iter_errors(data)]


def load(path: Path) -> dict[str, Any]:
    """A devcontainer.json, which ours keep to plain JSON (no comments, no trailing commas)."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return load(ROOT / ".devcontainer" / "devcontainer.json")


def test_the_vendored_schema_is_the_one_its_source_names_and_needs_no_network():
    text = SCHEMA.read_text(encoding="utf-8")
    source = (SCHEMA_DIR / "SOURCE.md").read_text(encoding="utf-8")
    assert hashlib.sha256(text.encode()).hexdigest() in source
    assert "devcontainers/spec" in source and "Attribution 4.0" in source
    refs = re.findall(r'"\$ref":\s*"([^"]*)"', text)
    assert refs and all(ref.startswith("#/") for ref in refs)


def test_the_project_dev_container_is_valid(project):
    assert devcontainer_errors(project) == []


@pytest.mark.parametrize(
    "change",
    [
        {"postCreateCommand": 5},
        {"image": ["python"]},
        {"forwardPorts": "8080"},
        {"postCreateComand": "typo"},
    ],
    ids=["command-is-a-number", "image-is-a-list", "ports-is-a-string", "unknown-key"],
)
def test_an_invalid_dev_container_is_rejected(project, change):
    assert devcontainer_errors({**project, **change})


def test_the_project_dev_container_sets_up_with_the_projects_own_commands(project):
    assert project["image"] == IMAGE  # Debian bookworm, Python 3.11: the lock's Python
    command = project["postCreateCommand"]
    # The image's user is no root: the system packages go in through sudo, then the set-up.
    assert command.startswith("sudo sh scripts/system-deps.sh && ")
    assert command.endswith("python scripts/dev.py setup")
    assert (ROOT / "scripts" / "system-deps.sh").is_file() and (ROOT / "scripts" / "dev.py").is_file()
    assert project["forwardPorts"] == []
    assert "ms-python.python" in project["customizations"]["vscode"]["extensions"]
