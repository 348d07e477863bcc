"""What an uploaded file is, decided from its content rather than its name.

A learner's file name says what they hope the file is; the bytes say what a browser or an
office suite will do with it. Uploads are accepted only when their content is one of the kinds
below, and are stored and served with that kind's MIME type, never the one the browser sent.

``sniff_file`` is the main entry: it reads the first ``HEAD_SIZE`` bytes and, for the
container formats (Office Open XML and OpenDocument are zip files, legacy Office files are OLE2
compound files), seeks into the file to read the container's directory, then puts the position
back. ``sniff`` works on the head bytes alone and is exact for every kind except those
containers, which it recognises only when the parts it needs lie within the head.
"""

from __future__ import annotations

import codecs
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from filetype.types import archive, document, image

from portfolio.files.archives import DOCUMENT, ArchiveRefused, directory_of

HEAD_SIZE = 8 * 1024
"""Bytes ``sniff`` wants: every signature checked lies in the first few hundred bytes; the rest
lets the text check see enough of a file and the zip check find ``[Content_Types].xml``."""

ACCEPTED_DESCRIPTION = (
    "PDF, Word, Excel, PowerPoint, OpenDocument, PNG, JPEG, plain text, CSV, MP4 or MP3"
)


@dataclass(frozen=True)
class FileKind:
    """A kind of file we accept, with how to store, label and show it."""

    name: str
    mime_type: str
    label: str
    extension: str
    inline_image: bool = False
    inline_pdf: bool = False
    word_preview: bool = False
    #: Other extensions a file of this kind is commonly named with.
    also: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.also)


PDF = FileKind("pdf", "application/pdf", "PDF document", "pdf", inline_pdf=True)
DOCX = FileKind(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document",
    "docx",
    word_preview=True,
)
DOC = FileKind("doc", "application/msword", "Word document", "doc")
XLSX = FileKind(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "Excel spreadsheet",
    "xlsx",
)
XLS = FileKind("xls", "application/vnd.ms-excel", "Excel spreadsheet", "xls")
PPTX = FileKind(
    "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "PowerPoint presentation",
    "pptx",
)
PPT = FileKind("ppt", "application/vnd.ms-powerpoint", "PowerPoint presentation", "ppt")
ODT = FileKind("odt", "application/vnd.oasis.opendocument.text", "OpenDocument text", "odt")
ODS = FileKind(
    "ods", "application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet", "ods"
)
ODP = FileKind(
    "odp", "application/vnd.oasis.opendocument.presentation", "OpenDocument presentation", "odp"
)
PNG = FileKind("png", "image/png", "PNG image", "png", inline_image=True)
JPEG = FileKind("jpeg", "image/jpeg", "JPEG image", "jpg", inline_image=True, also=("jpeg",))
TEXT = FileKind("text", "text/plain", "Plain text", "txt", also=("text", "log", "md"))
CSV = FileKind("csv", "text/csv", "CSV file", "csv")
MP4 = FileKind("mp4", "video/mp4", "MP4 video", "mp4")
MP3 = FileKind("mp3", "audio/mpeg", "MP3 audio", "mp3")

KINDS: tuple[FileKind, ...] = (
    PDF,
    DOCX,
    DOC,
    XLSX,
    XLS,
    PPTX,
    PPT,
    ODT,
    ODS,
    ODP,
    PNG,
    JPEG,
    TEXT,
    CSV,
    MP4,
    MP3,
)
_BY_MIME = {kind.mime_type: kind for kind in KINDS}


def kind_for_mime(mime_type: str) -> FileKind | None:
    """The accepted kind stored under ``mime_type``, e.g. to decide how to show a stored file."""
    return _BY_MIME.get(mime_type)


def sniff_file(fp: BinaryIO, filename: str) -> FileKind | None:
    """What the file open as ``fp`` is, or None when we do not accept it.

    Reads from the current position of a seekable binary file and puts the position back, so
    the caller can go on to store the same stream. ``filename`` is consulted only to call a
    text file CSV and to tell the legacy Office formats apart when their content cannot.
    """
    start = fp.tell()
    try:
        head = fp.read(HEAD_SIZE)
        if head.startswith(_ZIP_MAGIC):
            fp.seek(start)
            return _zip_kind_from_archive(fp)
        if head.startswith(_OLE2_MAGIC):
            return _ole2_kind(head, filename, _file_sector_reader(fp, start))
        return sniff(head, filename)
    finally:
        fp.seek(start)


