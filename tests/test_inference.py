"""Preprocessing of every input kind (the codec and input files), prediction, and the `predict` command."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.errors import InputError
from fmnist_report.serving import codec, inference

from .factories import idx_bytes

runner = CliRunner()


def garment(value: int = 230, background: int = 0, shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """A bar (the 'garment') on a flat background, uint8."""
    img = np.full(shape, background, dtype=np.uint8)
    h, w = shape
    img[h // 4 : h // 2, w // 6 : w - w // 6] = value
    return img


def png_bytes(arr: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    (Image.fromarray(arr, mode=mode) if mode else Image.fromarray(arr)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An untrained CNN (seeded), exported once for this file."""
    import keras

    from fmnist_report.models import build_cnn
    from fmnist_report.serving.export import export_model

    keras.utils.set_random_seed(0)
    model = build_cnn(3)
    model_dir = tmp_path_factory.mktemp("export") / "model"
    export_model(model, model_dir, {"training": {"note": "untrained test model"}})
    return model, model_dir


# -- arrays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "n"),
    [((28, 28), 1), ((784,), 1), ((28, 28, 1), 1), ((5, 28, 28), 5), ((5, 784), 5), ((5, 28, 28, 1), 5)],
)
def test_to_batch_accepts_the_documented_shapes(shape, n):
    arr = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    x = codec.to_batch(arr)
    assert x.shape == (n, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x.reshape(-1), arr.reshape(-1).astype(np.float32) / 255)


@pytest.mark.parametrize(
    ("arr", "match"),
    [
        (np.zeros((27, 28), np.uint8), "shape"),
        (np.zeros((3, 28, 28, 3), np.uint8), "shape"),
        (np.zeros((0, 28, 28), np.uint8), "empty"),
        (np.full((28, 28), np.nan, np.float32), "NaN"),
        (np.full((28, 28), np.inf, np.float64), "infinite"),
        (np.full((28, 28), 1.5, np.float32), r"\[0, 1\], found 1\.5"),
        (np.full((28, 28), -0.1, np.float64), r"\[0, 1\]"),
        (np.zeros((28, 28), np.int64), "dtype int64"),
        (np.zeros((28, 28), bool), "dtype bool"),
    ],
)
def test_to_batch_refuses_bad_arrays(arr, match):
    with pytest.raises(codec.CodecError, match=match):
        codec.to_batch(arr, "x.npy")


def test_float_input_is_kept_exactly():
    arr = np.random.default_rng(1).random((2, 784)).astype(np.float32)
    np.testing.assert_array_equal(codec.to_batch(arr).reshape(2, 784), arr)


def test_npy_file(tmp_path):
    arr = np.random.default_rng(2).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    np.save(tmp_path / "batch.npy", arr)
    x = inference.load_inputs(tmp_path / "batch.npy")
    np.testing.assert_array_equal(x, arr.astype(np.float32) / 255)


def test_npy_refuses_pickles_truncation_and_npz(tmp_path):
    obj = np.empty(2, dtype=object)
    np.save(tmp_path / "obj.npy", obj, allow_pickle=True)
    with pytest.raises(InputError, match=r"not a valid \.npy array"):
        inference.load_inputs(tmp_path / "obj.npy")
    np.save(tmp_path / "ok.npy", np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:-10])
    with pytest.raises(InputError, match="header declares"):
        inference.load_inputs(tmp_path / "cut.npy")
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros((28, 28), np.uint8))
    with pytest.raises(codec.CodecError, match="npy"):
        codec.from_npy_bytes(buf.getvalue(), "a.npz")


# -- images -------------------------------------------------------------------------------


def test_png_in_dataset_polarity_is_unchanged(tmp_path):
    arr = garment()
    (tmp_path / "dark.png").write_bytes(png_bytes(arr))
    np.testing.assert_array_equal(
        inference.load_inputs(tmp_path / "dark.png")[0, ..., 0], arr / np.float32(255)
    )


def test_png_with_light_background_is_inverted(tmp_path):
    light = garment(value=25, background=255)
    (tmp_path / "light.png").write_bytes(png_bytes(light))
    x = inference.load_inputs(tmp_path / "light.png")
    np.testing.assert_array_equal(x[0, ..., 0], (255 - light) / np.float32(255))
    assert x[0, 0, 0, 0] == 0.0 and x[0, 10, 14, 0] == pytest.approx(230 / 255)
    # The polarity can be forced either way.
    kept = inference.load_inputs(tmp_path / "light.png", invert=False)
    np.testing.assert_array_equal(kept[0, ..., 0], light / np.float32(255))


def test_large_rgb_and_rgba_images_become_28x28(tmp_path):
    rgb = np.stack([garment(40, 250, (120, 90))] * 3, axis=-1)
    (tmp_path / "big.png").write_bytes(png_bytes(rgb))
    x = inference.load_inputs(tmp_path / "big.png")
    assert x.shape == (1, 28, 28, 1)
    assert x[0, 0, 0, 0] < 0.05 and x.max() > 0.7  # dark background, bright garment

    rgba = np.zeros((60, 60, 4), np.uint8)  # transparent everywhere except an opaque dark bar
    rgba[20:30, 10:50] = (30, 30, 30, 255)
    (tmp_path / "cutout.png").write_bytes(png_bytes(rgba, "RGBA"))
    y = inference.load_inputs(tmp_path / "cutout.png")
    assert y[0, 0, 0, 0] == 0.0 and y.max() > 0.8


