"""The data layer: IDX parsing, checksums, source order, preprocessing and subsets."""

from __future__ import annotations

import gzip
import urllib.error

import numpy as np
import pytest

from fmnist_report import data as data_mod
from fmnist_report import idx
from fmnist_report.errors import DataError

from .factories import (
    REAL_DIR,
    Mirror,
    idx_bytes,
    needs_real_data,
    real_mirror,
    tiny_arrays,
    write_idx_dir,
)

IMAGES = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
LABELS = np.array([0, 9, 4], dtype=np.uint8)


def test_parse_good_images_and_labels():
    images = idx.parse_idx(idx_bytes(IMAGES), "img", images=True, count=3)
    labels = idx.parse_idx(idx_bytes(LABELS), "lab", images=False, count=3)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    assert images.dtype == np.uint8


def test_truncated_file_is_an_error():
    with pytest.raises(DataError, match=r"img: file is truncated .*expected 2368"):
        idx.parse_idx(idx_bytes(IMAGES)[:-5], "img", images=True)


def test_truncated_header_is_an_error():
    with pytest.raises(DataError, match="header alone"):
        idx.parse_idx(b"\x00\x00\x08", "lab", images=False)


def test_trailing_bytes_are_an_error():
    with pytest.raises(DataError, match="7 unexpected trailing bytes"):
        idx.parse_idx(idx_bytes(LABELS) + b"\x00" * 7, "lab", images=False)


def test_wrong_magic_is_an_error():
    # A label file handed over as images: magic 2049 where 2051 is expected.
    with pytest.raises(DataError, match="wrong magic number 2049, expected 2051"):
        idx.parse_idx(idx_bytes(LABELS), "img", images=True)


def test_wrong_type_byte_is_an_error():
    with pytest.raises(DataError, match="data type byte is 0x0d"):
        idx.parse_idx(idx_bytes(LABELS, type_byte=0x0D), "lab", images=False)


def test_wrong_image_size_is_an_error():
    with pytest.raises(DataError, match="images are 14x14, expected 28x28"):
        idx.parse_idx(idx_bytes(np.zeros((2, 14, 14), np.uint8)), "img", images=True)


def test_label_out_of_range_is_an_error():
    with pytest.raises(DataError, match="label 12 is out of range 0..9"):
        idx.parse_idx(idx_bytes(np.array([1, 12], np.uint8)), "lab", images=False)


def test_count_mismatch_is_an_error():
    with pytest.raises(DataError, match="declares 3 items, expected 60000"):
        idx.parse_idx(idx_bytes(LABELS), "lab", images=False, count=60000)


def test_huge_declared_size_fails_before_allocating():
    # Header claims 2**31 images; the check must fail on length, not try to allocate.
    head = bytes([0, 0, 8, 3]) + (2**31 - 1).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    with pytest.raises(DataError, match="truncated"):
        idx.parse_idx(head + b"\x00" * 100, "img", images=True)


def test_read_payload_accepts_gzip_and_raw(tmp_path):
    payload = idx_bytes(LABELS)
    (tmp_path / "a.gz").write_bytes(gzip.compress(payload))
    (tmp_path / "a").write_bytes(payload)
    assert idx.read_payload(tmp_path / "a.gz") == payload
    assert idx.read_payload(tmp_path / "a") == payload


