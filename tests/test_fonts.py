"""Title-page text that no installed font can print is warned about before any training."""

from __future__ import annotations

from fmnist_report import pipeline
from fmnist_report.config import Config, ReportMeta


def test_text_without_a_font_is_one_warning_naming_the_characters_and_the_fix(monkeypatch):
    monkeypatch.setattr(pipeline, "font_covers", lambda c: ord(c) < 0x3000)
    cfg = Config(report=ReportMeta(title="卷积 on Fashion-MNIST 😀", author="Ada Lovelace"))
    (warning,) = pipeline.check_report_text(cfg)
    assert warning.startswith("report.title holds characters no installed font has (卷积😀)")
    assert "empty boxes" in warning and "fonts-noto-cjk" in warning


def test_latin_text_asks_no_font_and_gives_no_warning(monkeypatch):
    asked = []
    monkeypatch.setattr(pipeline, "font_covers", lambda c: asked.append(c) or True)
    assert pipeline.check_report_text(Config(report=ReportMeta(title="Réseaux — Fashion-MNIST"))) == []
    assert asked == ["—"]  # Latin letters are not looked up, the dash is, and it is covered


def test_the_installed_fonts_cover_what_the_report_itself_prints():
    assert all(pipeline.font_covers(c) for c in "Aé±×—")
