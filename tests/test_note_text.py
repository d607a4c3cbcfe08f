"""A note's text as written: a literal ``{{``, and right-to-left scripts laid out right to left."""

from __future__ import annotations

import re

import pytest

from fmnist_report.config import load_config
from fmnist_report.errors import ConfigError
from fmnist_report.report import notes
from fmnist_report.report.formatting import mean_ci

from .factories import make_context


def note(tmp_path, text: str):
    """The configuration of one discussion note with ``text``, and the note as read."""
    (tmp_path / "notes").mkdir(exist_ok=True)
    (tmp_path / "notes" / "d.md").write_text(text, encoding="utf-8")
    (tmp_path / "report.toml").write_text('[report]\nnotes = { discussion = "notes/d.md" }\n')
    cfg = load_config(tmp_path / "report.toml")
    (read,) = notes.read(cfg)
    return cfg, read


def test_a_quoted_literal_prints_double_braces_and_is_no_placeholder(tmp_path):
    text = "Jinja writes {{ '{{' }} name }} and {{ \"{{\" }}x}}; mine is {{ cnn3.test_accuracy }}."
    cfg, read = note(tmp_path, text)
    assert notes.check(cfg, ["cnn3"])  # the literals name no number and are not refused
    _, summary, _ = make_context(tmp_path / "out")
    html = notes.to_html(read, summary)
    expected = mean_ci(summary.models["cnn3"]["test_accuracy"])
    assert f"Jinja writes {{{{ name }}}} and {{{{x}}}}; mine is {expected}." in html
    # In a code span too: the escape is the notes' own, before Markdown.
    _, code = note(tmp_path, "`{{ '{{' }} cnn3.test_accuracy }}`")
    assert "<code>{{ cnn3.test_accuracy }}</code>" in notes.to_html(code, summary)


def test_an_unescaped_placeholder_is_still_checked(tmp_path):
    cfg, _ = note(tmp_path, "{{ '{{' }} is fine, {{ nothing }} is not")
    with pytest.raises(ConfigError, match=r"\{\{ nothing \}\} names no number"):
        notes.check(cfg, ["cnn3"])


ARABIC = "دقة الشبكة {{ cnn3.test_accuracy }} على صور الاختبار."
HEBREW = "הרשת הגיעה ל-{{ cnn3.test_accuracy }}."


@pytest.mark.parametrize("text", [ARABIC, HEBREW, f"## عنوان\n\n{ARABIC}\n\n- بند\n- آخر\n\n> اقتباس"])
def test_a_right_to_left_note_lays_its_blocks_out_right_to_left(tmp_path, text):
    _, read = note(tmp_path, text)
    _, summary, _ = make_context(tmp_path / "out")
    html = notes.to_html(read, summary)
    blocks = re.findall(r"<(p|h\d|ul|ol|li|blockquote)\b([^>]*)>", html)
    assert blocks and all('dir="rtl"' in attrs for _, attrs in blocks), html


def test_each_block_takes_the_direction_of_its_own_first_letter(tmp_path):
    _, read = note(tmp_path, f"First in English, then Arabic.\n\n{ARABIC}\n\n42 ({{{{ cnn3.params }}}})")
    _, summary, _ = make_context(tmp_path / "out")
    html = notes.to_html(read, summary)
    paragraphs = re.findall(r"<p([^>]*)>", html)
    assert paragraphs == [' dir="ltr"', ' dir="rtl"', ' dir="auto"'], html
