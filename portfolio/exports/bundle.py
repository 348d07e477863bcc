"""The audit bundle: every evidence pack, every original file, the matrix, the register and a
manifest of SHA-256 hashes, in one ZIP streamed as it is built.

Nothing is held whole: each pack is built and written before the next, files are copied in
chunks from the evidence store, and the ZIP itself is produced by ``stream_zip`` as a stream of
bytes, so memory stays flat however large the selection.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from flask import current_app
from sqlalchemy.orm import Session
from stream_zip import ZIP_64, stream_zip

from portfolio.credentials.services import EXTRACT_HEADER, register_extract
from portfolio.enrolments.services import enrolments_by_id
from portfolio.errors import ServiceError
from portfolio.exports.letterhead import Letterhead
from portfolio.exports.matrix import build_matrix, matrix_data
from portfolio.exports.pack import PackData, build_pack, pack_data
from portfolio.exports.pdf import Converter
from portfolio.exports.register import decided_enrolment_ids, register_rows, write_csv, write_xlsx
from portfolio.files.filetypes import download_name, path_safe_name
from portfolio.files.uploads import storage
from portfolio.models import VerificationRequest
from portfolio.spreadsheets import csv_cell
from portfolio.text import count
from portfolio.verification.rules import third_party_record

CHUNK = 256 * 1024
FILE_MODE = 0o100644


@dataclass
class Selection:
    """Which enrolments go in: a unit, a decision date range, or hand-picked enrolments."""

    unit_code: str | None = None
    decided_from: date | None = None
    decided_to: date | None = None
    enrolment_ids: list[int] = field(default_factory=list)
    #: A PDF beside each Word document (LibreOffice makes them, one at a time).
    pdfs: bool = False
    #: The bundle of a validation: its sample's enrolments, with its report and draw.
    validation_id: int | None = None

    def describe(self) -> str:
        parts = [f"validation {self.validation_id}"] if self.validation_id else []
        if self.unit_code:
            parts.append(self.unit_code.upper())
        if self.decided_from or self.decided_to:
            parts.append(
                f"decided {self.decided_from or 'any time'} to {self.decided_to or 'today'}"
            )
        if self.enrolment_ids:
            noun = "sampled enrolment" if self.validation_id else "chosen enrolment"
            parts.append(count(len(self.enrolment_ids), noun))
        described = ", ".join(parts) or "every decided enrolment"
        return f"{described}, with PDFs" if self.pdfs else described


def selected_ids(session: Session, selection: Selection) -> list[int]:
    """The enrolments of a selection: chosen ones as they are, else decided ones that match."""
    if selection.enrolment_ids:
        found = enrolments_by_id(session, selection.enrolment_ids)
        missing = set(selection.enrolment_ids) - set(found)
        if missing:
            raise ServiceError(f"No enrolment has the id {min(missing)}.", "enrolments")
        ids = list(found)
        if selection.unit_code:
            code = selection.unit_code.strip().upper()
            ids = [i for i in ids if found[i].unit_release.unit.code == code]
        return sorted(ids)
    return decided_enrolment_ids(
        session,
        unit_code=selection.unit_code,
        decided_from=selection.decided_from,
        decided_to=selection.decided_to,
    )


@dataclass
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass
class Progress:
    done: int = 0
    total: int = 0


class _Hashing:
    """Chunks passed through while their SHA-256 and size are taken for the manifest."""

    def __init__(self, path: str, chunks: Iterable[bytes], manifest: list[ManifestEntry]):
        self.path, self.chunks, self.manifest = path, chunks, manifest

    def __iter__(self) -> Iterator[bytes]:
        digest, size = hashlib.sha256(), 0
        for chunk in self.chunks:
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        self.manifest.append(ManifestEntry(self.path, size, digest.hexdigest()))


def _read(fp: IO[bytes]) -> Iterator[bytes]:
    with fp:
        while chunk := fp.read(CHUNK):
            yield chunk


def _document_bytes(build: Callable[[], object]) -> Iterator[bytes]:
    buffer = io.BytesIO()
    build().save(buffer)  # one document at a time: a pack is small beside the files
    buffer.seek(0)
    yield from iter(lambda: buffer.read(CHUNK), b"")


def _pdf_bytes(build: Callable[[], object], converter: Converter) -> Iterator[bytes]:
    with converter.convert(build()) as pdf:  # type: ignore[arg-type]
        yield from iter(lambda: pdf.read(CHUNK), b"")


def _once(build: Callable[[], object]) -> Callable[[], object]:
    """``build``, run at most once: the Word member and its PDF share one document."""
    made: list[object] = []

    def get() -> object:
        if not made:
            made.append(build())
        return made[0]

    return get


def _numbered(document: Any, converter: Converter) -> Any:
    converter.try_number_contents(document)
    return document


def _documents(
    member: Callable[[str, Iterable[bytes]], Any],
    path: str,
    build: Callable[[], object],
    converter: Converter | None,
) -> Iterator[Any]:
    """A Word document's member at ``path`` (``.docx``), and its PDF beside it if asked for."""
    # With LibreOffice at hand (PDFs asked for), the contents gets its page numbers too.
    document = _once(build if converter is None else lambda: _numbered(build(), converter))
    yield member(f"{path}.docx", _document_bytes(document))
    if converter is not None:
        yield member(f"{path}.pdf", _pdf_bytes(document, converter))


def _third_parties(data: PackData) -> list[VerificationRequest]:
    """The answered requests to third parties in a pack: verifications, then reports."""
    found = [r for requests in data.verifications.values() for r in requests]
    found += [r for r, _ in data.reports]
    return [r for r in found if r.answered]