def sniff(head: bytes, filename: str) -> FileKind | None:
    """What a file starting with ``head`` is, or None when we do not accept it.

    Give it the first ``HEAD_SIZE`` bytes (the whole file if shorter). Zip-based documents are
    recognised only if their identifying part lies within ``head``; prefer ``sniff_file``.
    """
    head = bytes(head)
    if not head:
        return None
    # Binary signatures first: content wins over the name, so a PNG called report.pdf is a PNG.
    if image.Png().match(head):
        return PNG
    if image.Jpeg().match(head):
        return JPEG
    if archive.Pdf().match(head):
        return PDF
    if _is_mp4(head):
        return MP4
    if _is_mp3(head):
        return MP3
    if head.startswith(_ZIP_MAGIC):
        return _zip_kind_from_head(head)
    if head.startswith(_OLE2_MAGIC):
        return _ole2_kind(head, filename, _head_sector_reader(head))
    # Anything else filetype knows (executables, archives, GIF, RTF, PostScript...) is not ours,
    # even if it happens to decode as text.
    if filetype.guess(head) is not None:
        return None
    if _is_plain_text(head):
        return CSV if (filename or "").lower().endswith(".csv") else TEXT
    return None


# --- MP4 and MP3 -------------------------------------------------------------------------

# filetype's MP4 matcher knows only three brands; phones and encoders write more. QuickTime
# (qt), HEIF and AVIF images and 3GP use other brands and are not accepted as MP4.
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash"}
    | {b"mmp4", b"M4V ", b"M4VH", b"M4VP", b"MSNV", b"f4v "}
)


def _is_mp4(head: bytes) -> bool:
    """An ISO base media file whose ftyp box names an MP4 brand."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    (box_size,) = struct.unpack(">I", head[:4])
    if box_size < 16 or box_size > 4096:
        return False
    brands = head[8:12], *(head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4))
    return any(brand in _MP4_BRANDS for brand in brands)


def _is_mp3(head: bytes) -> bool:
    """An ID3v2 tag, or an MPEG audio layer III frame header, at the start."""
    if head.startswith(b"ID3") and len(head) >= 10:
        # Version 2.2 to 2.4, and a size of four "syncsafe" bytes (high bit clear).
        return head[3] in (2, 3, 4) and all(byte < 0x80 for byte in head[6:10])
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11  # 01 is reserved
    layer = (head[1] >> 1) & 0b11  # 01 is layer III
    bitrate = head[2] >> 4  # 1111 is invalid
    sample_rate = (head[2] >> 2) & 0b11  # 11 is reserved
    return version != 0b01 and layer == 0b01 and bitrate != 0b1111 and sample_rate != 0b11


# --- Zip containers: Office Open XML and OpenDocument -------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_CONTENT_TYPES = "[Content_Types].xml"
# Read at most this much of [Content_Types].xml or mimetype: real ones are a few KB, and a
# small cap means a crafted archive (a "zip bomb") cannot make us inflate gigabytes.
_PART_LIMIT = 256 * 1024
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_ODF = {kind.mime_type: kind for kind in (ODT, ODS, ODP)}
_CONTENT_TYPE_ATTR = re.compile(rb"""ContentType\s*=\s*["']([^"']+)["']""")


def _ooxml_kind(content_types: bytes) -> FileKind | None:
    """The document whose main part ``[Content_Types].xml`` declares.

    Macro-enabled (.docm, .xlsm, .pptm) and template parts have other content types and are
    refused: macros are code, and nobody needs them to show evidence.
    """
    for match in _CONTENT_TYPE_ATTR.finditer(content_types):
        kind = _OOXML_MAIN.get(match.group(1).decode("ascii", "replace").strip())
        if kind is not None:
            return kind
    return None


def _odf_kind(mimetype: bytes) -> FileKind | None:
    return _ODF.get(mimetype.decode("ascii", "replace").strip())


def _zip_kind_from_archive(fp: BinaryIO) -> FileKind | None:
    """Classify a zip by reading its central directory (the reliable way), unless the
    directory is too large to be an office document's."""
    try:
        entries, directory_bytes = directory_of(fp)
    except ArchiveRefused:
        return None
    if entries > DOCUMENT.entries or directory_bytes > DOCUMENT.directory_bytes:
        return None
    try:
        with zipfile.ZipFile(fp) as archive_file:
            entries = archive_file.infolist()
            # OpenDocument: the first entry is "mimetype", holding the document's MIME type.
            if entries and entries[0].filename == "mimetype":
                with archive_file.open(entries[0]) as part:
                    kind = _odf_kind(part.read(200))
                if kind is not None:
                    return kind
            try:
                info = archive_file.getinfo(_CONTENT_TYPES)
            except KeyError:
                return None  # a plain zip (or EPUB, JAR...) is not a document
            with archive_file.open(info) as part:
                return _ooxml_kind(part.read(_PART_LIMIT))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error):
        return None
    except RuntimeError:  # encrypted, or a compression method Python cannot read
        return None


