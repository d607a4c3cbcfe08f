"""Find, verify and load Fashion-MNIST: IDX parsing, content checksums, stratified subsets."""

from __future__ import annotations

import gzip
import hashlib
import os
import ssl
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_report.errors import DataError
from fmnist_report.idx import FIX_HINT, md5, parse_idx, read_payload
from fmnist_report.runtime import user_cache_root
from fmnist_report.store import atomic_write

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


#: The HTTPS mirror Keras downloads Fashion-MNIST from (``keras.datasets.fashion_mnist``).
BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
ENV_DATA_DIR = "FMNIST_DATA_DIR"
#: Where Debian's ``dataset-fashion-mnist`` package installs the files.
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)


@dataclass(frozen=True)
class IdxSpec:
    """One of the four official files and what its content must be."""

    key: str
    filename: str
    payload_md5: str
    count: int

    @property
    def is_images(self) -> bool:
        return "images" in self.key


FILES: tuple[IdxSpec, ...] = (
    IdxSpec(
        "train-images",
        "train-images-idx3-ubyte",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        60000,
    ),
    IdxSpec(
        "train-labels",
        "train-labels-idx1-ubyte",
        "9018921c3c673c538a1fc5bad174d6f9",
        60000,
    ),
    IdxSpec(
        "test-images",
        "t10k-images-idx3-ubyte",
        "8181f5470baa50b63fa0f6fddb340f0a",
        10000,
    ),
    IdxSpec(
        "test-labels",
        "t10k-labels-idx1-ubyte",
        "15d484375f8d13e6eb1aabb0c3f46965",
        10000,
    ),
)
SPECS = {spec.key: spec for spec in FILES}


@dataclass(frozen=True)
class Dataset:
    """Fashion-MNIST as uint8 arrays: images (n, 28, 28), labels (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES
    source: str = ""
    checksums: dict[str, str] = field(default_factory=dict)
    subset: str = "full"

    @property
    def fingerprint(self) -> str:
        """A short hash of the content: checksums plus the subset taken from it."""
        text = ";".join(f"{k}={v}" for k, v in sorted(self.checksums.items())) + f";{self.subset}"
        if not self.checksums:  # data made in memory (tests): hash the arrays themselves
            h = hashlib.sha256()
            for arr in (self.x_train, self.y_train, self.x_test, self.y_test):
                h.update(np.ascontiguousarray(arr).tobytes())
            text += h.hexdigest()
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- locating the files -------------------------------------------------------------------


def user_cache_dir() -> Path:
    """Where downloads go: ``$XDG_CACHE_HOME/fmnist-report/fashion-mnist``."""
    return user_cache_root() / "fashion-mnist"


def files_in(directory: Path) -> dict[str, Path] | None:
    """The four files in a folder (``.gz`` or raw), or None if any is missing."""
    found: dict[str, Path] = {}
    for spec in FILES:
        for candidate in (directory / f"{spec.filename}.gz", directory / spec.filename):
            if candidate.is_file():
                found[spec.key] = candidate
                break
        else:
            return None
    return found


@dataclass(frozen=True)
class Source:
    """A folder that holds the four files, and how it was chosen."""

    label: str
    directory: Path
    files: dict[str, Path]


def candidates(data_dir: Path | None = None) -> list[tuple[str, Path, bool]]:
    """Folders to look in, in order: (label, folder, whether the user named it explicitly)."""
    out: list[tuple[str, Path, bool]] = []
    if data_dir is not None:
        out.append(("--data-dir", Path(data_dir), True))
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        out.append((ENV_DATA_DIR, Path(env), True))
    out.append(("user cache", user_cache_dir(), False))
    out.extend(("system package dataset-fashion-mnist", d, False) for d in SYSTEM_DIRS)
    return out


def locate(data_dir: Path | None = None) -> Source | None:
    """The first folder holding all four files; a folder the user named must hold them."""
    for label, directory, explicit in candidates(data_dir):
        found = files_in(directory)
        if found is not None:
            return Source(label, directory, found)
        if explicit:
            missing = [
                s.filename
                for s in FILES
                if not (directory / s.filename).is_file() and not (directory / f"{s.filename}.gz").is_file()
            ]
            raise DataError(
                f"{label} {directory} lacks {', '.join(missing)}; put the four Fashion-MNIST "
                "files there or run `fmnist-report data fetch`"
            )
    return None


def not_found_message() -> str:
    where = ", ".join(str(d) for _, d, _ in candidates())
    return (
        f"Fashion-MNIST not found (looked in {where}); install the Debian package "
        f"dataset-fashion-mnist, set {ENV_DATA_DIR}, or run `fmnist-report data fetch`"
    )


# -- downloading --------------------------------------------------------------------------

ProgressFn = Callable[[str, int, int], None]
#: Opens a URL the way :func:`urllib.request.urlopen` does; tests pass a stand-in.
Opener = Callable[..., Any]


class HTTPSOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another https:// URL, refusing any other before it is requested.

    urllib follows redirects itself, so a check of the final URL would come after the
    plain-HTTP request had been sent; this one runs before.
    """

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if not newurl.lower().startswith("https://"):
            raise DataError(f"{req.full_url} redirected to {newurl}, which is not HTTPS; not downloading it")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def https_opener(context: ssl.SSLContext | None = None) -> Opener:
    """``urlopen`` whose redirects stay on HTTPS (`HTTPSOnlyRedirects`); ``context`` sets the TLS trust."""
    handlers: list[Any] = [HTTPSOnlyRedirects()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers).open


