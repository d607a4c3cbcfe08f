"""Options shared by several commands: how a wrong value is answered."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.config import PROFILES

runner = CliRunner()


def plain(output: str) -> str:
    """The text of a message without the box rich draws around it."""
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", output).split())


@pytest.mark.parametrize("command", ["run", "build", "render", "export"])
def test_a_mistyped_profile_is_a_usage_error_that_lists_the_choices(command, isolated_env):
    result = runner.invoke(app, [command, "--profile", "quik"])
    assert result.exit_code == 2, result.output
    choices = ", ".join(f"'{name}'" for name in PROFILES)
    assert f"Invalid value for '--profile': Value error, 'quik' is not one of {choices}" in plain(
        result.output
    )
    assert "Traceback" not in result.output


def test_the_help_names_the_profiles():
    result = runner.invoke(app, ["run", "--help"], terminal_width=120)
    assert result.exit_code == 0
    assert f"<{'|'.join(PROFILES)}>" in plain(result.output)