def _zip_kind_from_head(head: bytes) -> FileKind | None:
    """Classify a zip from the local file headers that fit in ``head``."""
    offset = 0
    first = True
    while head.startswith(_ZIP_MAGIC, offset) and offset + 30 <= len(head):
        flags, method = struct.unpack_from("<HH", head, offset + 6)
        (compressed_size,) = struct.unpack_from("<I", head, offset + 18)
        name_length, extra_length = struct.unpack_from("<HH", head, offset + 26)
        name = head[offset + 30 : offset + 30 + name_length]
        data_start = offset + 30 + name_length + extra_length
        # Bit 3: sizes follow the data, so the data's end cannot be known from here.
        sized = not flags & 0x08 and compressed_size != 0xFFFFFFFF
        data = head[data_start : data_start + compressed_size] if sized else head[data_start:]
        if first and name == b"mimetype" and method == zipfile.ZIP_STORED:
            kind = _odf_kind(data)
            if kind is not None:
                return kind
        if name == _CONTENT_TYPES.encode():
            return _ooxml_kind(_inflate(data, method))
        if not sized:
            return None
        offset = data_start + compressed_size
        first = False
    return None


def _inflate(data: bytes, method: int) -> bytes:
    """As much of a zip entry's content as ``data`` holds (it may be cut short)."""
    if method == zipfile.ZIP_STORED:
        return data[:_PART_LIMIT]
    if method == zipfile.ZIP_DEFLATED:
        try:
            return zlib.decompressobj(-15).decompress(data, _PART_LIMIT)
        except zlib.error:
            return b""
    return b""


# --- OLE2 compound files: legacy Word, Excel and PowerPoint -------------------------------

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream that makes an OLE2 file each kind of document.
_OLE2_STREAMS = (
    ("WordDocument", DOC),
    ("Workbook", XLS),
    ("Book", XLS),
    ("PowerPoint Document", PPT),
)
_OLE2_BY_EXTENSION = {".doc": DOC, ".xls": XLS, ".ppt": PPT}
_MAX_DIRECTORY_SECTORS = 64
_END_OF_CHAIN = 0xFFFFFFFA  # sector numbers from here up are markers, not sectors

SectorReader = Callable[[int, int], bytes | None]
"""Reads sector ``n`` of size ``size`` (None when it cannot: outside the data we have)."""


def _ole2_kind(head: bytes, filename: str, read_sector: SectorReader) -> FileKind | None:
    """Legacy Office: decided by the streams in the compound file's directory.

    Other OLE2 files exist (Windows installers, Outlook messages, password-protected OOXML),
    so the directory decides when it can be read. Only when it cannot (a damaged file, or
    ``sniff`` without the rest of the file) do filetype's signatures and then the file name's
    extension tell .doc, .xls and .ppt apart; the name is used for nothing else, and only
    among files that are OLE2 by content.
    """
    names = _ole2_stream_names(head, read_sector)
    if names is not None:
        for stream, kind in _OLE2_STREAMS:
            if stream in names:
                return kind
        return None
    for matcher, kind in ((document.Doc(), DOC), (document.Xls(), XLS), (document.Ppt(), PPT)):
        if matcher.match(head):
            return kind
    name = filename or ""
    dot = name.rfind(".")
    return _OLE2_BY_EXTENSION.get(name[dot:].lower()) if dot >= 0 else None


def _ole2_stream_names(head: bytes, read_sector: SectorReader) -> set[str] | None:
    """The names in an OLE2 directory, or None when it cannot be read to the end."""
    if len(head) < 512:
        return None
    (sector_shift,) = struct.unpack_from("<H", head, 30)
    if sector_shift not in (9, 12):  # 512- or 4096-byte sectors, the only two in use
        return None
    sector_size = 1 << sector_shift
    (directory_start,) = struct.unpack_from("<I", head, 48)
    # The first 109 FAT sectors are listed in the header; a directory chain that needs a later
    # one belongs to a file far larger than any evidence upload, and counts as unreadable.
    fat_sectors = struct.unpack_from("<109I", head, 76)
    entries_per_fat_sector = sector_size // 4
    names: set[str] = set()
    sector = directory_start
    for _ in range(_MAX_DIRECTORY_SECTORS):
        if sector >= _END_OF_CHAIN:
            return names
        data = read_sector(sector, sector_size)
        if data is None or len(data) < sector_size:
            return None
        for entry in range(0, sector_size, 128):
            (name_length,) = struct.unpack_from("<H", data, entry + 64)
            object_type = data[entry + 66]
            if object_type in (1, 2, 5) and 2 <= name_length <= 64:  # storage, stream, root
                names.add(data[entry : entry + name_length - 2].decode("utf-16-le", "replace"))
        fat_index, within = divmod(sector, entries_per_fat_sector)
        if fat_index >= len(fat_sectors) or fat_sectors[fat_index] >= _END_OF_CHAIN:
            return None
        fat = read_sector(fat_sectors[fat_index], sector_size)
        if fat is None or len(fat) < sector_size:
            return None
        (sector,) = struct.unpack_from("<I", fat, within * 4)
    return None  # a directory this long (or a loop) is not a document we need to read