def fetch(
    dest: Path | None = None,
    *,
    base_url: str = BASE_URL,
    progress: ProgressFn | None = None,
    force: bool = False,
    opener: Opener | None = None,
) -> Path:
    """Download the four files over HTTPS into ``dest`` (the user cache by default), verified.

    Each file must decompress to the official payload (its MD5), the same check a local
    copy gets; it is then moved into place atomically, so an interrupted download never
    leaves a bad file behind. ``opener`` defaults to `https_opener`.
    """
    opener = opener or https_opener()
    dest = Path(dest or user_cache_dir())
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {dest} ({exc.strerror}); choose a writable --dest") from exc
    for spec in FILES:
        target = dest / f"{spec.filename}.gz"
        if target.is_file() and not force:
            try:
                if md5(read_payload(target)) == spec.payload_md5:
                    continue
            except DataError:
                pass
        url = base_url + f"{spec.filename}.gz"
        blob = _download(url, spec.key, progress, opener)
        try:
            payload = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{url}: the download is not a complete gzip file ({exc}); try again") from exc
        if md5(payload) != spec.payload_md5:
            raise DataError(
                f"{url}: content checksum mismatch (MD5 {md5(payload)}, expected {spec.payload_md5}); "
                "try again later or fetch the files by hand"
            )
        atomic_write(target, blob, fix="choose a writable --dest")
    return dest


def _download(url: str, key: str, progress: ProgressFn | None, opener: Opener) -> bytes:
    if not url.startswith("https://"):
        raise DataError(f"refusing to download {url}: only https:// URLs are used")
    try:
        with opener(url, timeout=60) as resp:
            final = resp.geturl()
            if not final.startswith("https://"):  # a redirect must not drop TLS
                raise DataError(f"{url} redirected to {final}, which is not HTTPS; not downloading it")
            total = int(resp.headers.get("Content-Length") or 0)
            chunks, done = [], 0
            while chunk := resp.read(1 << 16):
                chunks.append(chunk)
                done += len(chunk)
                if progress:
                    progress(key, done, total)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"cannot download {url} ({reason}); check the network, or install the Debian "
            f"package dataset-fashion-mnist and run with --offline"
        ) from exc
    return b"".join(chunks)


# -- loading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCheck:
    """The verification of one file, as `data check` prints it."""

    key: str
    path: Path
    md5: str
    expected_md5: str
    shape: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return self.md5 == self.expected_md5


def load_source(
    source: Source, *, verify: bool = True, strict_counts: bool = True
) -> tuple[Dataset, list[FileCheck]]:
    """Read, parse and (by default) checksum the four files of a source."""
    arrays: dict[str, np.ndarray] = {}
    checks: list[FileCheck] = []
    for spec in FILES:
        path = source.files[spec.key]
        payload = read_payload(path)
        digest = md5(payload)
        if verify and digest != spec.payload_md5:
            raise DataError(
                f"{path}: content checksum mismatch (MD5 {digest}, expected {spec.payload_md5}); "
                f"the file is corrupt or not Fashion-MNIST; {FIX_HINT}"
            )
        arrays[spec.key] = parse_idx(
            payload, str(path), images=spec.is_images, count=spec.count if strict_counts else None
        )
        checks.append(FileCheck(spec.key, path, digest, spec.payload_md5, arrays[spec.key].shape))
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}-images"]), len(arrays[f"{split}-labels"])
        if n_img != n_lab:
            raise DataError(f"{split} set has {n_img} images but {n_lab} labels; {FIX_HINT}")
    dataset = Dataset(
        x_train=arrays["train-images"],
        y_train=arrays["train-labels"],
        x_test=arrays["test-images"],
        y_test=arrays["test-labels"],
        source=f"{source.label}: {source.directory}",
        checksums={c.key: c.md5 for c in checks},
    )
    return dataset, checks


def load(
    data_dir: Path | None = None, *, offline: bool = False, progress: ProgressFn | None = None
) -> Dataset:
    """Find, verify and load Fashion-MNIST, downloading it only when allowed and needed."""
    source = locate(data_dir)
    if source is None:
        if offline:
            raise DataError(not_found_message() + " (downloads are off: --offline)")
        fetch(progress=progress)
        source = locate(data_dir)
        assert source is not None
    return load_source(source)[0]


# -- preprocessing ------------------------------------------------------------------------


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1]."""
    return (images.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Integer labels -> float32 one-hot rows."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def stratified_indices(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``per_class`` items of each class, chosen by a seeded generator."""
    rng = np.random.default_rng(seed)
    picks = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        if len(idx) < per_class:
            raise DataError(
                f"class {cls} has only {len(idx)} items, fewer than the {per_class} asked for; "
                "lower train_per_class/test_per_class"
            )
        picks.append(rng.choice(idx, size=per_class, replace=False))
    return np.sort(np.concatenate(picks))


def subset(data: Dataset, train_per_class: int | None, test_per_class: int | None, seed: int = 0) -> Dataset:
    """A deterministic stratified subset (None keeps a split whole)."""
    if train_per_class is None and test_per_class is None:
        return data
    tr = stratified_indices(data.y_train, train_per_class, seed) if train_per_class else slice(None)
    te = stratified_indices(data.y_test, test_per_class, seed) if test_per_class else slice(None)
    return Dataset(
        x_train=data.x_train[tr],
        y_train=data.y_train[tr],
        x_test=data.x_test[te],
        y_test=data.y_test[te],
        class_names=data.class_names,
        source=data.source,
        checksums=data.checksums,
        subset=f"train_per_class={train_per_class},test_per_class={test_per_class},seed={seed}",
    )


def class_counts(labels: np.ndarray, num_classes: int = 10) -> list[int]:
    return np.bincount(labels, minlength=num_classes).tolist()
