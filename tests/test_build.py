"""`build`, `render` and `export` end to end, on one small quick-profile study of the real data.

The study (quick profile, 100 training and 50 test images per class, 2 seeds) is built once
per test run; every other test reads its outputs or re-renders from its store.
"""

from __future__ import annotations

import csv
import html as html_mod
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.report import metrics, protocol, render
from fmnist_report.report.formatting import mean_ci, num, points, pvalue
from fmnist_report.serving.export import verify_export

from .factories import HEADINGS, REAL_DIR, assert_self_contained, check_html, needs_real_data
from .test_metrics import resolve
from .test_submission import held_values

pytestmark = [needs_real_data, pytest.mark.slow]

CONFIG = """\
[report]
title = "Quick Look at Convolutions"
[study]
profile = "quick"
seeds = 2
train_per_class = 100
test_per_class = 50
"""


def cli(*args: str) -> SimpleNamespace:
    """Run the CLI in-process; returns exit code, stdout, stderr and wall time."""
    start = time.perf_counter()
    result = CliRunner().invoke(app, list(args))
    return SimpleNamespace(
        code=result.exit_code,
        stdout=result.stdout,
        stderr=result.stderr,
        seconds=time.perf_counter() - start,
        exception=result.exception,
    )


@pytest.fixture(scope="session")
def quick(tmp_path_factory) -> SimpleNamespace:
    """One small quick-profile build: the study, the export, the figures and the report."""
    root = tmp_path_factory.mktemp("quick-build")
    (root / "q.toml").write_text(CONFIG)
    common = ["--config", str(root / "q.toml"), "--out", str(root / "output"), "--data-dir", str(REAL_DIR)]
    run = cli("build", *common, "--offline", "--json", "--author", "Ada Tester", "--course", "CS 101")
    assert run.code == 0, f"{run.stderr}\n{run.exception!r}"
    print(f"\nquick build (training included): {run.seconds:.1f} s")
    return SimpleNamespace(root=root, out=root / "output", common=common, outputs=json.loads(run.stdout))


@pytest.fixture
def own(quick, tmp_path) -> SimpleNamespace:
    """A copy of the quick build for a test that writes to it, so the others read the build itself."""
    out = Path(shutil.copytree(quick.out, tmp_path / "output"))
    common = [*quick.common[: quick.common.index("--out")], "--out", str(out)]
    common += quick.common[quick.common.index("--out") + 2 :]
    return SimpleNamespace(root=quick.root, out=out, common=common, outputs=quick.outputs)


