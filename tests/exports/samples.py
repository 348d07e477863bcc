"""Sample pages of the exports, rendered from generated demo data: ``make samples``, or

    .venv/bin/python -m tests.exports.samples docs/samples

A throwaway instance gets a cohort from the demo generator; the evidence pack of its fullest
decided enrolment and the mapping matrix of its unit are built as the app builds them (A4,
contents numbered by LibreOffice), converted to PDF by LibreOffice and rendered to PNG by
``pdftoppm``. The pages are kept in the repository (``docs/samples``) so a reader sees what
the exports look like without running anything.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from portfolio.exports.letterhead import Letterhead
from portfolio.exports.matrix import build_matrix, cohort_ids, matrix_data
from portfolio.exports.pack import build_pack, pack_data
from portfolio.exports.pdf import Converter
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import AssessmentState, Enrolment, EvidenceItem, Unit, UnitRelease
from tests.benchmarks.dataset import Instance

UNIT = "TLII5018"
#: Which pages of each document are kept, and at what resolution.
PAGES = {"evidence-pack": (1, 3, 6), "mapping-matrix": (1, 2)}
DPI = 60


def _render(document, name: str, out: Path, converter: Converter) -> list[Path]:
    with converter.convert(document) as pdf:
        data = pdf.read()
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / f"{name}.pdf"
        source.write_bytes(data)
        written = []
        for page in PAGES[name]:
            target = out / f"{name}-{page}"
            subprocess.run(
                [
                    *("pdftoppm", "-png", "-singlefile", "-r", str(DPI)),
                    *("-f", str(page), "-l", str(page), str(source), str(target)),
                ],
                check=True,
            )
            written.append(target.with_suffix(".png"))
    return written


def main(out: Path) -> None:
    converter = Converter()
    if not converter.available():
        raise SystemExit("Rendering samples needs LibreOffice (apt install libreoffice-writer)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        instance = Instance("sqlite", f"sqlite:///{root / 'samples.sqlite3'}", root, fast_hash=True)
        instance.create()
        instance.grow(30, 6, seed=3)
        app = instance.app()
        with app.app_context():
            session = db.session
            items = (
                select(EvidenceItem.enrolment_id, func.count().label("n"))
                .group_by(EvidenceItem.enrolment_id)
                .subquery()
            )
            enrolment = session.scalars(
                select(Enrolment)
                .join(items, items.c.enrolment_id == Enrolment.id)
                .join(UnitRelease)
                .join(Unit)
                .where(Unit.code == UNIT, Enrolment.state == AssessmentState.DECIDED)
                .order_by(items.c.n.desc(), Enrolment.id)
                .limit(1)
            ).one()
            letterhead = Letterhead("Harbour Skills College", "91234")
            pack = build_pack(
                pack_data(session, enrolment), letterhead=letterhead, open_file=storage().open
            )
            converter.number_contents(pack)
            written = _render(pack, "evidence-pack", out, converter)
            ids = cohort_ids(session, UNIT)
            matrix = build_matrix(
                matrix_data(session, UNIT, ids, description=f"{len(ids)} learners"),
                letterhead=letterhead,
            )
            written += _render(matrix, "mapping-matrix", out, converter)
        instance.close()
    for path in written:
        print(path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/samples"))
