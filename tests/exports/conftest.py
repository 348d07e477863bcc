"""Fixtures for exported documents: LibreOffice turns a .docx into PDF text to check.

``to_pdf_text`` skips the test when LibreOffice or poppler is missing, unless the environment
sets ``REQUIRE_LIBREOFFICE=1`` (CI does, having installed them), in which case it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

SOFFICE_TIMEOUT = 120  # seconds; a cold start with a fresh profile takes a few


def _run(args: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group, so a timeout stops every process it started."""
    process = subprocess.Popen(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{args[0]} took longer than {timeout} s: {' '.join(args)}")
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def _require(*programs: str) -> None:
    missing = [program for program in programs if shutil.which(program) is None]
    if not missing:
        return
    reason = (
        f"{', '.join(missing)} not installed: the LibreOffice round trip needs "
        "libreoffice-writer (soffice) and poppler-utils (pdftotext, pdfinfo)"
    )
    if os.environ.get("REQUIRE_LIBREOFFICE") == "1":
        pytest.fail(f"REQUIRE_LIBREOFFICE=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def to_pdf_text(tmp_path: Path) -> Callable[..., tuple[str, int]]:
    """A function: ``to_pdf_text(docx_path, layout=True) -> (text, page_count)``.

    Converts with ``soffice --headless --convert-to pdf`` using a LibreOffice profile of the
    test's own (so tests can run in parallel), then extracts the text with ``pdftotext``
    (pages are separated by form feeds, ``text.split("\\f")``) and the page count with
    ``pdfinfo``.
    """
    _require("soffice", "pdftotext", "pdfinfo")
    profile = (tmp_path / "lo-profile").as_uri()
    conversions = 0

    def convert(docx_path: Path | str, *, layout: bool = True) -> tuple[str, int]:
        nonlocal conversions
        conversions += 1
        docx_path = Path(docx_path).resolve()
        outdir = tmp_path / f"pdf-{conversions}"
        outdir.mkdir()
        result = _run(
            [
                "soffice",
                "--headless",
                f"-env:UserInstallation={profile}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                str(docx_path),
            ],
            cwd=tmp_path,
            timeout=SOFFICE_TIMEOUT,
        )
        pdf = outdir / f"{docx_path.stem}.pdf"
        if not pdf.is_file():  # soffice exits 0 even when it could not convert
            pytest.fail(
                f"LibreOffice made no PDF of {docx_path.name} (exit {result.returncode})\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        text_args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
        text = _run(text_args, cwd=tmp_path, timeout=60)
        info = _run(["pdfinfo", str(pdf)], cwd=tmp_path, timeout=60)
        if text.returncode or info.returncode:
            pytest.fail(f"poppler could not read {pdf.name}: {text.stderr}{info.stderr}")
        pages = next(
            (
                int(line.split(":", 1)[1])
                for line in info.stdout.splitlines()
                if line.startswith("Pages:")
            ),
            None,
        )
        if pages is None:
            pytest.fail(f"pdfinfo reported no page count for {pdf.name}:\n{info.stdout}")
        return text.stdout, pages

    return convert