def test_truncated_gzip_is_an_error(tmp_path):
    blob = gzip.compress(idx_bytes(IMAGES))
    (tmp_path / "x.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        idx.read_payload(tmp_path / "x.gz")


@pytest.mark.parametrize("gz", [True, False])
def test_load_source_without_verification_reads_gz_and_raw(isolated_env, gz):
    directory = write_idx_dir(isolated_env / "d", gz=gz)
    source = data_mod.locate(directory)
    dataset, checks = data_mod.load_source(source, verify=False, strict_counts=False)
    assert dataset.x_train.shape == (40, 28, 28)
    assert dataset.y_test.shape == (20,)
    assert not any(c.ok for c in checks)  # tiny files cannot match the real checksums


def test_md5_mismatch_is_an_error(isolated_env):
    source = data_mod.locate(write_idx_dir(isolated_env / "d"))
    with pytest.raises(
        DataError, match=r"train-images-idx3-ubyte.gz: content checksum mismatch .*expected f4a87"
    ):
        data_mod.load_source(source)


def test_image_label_count_mismatch(isolated_env):
    arrays = tiny_arrays()
    arrays["train-labels"] = arrays["train-labels"][:-1]
    source = data_mod.locate(write_idx_dir(isolated_env / "d", arrays=arrays))
    with pytest.raises(DataError, match="train set has 40 images but 39 labels"):
        data_mod.load_source(source, verify=False, strict_counts=False)


def test_source_order(isolated_env, monkeypatch):
    system = write_idx_dir(isolated_env / "system")
    assert data_mod.locate().label.startswith("system package")
    cache = write_idx_dir(data_mod.user_cache_dir())
    assert data_mod.locate().directory == cache
    env_dir = write_idx_dir(isolated_env / "env")
    monkeypatch.setenv(data_mod.ENV_DATA_DIR, str(env_dir))
    assert data_mod.locate().directory == env_dir
    explicit = write_idx_dir(isolated_env / "explicit")
    assert data_mod.locate(explicit).directory == explicit
    assert system.exists()


def test_named_folder_without_files_is_an_error_not_a_fallback(isolated_env):
    write_idx_dir(isolated_env / "system")
    with pytest.raises(DataError, match="--data-dir .* lacks train-images-idx3-ubyte"):
        data_mod.locate(isolated_env / "empty")


def test_nothing_found_offline_names_the_fixes(isolated_env):
    with pytest.raises(DataError, match="install the Debian package dataset-fashion-mnist.*--offline"):
        data_mod.load(offline=True)


def test_fetch_is_https_with_the_payload_checked(isolated_env, tmp_path):
    # Files whose content is not Fashion-MNIST: each download is checked before it is kept.
    mirror = Mirror({f"{s.filename}.gz": gzip.compress(b"not IDX") for s in data_mod.FILES})
    with pytest.raises(DataError, match="content checksum mismatch"):
        data_mod.fetch(tmp_path / "dest", opener=mirror)
    assert mirror.requested == [data_mod.BASE_URL + "train-images-idx3-ubyte.gz"]
    assert data_mod.BASE_URL.startswith("https://")
    assert not list((tmp_path / "dest").glob("*.gz"))  # nothing half-written left behind


@needs_real_data
def test_fetch_keeps_verified_files(isolated_env, tmp_path):
    # Debian's .gz wrappers differ from the mirror's, so only the payload MD5 can vouch for them.
    mirror = real_mirror()
    dest = data_mod.fetch(tmp_path / "dest", opener=mirror)
    assert mirror.requested == [data_mod.BASE_URL + f"{s.filename}.gz" for s in data_mod.FILES]
    checks = data_mod.load_source(data_mod.locate(dest))[1]
    assert all(c.ok for c in checks)
    data_mod.fetch(dest, opener=mirror)  # valid files are not downloaded again
    assert len(mirror.requested) == 4


def test_fetch_refuses_plain_http(isolated_env, tmp_path):
    mirror = Mirror({})
    with pytest.raises(DataError, match="refusing to download http://example.org/.*only https://"):
        data_mod.fetch(tmp_path / "dest", base_url="http://example.org/", opener=mirror)
    assert mirror.requested == []


def test_fetch_refuses_a_redirect_to_plain_http(isolated_env, tmp_path):
    mirror = Mirror({f"{s.filename}.gz": b"" for s in data_mod.FILES}, redirect_to="http://example.org/")
    with pytest.raises(DataError, match="redirected to http://example.org/train-images.*not HTTPS"):
        data_mod.fetch(tmp_path / "dest", opener=mirror)


def test_fetch_of_a_truncated_download_is_an_error(isolated_env, tmp_path):
    mirror = Mirror({f"{s.filename}.gz": gzip.compress(b"x" * 1000)[:-9] for s in data_mod.FILES})
    with pytest.raises(DataError, match="not a complete gzip file.*try again"):
        data_mod.fetch(tmp_path / "dest", opener=mirror)


def test_fetch_without_network_names_the_offline_fix(isolated_env, tmp_path):
    def unreachable(url: str, timeout: float):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(DataError, match="cannot download https://.*check the network.*--offline"):
        data_mod.fetch(tmp_path / "dest", opener=unreachable)


def test_scale_and_one_hot():
    x = data_mod.scale(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.dtype == np.float32 and x.shape == (1, 1, 2, 1)
    assert x.min() == 0.0 and x.max() == 1.0
    y = data_mod.one_hot(np.array([0, 3, 9]))
    assert y.shape == (3, 10) and y.sum() == 3 and y[1, 3] == 1.0
    with pytest.raises(ValueError, match="0..9"):
        data_mod.one_hot(np.array([10]))


def test_stratified_subset_is_balanced_and_deterministic():
    labels = np.repeat(np.arange(10), 50).astype(np.uint8)
    a = data_mod.stratified_indices(labels, 7, seed=3)
    b = data_mod.stratified_indices(labels, 7, seed=3)
    np.testing.assert_array_equal(a, b)
    assert np.bincount(labels[a]).tolist() == [7] * 10
    assert not np.array_equal(a, data_mod.stratified_indices(labels, 7, seed=4))
    with pytest.raises(DataError, match="fewer than the 51"):
        data_mod.stratified_indices(labels, 51)


@needs_real_data
@pytest.mark.realdata
def test_real_installed_data():
    dataset = data_mod.load_source(data_mod.locate(REAL_DIR))[0]
    assert dataset.x_train.shape == (60000, 28, 28)
    assert dataset.x_test.shape == (10000, 28, 28)
    assert data_mod.class_counts(dataset.y_train) == [6000] * 10
    assert data_mod.class_counts(dataset.y_test) == [1000] * 10
    assert dataset.checksums == {s.key: s.payload_md5 for s in data_mod.FILES}
    assert (dataset.x_train.min(), dataset.x_train.max()) == (0, 255)
