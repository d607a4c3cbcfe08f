"""Before anything trains: can this machine make the report? If not, one line says what to install.

WeasyPrint is a Python package, but it draws text with Pango, a system library that no
wheel carries. Without it, the import fails only when the PDF is rendered, half an hour of
training later; :func:`check_pdf_engine` tries the import when the settings are read, and
:func:`check_fonts` looks for the fonts the report ships.
"""

from __future__ import annotations

import contextlib
import io
import platform
import sys

from fmnist_report.errors import UserError

#: How to install Pango, by system (what `system()` returns).
PANGO_INSTALL = {
    "debian": "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0",
    "fedora": "sudo dnf install pango",
    "arch": "sudo pacman -S pango",
    "suse": "sudo zypper install pango",
    "alpine": "sudo apk add pango",
    # Homebrew's libraries are not on the search path of a python.org or uv Python.
    "macos": "brew install pango, and export DYLD_FALLBACK_LIBRARY_PATH=/opt/homebrew/lib",
    "windows": (
        "install MSYS2, run 'pacman -S mingw-w64-x86_64-pango' in its shell, "
        "and set WEASYPRINT_DLL_DIRECTORIES to C:\\msys64\\mingw64\\bin "
        '(PowerShell: $env:WEASYPRINT_DLL_DIRECTORIES = "C:\\msys64\\mingw64\\bin")'
    ),
    "linux": "install Pango 1.44 or later with your system's package manager",
}
#: The Linux families whose package manager the table names, by os-release ID or ID_LIKE.
LINUX_FAMILIES = {
    "debian": "debian",
    "ubuntu": "debian",
    "fedora": "fedora",
    "rhel": "fedora",
    "centos": "fedora",
    "arch": "arch",
    "suse": "suse",
    "opensuse": "suse",
    "alpine": "alpine",
}


class PdfEngineError(UserError):
    """The PDF cannot be made on this machine; the message names what to install."""


def system() -> str:
    """``windows``, ``macos``, a Linux family of :data:`LINUX_FAMILIES`, or ``linux``."""
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return "linux"
    for name in [release.get("ID", ""), *release.get("ID_LIKE", "").split()]:
        if name in LINUX_FAMILIES:
            return LINUX_FAMILIES[name]
    return "linux"


def pdf_engine_problem() -> str | None:
    """Why WeasyPrint cannot load here (its first line), or None when it can."""
    try:
        # Where a library is missing, WeasyPrint prints a block of advice to stdout before it
        # raises; the one line below says what to do instead.
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401  (the import loads Pango through cffi)
    except (OSError, ImportError) as exc:
        lines = str(exc).strip().splitlines()
        return lines[0] if lines else type(exc).__name__
    return None


def check_fonts() -> None:
    """Raise :class:`PdfEngineError` when a font the report ships cannot be read."""
    from fmnist_report.report.fonts import missing_fonts_problem

    problem = missing_fonts_problem()
    if problem:
        raise PdfEngineError(f"{problem}; nothing was trained")


def check_pdf_engine() -> None:
    """Raise :class:`PdfEngineError` when the PDF could not be made, naming the fix."""
    problem = pdf_engine_problem()
    if problem is None:
        return
    raise PdfEngineError(
        f"the PDF needs Pango, which WeasyPrint cannot load ({problem}); nothing was trained. "
        f"Install it: {PANGO_INSTALL[system()]}; or make the HTML alone with --no-pdf "
        "(`fmnist-report render` makes the PDF later from the stored runs)"
    )
