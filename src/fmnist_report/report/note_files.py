"""The files a note may read: itself, inside the settings file's folder, and its images, inside its own.

Whatever a note embeds ends up in report.html, which CI publishes, so a path is trusted only
after its symlinks are resolved, only regular files of a bounded size are read (never more than
the limit and one byte, so ``/dev/zero`` or a growing file cannot fill the memory), and an image
must be, by its content, the kind its name says. A refusal is one line that names the file and
the fix, and never any of the refused file's bytes.
"""

from __future__ import annotations

import base64
import io
import os
import stat
import warnings
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote

from fmnist_report.errors import ConfigError

#: The largest note read: generous for prose (a long discussion is some 30 KiB), far from the
#: thousand pages a pasted data file makes.
MAX_NOTE_BYTES = 256 * 1024
#: The largest image a note may embed, in bytes and in pixels (a 48-megapixel photo fits).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000
#: The images a note may embed, by suffix: their media type and their Pillow format.
IMAGE_KINDS = {
    ".png": ("image/png", "PNG"),
    ".jpg": ("image/jpeg", "JPEG"),
    ".jpeg": ("image/jpeg", "JPEG"),
    ".gif": ("image/gif", "GIF"),
}


#: How a file of each format begins.
MAGIC = {"PNG": (b"\x89PNG\r\n\x1a\n",), "JPEG": (b"\xff\xd8\xff",), "GIF": (b"GIF87a", b"GIF89a")}
#: Opening never blocks (a FIFO) and never follows a symlink swapped in after the check; on
#: Windows, which has neither, it reads bytes, not text.
_OPEN_FLAGS = os.O_RDONLY | sum(
    getattr(os, flag, 0) for flag in ("O_NONBLOCK", "O_NOFOLLOW", "O_CLOEXEC", "O_BINARY")
)


class Unreadable(Exception):
    """Why a file was not read; the message ends a sentence that begins with the file's name."""


def media_type(name: str) -> str:
    """The media type of an image a note may embed, by its name (`IMAGE_KINDS`); checked names only."""
    return IMAGE_KINDS[PurePosixPath(name).suffix.lower()][0]


def size_text(n: int) -> str:
    """``256 KiB``, ``10 MiB``: a limit as the messages print it."""
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n >> 10} KiB"


def resolved(path: Path) -> Path | None:
    """``path`` with every symlink followed, or None where it cannot be (a loop, a NUL byte)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def shown(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` where it is under it, else as it is."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, of at most ``limit`` bytes (``what`` names the kind)."""
    not_regular = Unreadable("is not a regular file (a folder, device or FIFO)")
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise not_regular
        fd = os.open(path, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise not_regular
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise Unreadable("does not exist") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise Unreadable(f"is larger than the {size_text(limit)} {what} may be")
    return data


def read_note(place: str, path: Path, folder: Path) -> bytes:
    """The bytes of the note at ``place``, ``path`` as the settings name it, under their ``folder``."""
    name = shown(path, folder)
    real = resolved(path)
    root = resolved(folder)
    if real is None or root is None:
        raise ConfigError(
            f"report.notes.{place}: {name} cannot be resolved (a symlink loop?); name a Markdown file"
        )
    if not real.is_relative_to(root):
        raise ConfigError(
            f"report.notes.{place}: {name} is outside the settings file's folder {folder} (symlinks "
            "followed); move the note into that folder or a folder under it and name it relative to it"
        )
    try:
        return read_bounded(real, MAX_NOTE_BYTES, "a note")
    except Unreadable as why:
        fix = {
            "does not exist": "write it or drop the key",
            "is larger than": "a note is prose: shorten it or share it between places",
        }
        hint = next((v for k, v in fix.items() if str(why).startswith(k)), "name a Markdown file")
        raise ConfigError(f"report.notes.{place}: {name} {why}; {hint}") from None


def image_uri(note: Path, folder: Path, src: str) -> str:
    """The ``data:`` URI of the image ``src`` (as the Markdown parser encodes it) of ``note``.

    The image must lie beside the note or in a folder under it, symlinks followed; ``folder``
    is the settings file's folder, which the messages name paths relative to.
    """
    label = shown(note, folder)
    name = unquote(src)
    echo = repr(name if len(name) <= 80 else name[:80] + "...")
    where = f"{label}: image {echo}"
    if "\0" in name:
        raise ConfigError(f"{where} holds a NUL character, which no file name has; fix the path")
    if PureWindowsPath(name).anchor:
        raise ConfigError(
            f"{where} is an absolute path; name it relative to the note, and put the image beside "
            "the note or in a folder under it"
        )
    name = name.replace("\\", "/")  # img\plot.png, written on Windows, names the same file everywhere
    kind = IMAGE_KINDS.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        raise ConfigError(f"{where} is not named as a PNG, JPEG or GIF file; embed a .png, .jpg or .gif")
    # The folder the note is named in, which must itself be inside the settings file's.
    home, root, real = resolved(note.parent), resolved(folder), resolved(note.parent / name)
    if (
        home is None
        or root is None
        or real is None
        or not home.is_relative_to(root)
        or not real.is_relative_to(home)
    ):
        home_name = shown(note.parent, folder)
        raise ConfigError(
            f"{where} is outside the note's folder {home_name.rstrip('/')}/; put the image beside the "
            "note or in a folder under it"
        )
    try:
        data = read_bounded(real, MAX_IMAGE_BYTES, "an image")
    except Unreadable as why:
        folder_name = shown(note.parent, folder).rstrip("/") + "/"
        hint = (
            "save it smaller"
            if str(why).startswith("is larger")
            else f"fix the path, relative to {folder_name}"
        )
        raise ConfigError(f"{where} {why}; {hint}") from None
    media, fmt = kind
    problem = _not_an_image(data, fmt)
    if problem:
        raise ConfigError(f"{where} {problem}; save it again as a {fmt} file")
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


def _not_an_image(data: bytes, fmt: str) -> str:
    """Why ``data`` is no ``fmt`` image WeasyPrint and a browser can show, or ''."""
    if not data.startswith(MAGIC[fmt]):
        return f"is not a {fmt} image (its content is not {fmt})"
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                width, height = img.size
                img.verify()
            if width * height > MAX_IMAGE_PIXELS:
                return f"has {width}x{height} pixels, more than the {MAX_IMAGE_PIXELS:,} an image may have"
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                img.load()
    except Image.DecompressionBombError:
        return f"has more than the {MAX_IMAGE_PIXELS:,} pixels an image may have"
    except Exception:  # Pillow raises many kinds on a broken file; none of its messages is shown
        return f"is not a valid {fmt} image (it cannot be decoded)"
    return ""
