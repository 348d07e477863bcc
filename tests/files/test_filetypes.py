"""What an upload is, decided from its content: real small files of every kind, and impostors."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Callable

import pytest

from portfolio.files.filetypes import (
    ACCEPTED_DESCRIPTION,
    CSV,
    DOC,
    DOCX,
    HEAD_SIZE,
    JPEG,
    KINDS,
    MP3,
    MP4,
    ODP,
    ODS,
    ODT,
    PDF,
    PNG,
    PPT,
    PPTX,
    TEXT,
    XLS,
    XLSX,
    FileKind,
    kind_for_mime,
    safe_display_name,
    sniff,
    sniff_file,
)
from tests.files import docx_bytes, pdf_bytes, png_bytes

# --- Real small files, made here rather than committed ------------------------------------


def jpeg_bytes() -> bytes:
    """A JPEG start-of-image and JFIF header, then end of image."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def ooxml_bytes(folder: str, main_part: str, content_type: str) -> bytes:
    """An Office Open XML package with its [Content_Types].xml naming the main part."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{folder}/{main_part}" ContentType="{content_type}"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/officeDocument" Target="{folder}/{main_part}"/></Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("_rels/.rels", rels)
        package.writestr(f"{folder}/{main_part}", "<root/>")
    return out.getvalue()


def xlsx_bytes() -> bytes:
    """An Excel workbook package."""
    return ooxml_bytes(
        "xl",
        "workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    )


def pptx_bytes() -> bytes:
    """A PowerPoint presentation package."""
    return ooxml_bytes(
        "ppt",
        "presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    )


def odf_bytes(mimetype: str, *, mimetype_first: bool = True) -> bytes:
    """An OpenDocument package: "mimetype" stored first and uncompressed, as the standard asks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        if not mimetype_first:
            package.writestr("content.xml", "<office:document-content/>")
        package.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        if mimetype_first:
            package.writestr("content.xml", "<office:document-content/>")
        package.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return out.getvalue()


