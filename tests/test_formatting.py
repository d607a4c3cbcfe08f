"""Every number format of the report, and the filters the templates use."""

from __future__ import annotations

import pytest

from fmnist_report.report import formatting, render
from fmnist_report.report.formatting import (
    cell,
    compact,
    filesize,
    fmt,
    join_words,
    mean_ci,
    num,
    pct,
    plural,
    points,
    pp,
    pvalue,
    ratio,
    rel_error,
    shape,
    sig,
    span,
    times,
)

from .factories import seed_summary


def test_percentages_counts_and_ratios():
    assert pct(0.74123) == "74.12%"
    assert pct(0.5, 1) == "50.0%"
    assert num(235146) == "235,146"
    assert num(1234.567, 1) == "1,234.6"
    assert ratio(18.13) == "18.1×"
    assert ratio(0.25) == "0.25×"
    assert ratio(1234.4) == "1,234×"
    assert pct(0.8731, 1) == "87.3%" and pct(0.9, 0) == "90%"


def test_numbers_without_thousands_separators_for_the_terminal():
    assert num(1234.567, 1, grouped=False) == "1234.6"
    assert num(235146, grouped=False) == "235146"
    assert mean_ci(seed_summary(1234.4, 56.0), "num", 0, grouped=False) == "1234 ± 56"
    assert mean_ci(seed_summary(1234.4, 56.0), "num", 0) == "1,234 ± 56"


def test_multiples_compact_counts_and_significant_figures_as_the_figures_write_them():
    assert times(1.84) == "1.8x" and times(18.2, 0) == "18x"
    assert span([2.1, 1.8], times) == "1.8x to 2.1x" and span([1.8], times) == "1.8x"
    assert compact(235_146) == "235k" and compact(4_200_000) == "4.2M" and compact(512) == "512"
    assert sig(0.02514) == "0.025" and sig(0.25) == "0.25" and sig(0.0004, 1) == "0.0004"
    assert sig(0.0) == "0" and sig(-0.0) == "0"


@pytest.mark.parametrize(
    ("x", "text"),
    [(0.029, "2.9"), (-0.004, "-0.4"), (0.02449, "2.4"), (-0.0001, "0.0"), (0.0, "0.0"), (0.1234, "12.3")],
)
def test_points(x, text):
    assert points(x) == text


def test_points_rejects_non_finite():
    with pytest.raises(ValueError, match="difference must be finite"):
        points(float("inf"))


def test_pp_carries_its_sign_except_at_zero():
    assert pp(0.029) == "+2.9 pp"
    assert pp(-0.029) == "-2.9 pp"
    assert pp(0.00001) == "0.0 pp" and pp(-0.00001) == "0.0 pp"


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "p < 0.001"),
        (0.000999, "p < 0.001"),
        (0.001, "p = 0.0010"),
        (0.04123, "p = 0.041"),
        (0.41, "p = 0.41"),
        (0.5, "p = 0.50"),
        (0.996, "p = 1.0"),
        (1.0, "p = 1.0"),
    ],
)
def test_pvalue(p, text):
    assert pvalue(p) == text


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_pvalue_rejects_non_probabilities(p):
    with pytest.raises(ValueError, match="p-value must be between 0 and 1"):
        pvalue(p)


def test_mean_ci_prints_the_half_width_only_when_there_is_an_interval():
    assert mean_ci(seed_summary(0.9012, 0.0034)) == "90.12% ± 0.34%"
    assert mean_ci(seed_summary(0.9012)) == "90.12%"
    assert mean_ci(seed_summary(0.31234, 0.01), "num") == "0.3123 ± 0.0100"
    assert mean_ci(seed_summary(125.25, 3.0), "s") == "125.2 ± 3.0 s"
    assert mean_ci(seed_summary(0.0123, 0.001), "ms", 2) == "0.01 ± 0.00 ms"
    with pytest.raises(ValueError, match="unit must be one of"):
        mean_ci(seed_summary(1.0), "furlongs")


def test_fmt_shape_filesize_and_cell():
    assert shape([60000, 28, 28]) == "60,000 × 28 × 28"
    assert fmt(421642, "int") == "421,642"
    assert fmt({"mean": 0.9, "has_ci": False}, "pct") == "90.00%"
    assert fmt(0.9, "pct") == "90.00%"
    assert fmt(0.123456, "num") == "0.1235"
    assert fmt(1234.5, "s") == "1,234.5"
    assert filesize(512) == "512 bytes" and filesize(1536) == "1.5 KiB"
    assert filesize(5 * 1024**3) == "5.0 GiB"
    assert cell(0.912345) == "0.9123" and cell(12345) == "12,345" and cell("x") == "x"
    assert cell(True) == "yes" and cell(False) == "no" and cell(None) == "–"
    assert cell(0.00001234) == "1.23e-05" and cell(0.0) == "0"


def test_relative_errors():
    assert rel_error(None) == "n/a"
    assert rel_error(0) == "0"
    assert rel_error(0.00002) == "2.0e-05"
    assert rel_error(0.25) == "0.250"


def test_span_collapses_to_one_value_when_both_ends_print_the_same():
    assert span([0.31, 0.12, 0.2], lambda x: f"{x:.2f}") == "0.12 to 0.31"
    assert span([0.301, 0.304], lambda x: f"{x:.2f}") == "0.30"


@pytest.mark.parametrize(
    ("items", "text"),
    [([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")],
)
def test_join_words(items, text):
    assert join_words(items) == text


def test_plural():
    assert plural(1, "seed") == "1 seed"
    assert plural(3, "seed") == "3 seeds"
    assert plural(0, "epoch") == "0 epochs"


def test_the_templates_get_these_functions_as_filters():
    env = render.environment()
    assert {name: env.filters[name] for name in formatting.FILTERS} == formatting.FILTERS
    page = env.from_string("{{ x | pp }}, {{ p | pvalue }}").render(x=-0.029, p=0.0004)
    assert page == "-2.9 pp, p &lt; 0.001"  # and the HTML escapes what the filter wrote
    page = env.from_string("{{ r | times(0) }}, {{ n | compact }}, {{ k | plural('seed') }}").render(
        r=18.2, n=235_146, k=3
    )
    assert page == "18x, 235k, 3 seeds"
