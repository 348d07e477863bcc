"""Word documents as PDF, converted by LibreOffice running headless in a process of its own.

LibreOffice is started on demand for each conversion, with a profile of its own (two
conversions at once would otherwise fight over one profile's lock), and killed with everything
it started if it takes longer than ``PDF_SECONDS``. Without LibreOffice on the server the
conversion says so in words, and the Word file is still there to download.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn

from portfolio.exports.docx_support import set_page_numbers

PDF_MIME_TYPE = "application/pdf"
_PDF_WITH_DESTINATIONS = (
    'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"}}'
)
# One line of pdfinfo's list (spaces, not "\s", which would run on over the lines after it).
_DESTINATION = re.compile(r'^[ \t]*(\d+)[ \t]+\[[^\]\n]*\][ \t]+"([^"\n]+)"[ \t]*$', re.M)


class ConversionFailed(Exception):
    """The document could not be made into a PDF; the message says why, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Converter:
    #: The LibreOffice program (``soffice``), by name on the PATH or by its path.
    program: str = "soffice"
    seconds: float = 120.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Converter:
        return cls(str(config.get("LIBREOFFICE") or "soffice"), float(config["PDF_SECONDS"]))

    def available(self) -> bool:
        return shutil.which(self.program) is not None

    def convert(self, document: DocxDocument) -> BinaryIO:
        """``document`` as PDF: an open file, read from the start, that is gone once closed."""
        return self._pdf(document, "pdf")

    def try_number_contents(self, document: DocxDocument) -> bool:
        """``number_contents``, but a conversion that fails leaves the numbers blank (Word
        shows none; LibreOffice works them out anyway) rather than refusing the document."""
        try:
            return self.number_contents(document)
        except ConversionFailed:
            return False

    def number_contents(self, document: DocxDocument) -> bool:
        """Write the page of every contents entry into ``document`` as LibreOffice lays it
        out, so Word shows the same numbers (it shows a page reference's stored result);
        False, changing nothing, without LibreOffice and poppler's ``pdfinfo``."""
        if not self.available() or shutil.which("pdfinfo") is None:
            return False
        if not any(
            (instr.text or "").split()[:1] == ["PAGEREF"]
            for instr in document.element.body.iter(qn("w:instrText"))
        ):
            return False  # no contents list to number
        # Bookmarks become named destinations, listed with their pages by pdfinfo.
        with self._pdf(document, _PDF_WITH_DESTINATIONS) as pdf:
            try:
                done = subprocess.run(
                    ["pdfinfo", "-dests", "fd://0"],
                    stdin=pdf,
                    capture_output=True,
                    text=True,
                    timeout=self.seconds,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                raise ConversionFailed(f"pdfinfo could not read the PDF ({error}).") from error
        pages = {}
        for match in _DESTINATION.finditer(done.stdout):
            # LibreOffice writes a bookmark's "_" as its hex code, "5F".
            name = re.sub(r"^5F", "_", match.group(2))
            pages.setdefault(name, int(match.group(1)))
        return set_page_numbers(document, pages) > 0

    def _pdf(self, document: DocxDocument, kind: str) -> BinaryIO:
        if not self.available():
            raise ConversionFailed(
                "PDF downloads need LibreOffice on the server, and it is not installed "
                "(on Debian or Ubuntu: apt install libreoffice-writer-nogui). "
                "Download the Word file instead."
            )
        work = Path(tempfile.mkdtemp(prefix="portfolio-pdf-"))
        try:
            source = work / "document.docx"
            document.save(source)
            self._run(work, source, kind)
            made = work / "document.pdf"
            if not made.exists() or made.stat().st_size == 0:
                raise ConversionFailed(
                    "LibreOffice did not make a PDF of this document. Download the Word file "
                    "instead, and tell your administrator."
                )
            pdf = made.open("rb")
        finally:
            shutil.rmtree(work, ignore_errors=True)  # the open PDF stays readable until closed
        return pdf

    def _run(self, work: Path, source: Path, kind: str) -> None:
        command = [
            self.program,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            kind,
            "--outdir",
            str(work),
            str(source),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, to end everything it started
            env={**os.environ, "HOME": str(work)},
        )
        try:
            _, errors = process.communicate(timeout=self.seconds)
        except subprocess.TimeoutExpired:
            _end(process)
            raise ConversionFailed(
                f"Making the PDF took longer than {self.seconds:g} seconds, so it was stopped. "
                "Try again later, or download the Word file instead."
            ) from None
        if process.returncode != 0:
            detail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise ConversionFailed(
                f"LibreOffice could not convert the document ({detail[0] or 'no message'}). "
                "Download the Word file instead."
            )


def _end(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()  # reaps it and closes its pipe