#: A member of the ZIP as ``stream_zip`` takes it.
Member = tuple[str, datetime, int, object, Iterable[bytes]]
#: Further members a kind of bundle adds (a validation's report and draw), given the function
#: that makes a member (hashed into the manifest) from a path and its chunks.
Extra = Callable[[Callable[[str, Iterable[bytes]], Member]], Iterable[Member]]


def bundle_members(
    session: Session,
    selection: Selection,
    *,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    extra: Extra | None = None,
) -> Iterator[Member]:
    """The ZIP's members, each produced only when the ZIP writer reaches it."""
    config = current_app.config
    letterhead = Letterhead.from_config(config)
    converter = Converter.from_config(config) if selection.pdfs else None
    ids = selected_ids(session, selection)
    progress = Progress(0, len(ids))
    on_progress(progress)
    manifest: list[ManifestEntry] = []
    now = datetime.now(UTC)
    store = storage()

    def member(path: str, chunks: Iterable[bytes]) -> Member:
        return (path, now, FILE_MODE, ZIP_64, _Hashing(path, chunks, manifest))

    if extra is not None:
        yield from extra(member)

    units: set[str] = set()
    #: Everyone who decided in the bundled enrolments: their registers go in the extract.
    deciders: set[int] = set()
    # A Word document is a graph of reference cycles (python-docx), freed only by the cyclic
    # collector, which on its own schedule leaves dozens of finished packs in memory. Objects
    # alive now outlive the bundle: frozen, collections skip them, so collecting after each
    # enrolment is cheap and keeps the peak flat.
    gc.freeze()
    try:
        for enrolment_id in ids:
            # Each enrolment in a session of its own, closed before the next: nothing it loaded
            # stays behind, so memory does not grow with the number of enrolments.
            with Session(bind=session.get_bind()) as local:
                enrolment = enrolments_by_id(local, [enrolment_id])[enrolment_id]
                data = pack_data(local, enrolment, currency_years=config["EVIDENCE_CURRENCY_YEARS"])
                units.add(data.release.unit.code)
                deciders.update(user.id for user, _, _ in data.decision_makers())
                folder = path_safe_name(f"{enrolment.learner.name}-{data.reference}")
                yield from _documents(
                    member,
                    f"{folder}/evidence-pack-{data.reference}",
                    lambda data=data: build_pack(data, letterhead=letterhead, open_file=store.open),
                    converter,
                )
                for submitted in data.review.items:
                    version = submitted.version
                    for f in version.files:
                        # The file's id keeps two uploads of "image.jpg" apart.
                        name = path_safe_name(
                            f"E{submitted.item.number}-v{version.version}-{f.id}-"
                            + download_name(f.display_name, f.content_type)
                        )
                        yield member(f"{folder}/evidence/{name}", _read(store.open(f.storage_key)))
                for request in _third_parties(data):
                    name = f"{folder}/third-party/{request.kind.value}-{request.id}"
                    refs = {t.id: t.ref for t in data.review.targets}
                    record = json.dumps(third_party_record(request, refs), indent=2)
                    yield member(f"{name}.json", [record.encode("utf-8")])
                    if request.signature_png:
                        yield member(f"{name}-signature.png", [request.signature_png])
                for target_id, signoff in data.review.signoffs.items():
                    for f in signoff.files:
                        yield member(
                            f"{folder}/gap-sign-offs/"
                            + path_safe_name(
                                f"{target_id}-{f.id}-"
                                + download_name(f.display_name, f.content_type)
                            ),
                            _read(store.open(f.storage_key)),
                        )
                del data, enrolment
            # Each enrolment's documents are garbage now: collect them before the next.
            gc.collect()
            progress.done += 1
            on_progress(progress)
    finally:
        gc.unfreeze()

    for code in sorted(units):
        yield from _documents(
            member,
            f"mapping-matrix-{path_safe_name(code)}",
            lambda code=code: build_matrix(
                matrix_data(session, code, ids, description=selection.describe()),
                letterhead=letterhead,
            ),
            converter,
        )
    rows = register_rows(session, enrolment_ids=ids)
    text = io.StringIO(newline="")
    write_csv(rows, text)
    yield member("outcomes-register.csv", [text.getvalue().encode("utf-8")])
    workbook = io.BytesIO()
    write_xlsx(rows, workbook)
    yield member("outcomes-register.xlsx", [workbook.getvalue()])
    extract = io.StringIO(newline="")
    writer = csv.writer(extract)
    writer.writerow(EXTRACT_HEADER)
    writer.writerows(
        [csv_cell(value) for value in row] for row in register_extract(session, deciders)
    )
    yield member("credential-register.csv", [extract.getvalue().encode("utf-8")])

    def manifest_bytes() -> Iterator[bytes]:
        body = {
            "generated_at": now.isoformat(),
            "rto": letterhead.rto_name,
            "rto_code": letterhead.rto_code,
            "selection": selection.describe(),
            "enrolments": len(ids),
            "algorithm": "SHA-256",
            "files": [vars(entry) for entry in manifest],
        }
        yield json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8")

    yield ("manifest.json", now, FILE_MODE, ZIP_64, manifest_bytes())


def stream_bundle(
    session: Session,
    selection: Selection,
    *,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    extra: Extra | None = None,
) -> Iterator[bytes]:
    """The bundle's bytes, as they are produced.

    Closing this iterator early (a failed file, a dropped download) closes the member
    generator too, so the session it holds for the enrolment in hand ends at once.
    """
    members = bundle_members(session, selection, on_progress=on_progress, extra=extra)
    try:
        yield from stream_zip(
            members,
            chunk_size=CHUNK,
            get_compressobj=lambda: zlib.compressobj(wbits=-zlib.MAX_WBITS, level=1),
        )
    finally:
        members.close()