def _head_sector_reader(head: bytes) -> SectorReader:
    def read(sector: int, size: int) -> bytes | None:
        start = (sector + 1) * size  # sector 0 follows the header, which is one sector long
        return head[start : start + size] if start + size <= len(head) else None

    return read


def _file_sector_reader(fp: BinaryIO, origin: int) -> SectorReader:
    def read(sector: int, size: int) -> bytes | None:
        fp.seek(origin + (sector + 1) * size)
        return fp.read(size)

    return read


# --- Plain text ------------------------------------------------------------------------------

# Text that starts like markup is refused even though it is text. Stored evidence is served
# back from our own origin; if any path ever served it as HTML or SVG (a storage backend or a
# proxy guessing the type from the content, a browser ignoring nosniff), its scripts would run
# as the assessor who opened it: stored XSS. The prefixes are those a browser sniffs as HTML
# (WHATWG MIME Sniffing) plus SVG and XML. Markup later in a file is harmless text.
_MARKUP_START = re.compile(
    r"<(?:!doctype|!--|\?xml"
    r"|(?:html|head|body|script|iframe|svg|h1|div|font|table|a|style|title|b|br|p)(?=[\s/>]))",
    re.IGNORECASE,
)
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")
# A few stray control characters (a form feed, an old escape code) do not make a log binary.
_MAX_CONTROL_SHARE = 0.01


def _is_plain_text(head: bytes) -> bool:
    """UTF-8 (a BOM allowed) with no NUL bytes, mostly printable, and not markup."""
    if b"\x00" in head:
        return False
    try:
        # Incremental, not final: ``head`` may end in the middle of a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    if not text or _MARKUP_START.match(text.lstrip()):
        return False
    controls = sum(
        1 for char in text if unicodedata.category(char) == "Cc" and char not in _TEXT_CONTROLS
    )
    return controls <= len(text) * _MAX_CONTROL_SHARE


# --- Display names ---------------------------------------------------------------------------

MAX_NAME_LENGTH = 200
_MAX_EXTENSION_LENGTH = 16
UNNAMED = "unnamed file"


def safe_display_name(filename: str) -> str:
    """The uploaded file's name, fit for display only (never for a path).

    Drops any folders (``/`` or ``\\``), control and invisible formatting characters (such as
    the right-to-left override that makes ``cod.exe`` read as ``exe.doc``), collapses
    whitespace and keeps at most 200 characters, extension included. HTML stays as text:
    templates escape it.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    # Cc control, Cf format (bidi overrides, zero-width), Cs lone surrogates (undecodable bytes
    # a server may pass through, which the database could not store).
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf", "Cs")
    )
    name = " ".join(name.split())
    if not name.strip("."):
        return UNNAMED
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) < _MAX_EXTENSION_LENGTH:
            keep = MAX_NAME_LENGTH - len(extension) - 1
            name = f"{stem[:keep].rstrip()}.{extension}"
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name


def download_name(name: str, mime_type: str) -> str:
    """``name`` as a file is sent: ending in an extension of the type its content was found to
    be, so a text file named ``run.bat``, ``page.hta`` or ``logo.svg`` is saved as
    ``run.bat.txt`` and opened as the text it is, never run or rendered by its name."""
    kind = kind_for_mime(mime_type)
    if kind is None:
        return name
    _, dot, extension = name.rpartition(".")
    if dot and extension.lower() in kind.extensions:
        return name
    return f"{name}.{kind.extension}"


def path_safe_name(text: str, *, limit: int = 80) -> str:
    """A name fit for a path, a ZIP member or a download: ASCII letters, digits, dot, dash and
    underscore only, the extension kept, at most ``limit`` characters. Whatever a learner or an
    admin typed (a student ID of ``../../x``, a name with slashes) stays inside its folder."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    cleaned = re.sub(r"-*(?:\.-*){2,}", "-", cleaned)  # no ".." nor ".-." left to mislead
    stem, dot, extension = cleaned.rpartition(".")
    if not dot or not stem or len(extension) > 8:
        stem, extension = cleaned, ""
    stem = stem[: limit - len(extension) - 1].rstrip("-.") or "file"
    return f"{stem}.{extension}" if extension else stem