def text_of(html: str) -> str:
    """The visible text of an HTML fragment."""
    return " ".join(html_mod.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_build_writes_every_output(quick):
    out, o = quick.out, quick.outputs
    for name in ("report.html", "report.pdf", "metrics.json", "metrics.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(pngs) == o["figures"] >= 10
    assert {"class_distribution", "confusion_dense", "kernel_tradeoff"} <= {p.stem for p in pngs}
    from PIL import Image

    from fmnist_report.report.figures import DPI

    for p in pngs:  # every figure at the one fixed resolution
        assert round(Image.open(p).info["dpi"][0]) == DPI, p.name
    assert not list(out.glob(".tmp-*")), "a temporary file was left behind"
    meta = verify_export(out / "model")  # every artifact's SHA-256 checks out
    assert meta["training"]["model_id"] == "cnn3" and meta["training"]["seed"] == 0
    acc = meta["metrics"]["test_accuracy_over_seeds"]
    assert acc["n"] == 2 and acc["has_ci"] and acc["ci_low"] <= acc["mean"] <= acc["ci_high"]
    assert meta["training"]["study"]["profile"] == "quick" and len(meta["class_names"]) == 10
    page = (out / "report.html").read_text()
    assert "Quick Look at Convolutions" in page and "Ada Tester" in page and "CS 101" in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_pdf_has_every_section_bounded_pages_and_every_figure(quick):
    pdf = quick.out / "report.pdf"
    text = pdf_text(pdf)
    pages = text.split("\f")[:-1]
    assert 12 <= len(pages) <= 60, len(pages)
    for heading in HEADINGS:
        number_title = heading.split(" ", 1)
        pattern = r"\s+".join(re.escape(w) for w in number_title)
        assert re.search(rf"^\s*{pattern}\s*$", text, re.M), heading
    labels = [int(n) for n in re.findall(r"^\s*Figure (\d+)\.", text, re.M)]
    assert labels == list(range(1, quick.outputs["figures"] + 1))
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    images = [line for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    assert len(images) >= quick.outputs["figures"] + 10  # the figures and one thumbnail per class


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils is not installed")
def test_the_pdf_is_tagged_pdf_a_3a_and_carries_its_metrics_and_configuration(quick):
    import pikepdf

    pdf_path, out = quick.out / "report.pdf", quick.out

    def poppler(*args: str) -> str:
        return subprocess.run([*args, str(pdf_path)], capture_output=True, text=True, check=True).stdout

    assert "Tagged:          yes" in poppler("pdfinfo")
    assert 'pdfaid:part="3"' in poppler("pdfinfo", "-meta") and 'pdfaid:conformance="A"' in poppler(
        "pdfinfo", "-meta"
    )
    listing = poppler("pdfdetach", "-list").splitlines()
    assert listing[0] == "2 embedded files"
    assert sorted(line.split(": ", 1)[1] for line in listing[1:]) == ["configuration.toml", "metrics.json"]
    with pikepdf.open(pdf_path) as pdf:
        with pdf.open_metadata() as meta:
            assert meta["dc:title"] == "Quick Look at Convolutions" and meta["dc:creator"] == ["Ada Tester"]
        assert str(pdf.Root.Lang) == "en"
        carried = pdf.attachments["metrics.json"].get_file().read_bytes()
        config = pdf.attachments["configuration.toml"].get_file().read_bytes().decode()
    assert carried == (out / "metrics.json").read_bytes()  # the very file the build wrote
    block = protocol.protocol(metrics.read(carried))  # what decides the numbers, read from them
    assert block["seeds"] == [0, 1] and block["epochs"] == 2 and block["backend"] == "tensorflow"
    assert 'profile = "quick"' in config and "train_per_class = 100" in config


def test_diff_of_a_build_with_itself_and_with_another_protocol(quick, tmp_path):
    same = cli("diff", str(quick.out), str(quick.out / "metrics.json"))
    assert same.code == 0, same.stderr
    assert "| test accuracy, dense |" in same.stdout and "| ECE, cnn3 |" in same.stdout
    assert "| 0.0 pp | no |" in same.stdout  # two seeds: an interval, and no change beyond it
    other = json.loads((quick.out / "metrics.json").read_text(encoding="utf-8"))
    other["study"]["seeds"] = 3
    (tmp_path / "metrics.json").write_text(json.dumps(other), encoding="utf-8")
    refused = cli("diff", str(quick.out), str(tmp_path))
    assert refused.code == 1 and refused.stderr.count("\n") == 1
    assert "different protocols (seeds 0, 1 vs 0, 1, 2)" in refused.stderr


def test_html_is_one_balanced_self_contained_file(quick):
    page = (quick.out / "report.html").read_text()
    checker = check_html(page)
    assert checker.problems == []
    assert_self_contained(page, checker)
    assert [" ".join(h.split()) for h in checker.h2] == list(HEADINGS)
    figures = [img for img in checker.imgs if "thumb" not in img.get("class", "")]
    assert len(figures) == quick.outputs["figures"]


def candidates(value: float | int) -> set[str]:
    """The ways the report may print a number: as percent, percentage points, count, p-value..."""
    v = abs(value)
    out = {str(value), str(v), f"{v:g}", f"{v * 100:g}", num(v), num(v, 1)}
    out |= {f"{v * 100:.2f}", f"{v * 100:.1f}", points(v), f"{v:.4f}", f"{v:#.2g}", f"{v:.3f}"}
    return out


def test_every_number_in_the_summary_is_in_metrics_json(quick):
    page = (quick.out / "report.html").read_text()
    section = re.search(r'<section class="summary".*?</section>', page, re.S).group(0)
    document = json.loads((quick.out / "metrics.json").read_text(encoding="utf-8"))
    allowed = set().union(*(candidates(v) for v in held_values(document)))
    numbers = re.findall(r"\d[\d,]*(?:\.\d+)?", text_of(section))
    assert len(numbers) > 10
    assert [n for n in numbers if n not in allowed] == []
    # The headline accuracies print exactly what metrics.json holds.
    for model in (document["roles"]["dense"], document["roles"]["headline"]):
        acc = dict(document["models"][model]["test_accuracy"])
        acc["has_ci"] = acc["n"] > 1
        assert mean_ci(acc) in text_of(section)


def test_metrics_json_is_the_summary_and_validates_against_the_shipped_schema(quick):
    text = (quick.out / "metrics.json").read_text(encoding="utf-8")
    validate(json.loads(text))
    assert metrics.read(text).to_json() == text  # it round-trips
    assert dotted_keys(json.loads(text)) == []  # nested: no key is a path split on dots


def dotted_keys(value: object, path: str = "") -> list[str]:
    """Every key with a dot in it, by its path."""
    if isinstance(value, dict):
        return [
            found
            for k, v in value.items()
            for found in ([f"{path}/{k}"] if "." in k else []) + dotted_keys(v, f"{path}/{k}")
        ]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in dotted_keys(v, f"{path}/{i}")]
    return []


def validate(document: dict) -> None:
    """Validate a metrics.json against the JSON Schema the package ships."""
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(metrics.shipped_schema())).validate(document)


def test_metrics_csv_and_json_hold_the_same_numbers(quick):
    nested = json.loads((quick.out / "metrics.json").read_text(encoding="utf-8"))
    with (quick.out / "metrics.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["path", "value"] and rows[1] == ["/schema_version", "2"]
    assert len(rows) - 1 == len(list(metrics.numbers(nested))) > 1000
    for path, value in rows[1:]:
        assert float(value) == pytest.approx(resolve(nested, path), rel=1e-12, abs=0), path
    assert {"study", "data", "provenance", "roles", "models", "comparisons", "analyses"} <= nested.keys()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_chromium_loads_the_html_without_console_errors(quick, tmp_path):
    shot = tmp_path / "shot.png"
    cmd = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        "--enable-logging=stderr",
        "--v=0",
        (quick.out / "report.html").resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    log = done.stdout + done.stderr
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", log[-2000:]
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    # Chromium logs page console messages as "INFO:CONSOLE:12]" (older builds "CONSOLE(12)").
    console = [line for line in log.splitlines() if re.search(r":CONSOLE[:(]\d+|net::ERR_", line)]
    assert console == []


def test_render_from_stored_results_trains_nothing(own):
    train_dir = own.out / "cache" / "train"
    before = {p.name: p.stat().st_mtime_ns for p in train_dir.iterdir()}
    (drawn,) = (own.out / "cache" / "figures").iterdir()  # the build stored its figures once
    drawn_at = (drawn / "record.json").stat().st_mtime_ns
    run = cli(
        "render",
        *own.common,
        "--offline",
        "--json",
        "--author",
        "Ada Tester",
        "--title",
        "Rendered Again",
        "--pdf-variant",
        "pdf/ua-1",
    )
    assert run.code == 0, run.stderr
    print(f"\nrender from stored results: {run.seconds:.1f} s; steps: {json.loads(run.stdout)['seconds']}")
    assert {p.name: p.stat().st_mtime_ns for p in train_dir.iterdir()} == before
    # Unchanged results and drawing code: the stored figures are reused, not drawn again.
    assert [p.name for p in (own.out / "cache" / "figures").iterdir()] == [drawn.name]
    assert (drawn / "record.json").stat().st_mtime_ns == drawn_at
    page = (own.out / "report.html").read_text()
    assert ">Rendered Again</h1>" in page and "Quick Look at Convolutions" not in page  # the flag wins
    assert "Ada Tester" in page
    import pikepdf

    with pikepdf.open(own.out / "report.pdf") as pdf, pdf.open_metadata() as meta:
        assert meta["pdfuaid:part"] == "1" and "pdfaid:part" not in meta  # --pdf-variant pdf/ua-1


def test_render_and_export_refuse_to_train(quick, tmp_path):
    empty = [
        "--config",
        str(quick.root / "q.toml"),
        "--out",
        str(tmp_path / "fresh"),
        "--data-dir",
        str(REAL_DIR),
    ]
    for command in ("render", "export"):
        run = cli(command, *empty, "--offline")
        assert run.code == 1
        message = run.stderr.strip()
        assert "\n" not in message and message.startswith("error:")
        assert (
            "training runs of the quick profile are not in" in message
            and "run `fmnist-report build`" in message
        )
    assert not (tmp_path / "fresh" / "report.html").exists()
    assert not (tmp_path / "fresh" / "cache" / "train").exists()


def test_export_from_stored_results(own):
    run = cli("export", *own.common, "--offline", "--json")
    assert run.code == 0, run.stderr
    meta = json.loads(run.stdout)
    assert {"fashion_mnist_cnn.keras", "model.tar.gz", "saved_model/saved_model.pb"} <= meta[
        "artifacts"
    ].keys()
    assert verify_export(own.out / "model")["training"]["record_key"] == meta["training"]["record_key"]


@dataclass
class TinyFigure:
    name: str
    caption: str
    section: str


def test_a_failed_render_leaves_the_previous_report_whole(own, monkeypatch):
    out = own.out
    names = ("report.html", "report.pdf", "metrics.json", "metrics.csv")
    kept = {name: (out / name).read_bytes() for name in names}
    figures = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}

    def fail(html: str, **options) -> bytes:
        raise render.RenderError("the PDF renderer failed")

    from .factories import png

    # Quick stand-ins for every figure (same names, other pixels); the failure comes after the HTML.
    stand_ins = [TinyFigure(Path(name).stem, "A stand-in.", "eda") for name in sorted(figures)]
    monkeypatch.setattr(
        "fmnist_report.pipeline.make_figures",
        lambda results, summary, **_: (stand_ins, {f.name: png() for f in stand_ins}),
    )
    monkeypatch.setattr(render, "render_pdf", fail)
    run = cli("render", *own.common, "--offline", "--quiet", "--title", "A Different Title")
    assert run.code == 1 and "the PDF renderer failed" in run.stderr, run.exception
    assert {name: (out / name).read_bytes() for name in names} == kept
    assert {p.name: p.read_bytes() for p in (out / "figures").iterdir()} == figures


def test_a_build_with_the_example_variants_gives_their_section_in_pdf_and_metrics(quick, tmp_path):
    out = Path(
        shutil.copytree(quick.out, tmp_path / "output")
    )  # the built-in runs are stored: only variants train
    tables = (Path(__file__).parents[1] / "report" / "examples" / "variants.toml").read_text(encoding="utf-8")
    settings = tmp_path / "v.toml"
    settings.write_text(CONFIG + tables[tables.index("\n[[variants]]") :], encoding="utf-8")
    run = cli("build", "--config", str(settings), "--out", str(out), "--data-dir", str(REAL_DIR), "--offline")
    assert run.code == 0, f"{run.stderr}\n{run.exception!r}"
    assert "the variants add 6 of these runs (6 to train)" in run.stdout
    document = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    validate(document)
    text = " ".join(pdf_text(out / "report.pdf").replace("-\n", "-").split())
    assert "5 Your variants" in text and "6 Interpretation" in text
    for name in ("dropout", "batch-norm", "half-filters"):
        model = f"cnn3[{name}]"
        assert f"CNN 3x3 [{name}]" in text
        accuracy = document["models"][model]["test_accuracy"]["mean"]
        assert f"{accuracy * 100:.2f}%" in text
        comp = document["comparisons"][f"cnn3__vs__{model}"]
        assert f"{pvalue(comp['p_value'])} (paired t) {pvalue(comp['p_adjusted'])}" in text
        detectable = (comp["power"] or {}).get("detectable")
        if detectable is not None:  # not significant: the power sentence quotes the same number
            assert f"detects a true difference of about {points(detectable)} pp" in text
    assert "Validation accuracy per epoch of each variant and its base" in text
    assert {"variants_curves.png", "variants_cost.png"} <= {p.name for p in (out / "figures").iterdir()}
