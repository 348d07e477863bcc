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


def require_programs(*programs: str) -> None:
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
    require_programs("soffice", "pdftotext", "pdfinfo")
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


def exportable_targets(enrolment) -> list:
    """The enrolment's requirements in unit order, without group headings."""
    from sqlalchemy import select

    from portfolio.extensions import db
    from portfolio.models import Target

    return list(
        db.session.scalars(
            select(Target)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
            .order_by(Target.position)
        )
    )


@pytest.fixture
def decided(make_user, make_enrolment) -> Callable[..., object]:
    """``decided(items=1, files=("pdf", "png"))``: a new learner's enrolment, recorded Competent.

    Each item has those files and a Markdown description and is mapped to every requirement but
    the last, which the assessor closes by a competency conversation; every requirement is then
    judged satisfactory. All through the real services.
    """
    import io
    from datetime import date

    from portfolio.assessment import decisions, gaps, outcome, review, rules
    from portfolio.demo.samples import docx_bytes, pdf_bytes, png_bytes
    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item, set_item_mappings, submit
    from portfolio.extensions import db
    from portfolio.files.uploads import store_upload
    from portfolio.models import EvidenceType, Finding, GapMethod, OutcomeResult

    counter = iter(range(1000))
    makers = {
        "pdf": lambda label: pdf_bytes(f"Plan {label}"),
        "png": lambda label: png_bytes(),
        "docx": lambda label: docx_bytes("Log", f"Entry {label}"),
    }
    names = {"pdf": "plan", "png": "photo", "docx": "log"}

    def make(items: int = 1, unit: str = "TLII5018", files: tuple[str, ...] = ("pdf", "png")):
        n = next(counter)
        learner = make_user("learner", name=f"Lee Learner {n}", student_id=f"S{1000 + n}")
        assessor = make_user("assessor", name=f"Alex Assessor {n}")
        enrolment = make_enrolment(learner=learner, assessor=assessor, unit=unit)
        targets = exportable_targets(enrolment)
        gap, mapped = targets[-1], targets[:-1]
        for i in range(items):
            stored = [
                store_upload(io.BytesIO(makers[kind](f"{n}.{i}")), f"{names[kind]}-{n}-{i}.{kind}")
                for kind in files
            ]
            item = create_item(
                db.session,
                actor=learner,
                enrolment=enrolment,
                fields=ItemFields(
                    f"Evidence {i}",
                    EvidenceType.REPORT,
                    date(2026, 9, 1),
                    f"## What I did\n\n- **Step** {i}\n- [policy](https://example.org/p)",
                ),
                files=stored,
            )
            set_item_mappings(
                db.session, actor=learner, item=item, notes={t.id: f"shows {t.ref}" for t in mapped}
            )
        submit(db.session, actor=learner, enrolment=enrolment, declared=True)
        decisions.start_review(db.session, actor=assessor, enrolment=enrolment)
        view = review.review_view(db.session, enrolment)
        decisions.accept_learner_mappings(db.session, actor=assessor, view=view, targets=mapped)
        view = review.review_view(db.session, enrolment)
        gaps.sign_off_gap(
            db.session,
            actor=assessor,
            view=view,
            target=gap,
            method=GapMethod.COMPETENCY_CONVERSATION,
            held_on=date(2026, 11, 20),
            notes="Talked it through.",
            questions=[rules.Conversation("What is the QMS?", "The depot's quality manual.")],
        )
        view = review.review_view(db.session, enrolment)
        for target in targets:
            decisions.judge(
                db.session,
                actor=assessor,
                view=view,
                target=target,
                finding=Finding.SATISFACTORY,
                comment=f"Met: {target.ref}",
                seen_version=0,
            )
        view = review.review_view(db.session, enrolment)
        outcome.record_outcome(
            db.session, actor=assessor, view=view, result=OutcomeResult.COMPETENT, declared=True
        )
        db.session.commit()
        return enrolment

    return make


@pytest.fixture
def admin(app, client, make_user, login):
    """An admin, logged in; bundles are built before the request that starts them returns."""
    app.config["JOBS_SYNCHRONOUS"] = True
    user = make_user("admin", name="Ada Admin")
    login(user)
    return user


def matrix_grids(document) -> list:
    """A mapping matrix's grid tables (a block of learners each), in order."""
    return [t for t in document.tables if t.rows[0].cells[0].text == "Criterion"]