def mp3_id3_bytes() -> bytes:
    """An ID3v2.4 tag (10 bytes of padding) followed by an MPEG-1 layer III frame."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10) + mp3_frame_bytes()


def mp3_frame_bytes() -> bytes:
    """A bare MPEG-1 layer III frame at 128 kbit/s, 44.1 kHz, as encoders without tags write."""
    return b"\xff\xfb\x90\x64" + bytes(413)


def mp4_bytes() -> bytes:
    """An ftyp box (isom, compatible with iso2/avc1/mp41) and an empty mdat box."""
    brands = b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41"
    ftyp = struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands
    return ftyp + struct.pack(">I", 8) + b"mdat"


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole2_header(directory_sector: int = 1) -> bytes:
    """The 512-byte header of an OLE2 compound file (version 3, 512-byte sectors)."""
    header = bytearray(512)
    header[:8] = OLE2_MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    # Directory sectors (0 in v3), FAT sectors, first directory sector, transaction number,
    # mini stream cutoff, first mini FAT sector, mini FAT sectors, first DIFAT sector, DIFATs.
    struct.pack_into(
        "<IIIIIIIII", header, 40, 0, 1, directory_sector, 0, 4096, END_OF_CHAIN, 0, END_OF_CHAIN, 0
    )
    struct.pack_into("<109I", header, 76, 0, *([FREE] * 108))
    return bytes(header)


def ole2_entry(name: str, object_type: int, child: int = NO_STREAM) -> bytes:
    """A 128-byte OLE2 directory entry."""
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    struct.pack_into("<HBB", entry, 64, len(encoded), object_type, 1)
    struct.pack_into("<III", entry, 68, NO_STREAM, NO_STREAM, child)
    struct.pack_into("<IQ", entry, 116, END_OF_CHAIN, 0)
    return bytes(entry)


def ole2_bytes(stream: str) -> bytes:
    """A legacy Office file: an OLE2 compound file whose directory holds ``stream``."""
    fat = struct.pack("<2I", FAT_SECTOR, END_OF_CHAIN) + struct.pack("<126I", *([FREE] * 126))
    directory = (
        ole2_entry("Root Entry", 5, child=1)
        + ole2_entry(stream, 2)
        + ole2_entry("\x05SummaryInformation", 2)
        + bytes(128)
    )
    return ole2_header() + fat + directory


def text_bytes() -> bytes:
    return "Roster for week 12\nMon: Alex 9–5\nTue: Sam 9–5 ☕\n".encode()


def csv_bytes() -> bytes:
    return b"date,customer,complaint,resolved\n2026-03-02,Acme,Late delivery,yes\n"


def plain_zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "not a Word document")
    return out.getvalue()


# --- Accepted ------------------------------------------------------------------------------

ACCEPTED: list[tuple[Callable[[], bytes], str, FileKind]] = [
    (png_bytes, "photo.png", PNG),
    (jpeg_bytes, "site.jpg", JPEG),
    (pdf_bytes, "plan.pdf", PDF),
    (docx_bytes, "complaints.docx", DOCX),
    (xlsx_bytes, "survey.xlsx", XLSX),
    (pptx_bytes, "training.pptx", PPTX),
    (lambda: odf_bytes(ODT.mime_type), "policy.odt", ODT),
    (lambda: odf_bytes(ODS.mime_type), "budget.ods", ODS),
    (lambda: odf_bytes(ODP.mime_type), "briefing.odp", ODP),
    (mp3_id3_bytes, "call.mp3", MP3),
    (mp3_frame_bytes, "call.mp3", MP3),
    (mp4_bytes, "demo.mp4", MP4),
    (text_bytes, "roster.txt", TEXT),
    (csv_bytes, "complaints.csv", CSV),
    (lambda: ole2_bytes("WordDocument"), "minutes.doc", DOC),
    (lambda: ole2_bytes("Workbook"), "budget.xls", XLS),
    (lambda: ole2_bytes("PowerPoint Document"), "induction.ppt", PPT),
]


@pytest.mark.parametrize(
    ("make", "filename", "kind"), ACCEPTED, ids=lambda v: getattr(v, "name", v)
)
def test_each_accepted_kind_is_recognised_from_the_file(make, filename, kind) -> None:
    """Every kind of file a learner may upload is accepted and labelled correctly."""
    content = make()
    with io.BytesIO(content) as fp:
        assert sniff_file(fp, filename) == kind
        assert fp.tell() == 0


@pytest.mark.parametrize(
    ("make", "filename", "kind"), ACCEPTED, ids=lambda v: getattr(v, "name", v)
)
def test_each_accepted_kind_is_recognised_from_its_first_bytes(make, filename, kind) -> None:
    """The first HEAD_SIZE bytes are enough for every kind when the container part is early."""
    assert sniff(make()[:HEAD_SIZE], filename) == kind


def test_sniff_file_puts_the_position_back(tmp_path) -> None:
    """The same upload stream can be checked and then stored in full."""
    path = tmp_path / "upload.bin"
    path.write_bytes(b"prefix" + docx_bytes())
    with path.open("rb") as fp:
        fp.seek(6)
        assert sniff_file(fp, "complaints.docx") == DOCX
        assert fp.tell() == 6


def test_content_wins_over_the_name() -> None:
    """A photo saved as report.pdf is shown as the photo it is."""
    assert sniff_file(io.BytesIO(png_bytes()), "report.pdf") == PNG
    assert sniff_file(io.BytesIO(docx_bytes()), "scan.png") == DOCX
    assert sniff_file(io.BytesIO(pdf_bytes()), "data.csv") == PDF
    assert sniff_file(io.BytesIO(csv_bytes()), "notes.txt") == TEXT


def test_text_with_a_bom_and_a_character_cut_at_the_head_is_text() -> None:
    """A Windows text file with a BOM and non-English text is accepted."""
    assert sniff("\ufeffHello\r\n".encode(), "notes.txt") == TEXT
    long_text = ("€€€ ok\n" * 1000).encode()
    head = long_text[:HEAD_SIZE]
    with pytest.raises(UnicodeDecodeError):
        head.decode()  # the head really does end inside a character
    assert sniff(head, "costs.txt") == TEXT


def test_legacy_office_with_an_unreadable_directory_falls_back_to_the_extension() -> None:
    """An old .doc whose directory cannot be read is still accepted by its extension."""
    header_only = ole2_header(directory_sector=40)
    assert sniff(header_only, "minutes.doc") == DOC
    assert sniff(header_only, "BUDGET.XLS") == XLS
    assert sniff_file(io.BytesIO(header_only), "induction.ppt") == PPT
    assert sniff(header_only, "minutes.txt") is None


def test_other_ole2_files_are_refused_whatever_their_name() -> None:
    """An installer or Outlook message renamed .doc is refused: it holds no Word stream."""
    assert sniff_file(io.BytesIO(ole2_bytes("\x05DocumentSummaryInformation")), "x.doc") is None
    assert sniff_file(io.BytesIO(ole2_bytes("EncryptedPackage")), "locked.docx") is None


# --- Refused -------------------------------------------------------------------------------

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(46) + b"PE\x00\x00"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

REFUSED: list[tuple[str, bytes, str]] = [
    ("html renamed pdf", b"<!DOCTYPE html><html><body>Report</body></html>", "report.pdf"),
    ("html with bom", "\ufeff \n<HTML><script>alert(1)</script>".encode(), "notes.txt"),
    ("html fragment", b"<script>alert(document.cookie)</script>", "notes.txt"),
    ("html comment first", b"<!-- saved page --><p>hi</p>", "page.csv"),
    ("elf renamed png", ELF, "photo.png"),
    ("exe renamed png", PE, "photo.png"),
    ("plain zip renamed docx", plain_zip_bytes(), "evidence.docx"),
    ("svg renamed png", SVG, "image.png"),
    ("svg with xml declaration", b'<?xml version="1.0"?>\n' + SVG, "image.svg"),
    ("empty", b"", "empty.txt"),
    ("binary garbage", random.Random(5018).randbytes(4096), "data.bin"),
    ("nul bytes", b"abc\x00def", "notes.txt"),
    ("not utf-8", "Café menu".encode("latin-1"), "menu.txt"),
    ("control characters", b"\x01\x02\x03\x04\x05\x06\x07\x08" * 10, "notes.txt"),
    ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "photo.png"),
    ("rtf", b"{\\rtf1\\ansi Hello}", "letter.doc"),
    ("mov", struct.pack(">I", 20) + b"ftypqt  \x00\x00\x02\x00qt  ", "clip.mp4"),
    (
        "macro-enabled word",
        ooxml_bytes(
            "word", "document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"
        ),
        "report.docx",
    ),
    ("odf mimetype not first", odf_bytes(ODT.mime_type, mimetype_first=False), "policy.odt"),
]


@pytest.mark.parametrize(
    ("content", "filename"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_impostors_and_unsupported_files_are_refused(content: bytes, filename: str) -> None:
    """Web pages, programs, archives and images we cannot show safely are refused."""
    with io.BytesIO(content) as fp:
        assert sniff_file(fp, filename) is None
        assert fp.tell() == 0
    assert sniff(content[:HEAD_SIZE], filename) is None


def test_a_word_file_cut_short_is_refused() -> None:
    """A Word file damaged in transfer is refused rather than stored as if it would open."""
    with io.BytesIO(docx_bytes()[:2000]) as fp:
        assert sniff_file(fp, "complaints.docx") is None


def test_text_that_only_mentions_markup_later_is_still_text() -> None:
    """A written answer that quotes an HTML tag is accepted as plain text."""
    assert sniff(b"I escaped the <script> tag in the form.\n", "answer.txt") == TEXT
    assert sniff(b"<Insert customer name> was called back.\n", "notes.txt") == TEXT


# --- Kinds ---------------------------------------------------------------------------------


def test_kinds_say_how_to_show_them() -> None:
    """Only images and PDFs open in the browser, and only .docx has a Word preview."""
    assert {kind for kind in KINDS if kind.inline_image} == {PNG, JPEG}
    assert {kind for kind in KINDS if kind.inline_pdf} == {PDF}
    assert {kind for kind in KINDS if kind.word_preview} == {DOCX}
    assert DOCX.label == DOC.label == "Word document"
    assert PDF.label == "PDF document"
    assert (JPEG.mime_type, JPEG.extension) == ("image/jpeg", "jpg")
    assert all(kind.mime_type and kind.label and kind.extension for kind in KINDS)
    assert len({kind.mime_type for kind in KINDS}) == len(KINDS)
    assert kind_for_mime("application/pdf") == PDF
    assert kind_for_mime("text/html") is None


def test_accepted_description_names_every_family() -> None:
    """The error message lists what may be uploaded."""
    assert ACCEPTED_DESCRIPTION == (
        "PDF, Word, Excel, PowerPoint, OpenDocument, PNG, JPEG, plain text, CSV, MP4 or MP3"
    )


# --- Display names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\alex\\Desktop\\Complaint log.docx", "Complaint log.docx"),
        ("<script>alert(1).png", "<script>alert(1).png"),
        ("Report <b>final</b>.pdf", "b>.pdf"),
        ("  roster \t week\n12 .xlsx ", "roster week 12 .xlsx"),
        ("minutes\x00\x07.doc", "minutes.doc"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("Cafe\u0301 menu.pdf", "Café menu.pdf"),
        ("", "unnamed file"),
        ("   ", "unnamed file"),
        ("..", "unnamed file"),
        ("photos/", "unnamed file"),
    ],
)
def test_display_names_are_plain_and_pathless(filename: str, shown: str) -> None:
    """A file keeps the name the learner knows it by, minus folders and invisible characters."""
    assert safe_display_name(filename) == shown


def test_long_names_are_shortened_keeping_the_extension() -> None:
    """A very long name is cut to 200 characters and still ends in its extension."""
    shown = safe_display_name("a" * 300 + ".docx")
    assert len(shown) == 200
    assert shown.endswith("a.docx")
    assert len(safe_display_name("b" * 300)) == 200