def test_jpeg_and_16_bit_png(tmp_path):
    (tmp_path / "g.jpg").write_bytes(png_bytes(garment(), fmt="JPEG"))
    x = inference.load_inputs(tmp_path / "g.jpg")
    assert np.abs(x[0, ..., 0] - garment() / 255).max() < 0.1
    wide = garment().astype(np.uint16) * 257
    (tmp_path / "g16.png").write_bytes(png_bytes(wide))
    np.testing.assert_array_equal(
        inference.load_inputs(tmp_path / "g16.png")[0, ..., 0], garment() / np.float32(255)
    )


def test_broken_and_huge_images_are_refused(tmp_path):
    (tmp_path / "cut.png").write_bytes(png_bytes(garment())[:40])
    with pytest.raises(InputError, match="not a readable PNG or JPEG"):
        inference.load_inputs(tmp_path / "cut.png")
    huge = Image.new("L", (5000, 4000))
    buf = io.BytesIO()
    huge.save(buf, format="PNG")
    with pytest.raises(codec.CodecError, match="downscale"):
        codec.from_image_bytes(buf.getvalue())


# -- IDX and other files --------------------------------------------------------------------


def test_idx_raw_and_gzipped(tmp_path):
    images = np.random.default_rng(3).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    (tmp_path / "imgs-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "imgs-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    for name in ("imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"):
        x = inference.load_inputs(tmp_path / name)
        np.testing.assert_array_equal(x[..., 0], images / np.float32(255))


def test_idx_label_file_and_unknown_files_are_refused(tmp_path):
    (tmp_path / "labels").write_bytes(idx_bytes(np.arange(10, dtype=np.uint8)))
    with pytest.raises(InputError, match=r"wrong magic number 2049.*idx3-ubyte"):
        inference.load_inputs(tmp_path / "labels")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="unrecognised file type"):
        inference.load_inputs(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="cannot read"):
        inference.load_inputs(tmp_path / "absent.png")


# -- prediction -----------------------------------------------------------------------------


def test_predict_ranks_classes(exported):
    model, _ = exported
    x = codec.to_batch(np.random.default_rng(4).integers(0, 256, (3, 28, 28), dtype=np.uint8))
    ranked = inference.predict(model, x, top_k=3)
    probs = model.predict_on_batch(x)
    assert len(ranked) == 3 and all(len(r) == 3 for r in ranked)
    for row, p in zip(ranked, probs, strict=True):
        assert [prob for _, prob in row] == sorted((prob for _, prob in row), reverse=True)
        assert row[0][0] == inference.CLASS_NAMES[int(p.argmax())]
        assert row[0][1] == pytest.approx(float(p.max()), abs=1e-6)
    with pytest.raises(ValueError, match="top_k"):
        inference.predict(model, x, top_k=11)
    # The codec's refusals reach the caller as InputError, which the CLI prints as one line.
    with pytest.raises(InputError, match=r"input: array shape \(27, 28\)"):
        inference.predict(model, np.zeros((27, 28), np.uint8))


def test_predict_cli_png_npy_idx(exported, tmp_path):
    model, model_dir = exported
    dark = garment()
    (tmp_path / "light.png").write_bytes(png_bytes(255 - dark))  # inverted back on load
    np.save(tmp_path / "two.npy", np.stack([dark, dark]))
    (tmp_path / "one-idx3-ubyte").write_bytes(idx_bytes(dark[np.newaxis]))
    files = [str(tmp_path / n) for n in ("light.png", "two.npy", "one-idx3-ubyte")]
    result = runner.invoke(app, ["predict", *files, "--model-dir", str(model_dir), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["input"] for r in rows] == [files[0], f"{files[1]}[0]", f"{files[1]}[1]", files[2]]
    # The light-background PNG was inverted, so all four are the same image.
    assert all(r["top"] == rows[0]["top"] for r in rows)
    expected = inference.predict(model, dark, top_k=3)[0]
    assert [t["class"] for t in rows[0]["top"]] == [c for c, _ in expected]

    table = runner.invoke(app, ["predict", files[0], "--model-dir", str(model_dir), "--top", "2"])
    assert table.exit_code == 0 and expected[0][0] in table.output and "#2" in table.output


def test_predict_cli_errors_are_one_line(exported, tmp_path):
    _, model_dir = exported
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    result = runner.invoke(app, ["predict", str(tmp_path / "bad.npy"), "--model-dir", str(model_dir)])
    assert result.exit_code == 1
    assert "not a valid .npy array" in result.output and "Traceback" not in result.output
    np.save(tmp_path / "ok.npy", garment())
    missing = runner.invoke(app, ["predict", str(tmp_path / "ok.npy"), "--model-dir", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert len(missing.output.strip().splitlines()) <= 2  # one message, maybe soft-wrapped


def test_predict_prints_long_input_names_whole(exported, tmp_path):
    _, model_dir = exported
    folder = tmp_path / ("a-folder-with-a-long-name-" * 4)
    folder.mkdir()
    path = folder / "shirt-photographed-on-the-kitchen-table.npy"
    np.save(path, garment())
    result = runner.invoke(app, ["predict", str(path), "--model-dir", str(model_dir)], terminal_width=80)
    assert result.exit_code == 0, result.output
    assert str(path) in result.output and "…" not in result.output
