"""Observation checklists and question banks: kept per unit release by assessors and admins,
filled in during an observation or a conversation (on a phone as easily as at a desk), and
saved as one gap sign-off record covering the criteria it showed.

What a template needs (a title, at least one item, each on a criterion of its own unit) and
what a filled one must show (something seen or answered, on criteria that are still gaps) is
decided here; the record itself is made by ``gaps.sign_off_gaps``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.assessment import gaps
from portfolio.assessment.review import ReviewView
from portfolio.assessment.rules import Conversation
from portfolio.audit.log import record
from portfolio.errors import ServiceError
from portfolio.files.uploads import NewFile
from portfolio.models import (
    AssessmentTemplate,
    Enrolment,
    GapSignoff,
    Role,
    Target,
    TargetKind,
    TemplateItem,
    TemplateKind,
    UnitRelease,
    User,
)
from portfolio.models.base import utcnow

MAX_TITLE = 200
MAX_ITEM = 1000
MAX_ITEMS = 400
#: What a checklist starts from: what can be watched being done.
OBSERVABLE = frozenset(
    {TargetKind.PERFORMANCE_CRITERION, TargetKind.ELEMENT, TargetKind.PERFORMANCE_EVIDENCE}
)
CHANGED_WHILE_EDITING = (
    "Someone else saved this template while you were editing it, so your change was not "
    "saved. Your text is below; the note under the title says who changed it. Save again to "
    "keep yours."
)
CHANGED_WHILE_FILLING = (
    "This template was changed while you were filling it in, so nothing was saved. What you "
    "entered is kept against the items that are still on it: check them and save again."
)


@dataclass(frozen=True)
class Filled:
    """One item as the assessor filled it in: seen (a checklist), and a note or the answer."""

    seen: bool = False
    note: str = ""


@dataclass(frozen=True)
class TemplateSummary:
    template: AssessmentTemplate
    items: int


def templates_of(session: Session, release_id: int) -> list[TemplateSummary]:
    """A unit release's templates in use, by title, with their number of items (one query)."""
    counted = (
        select(AssessmentTemplate, func.count(TemplateItem.id))
        .outerjoin(TemplateItem, TemplateItem.template_id == AssessmentTemplate.id)
        .where(
            AssessmentTemplate.unit_release_id == release_id,
            AssessmentTemplate.archived_at.is_(None),
        )
        .group_by(AssessmentTemplate.id)
        .order_by(AssessmentTemplate.kind, func.lower(AssessmentTemplate.title))
    )
    return [TemplateSummary(template, items) for template, items in session.execute(counted)]


def criteria(release: UnitRelease) -> list[Target]:
    """What a template's items can be about: every target of the release that is judged."""
    return [target for target in release.targets if target.judged_alone]


def starting_lines(kind: TemplateKind, targets: Iterable[Target]) -> dict[int, list[str]]:
    """A new template's lines per target: a checklist starts from the wording of every
    criterion and performance evidence item (to cut down or reword); a bank starts empty."""
    if kind is TemplateKind.QUESTIONS:
        return {}
    return {target.id: [target.text] for target in targets if target.kind in OBSERVABLE}


def lines_of(template: AssessmentTemplate) -> dict[int, list[str]]:
    """A template's items as lines per target, in order."""
    lines: dict[int, list[str]] = {}
    for item in template.items:
        lines.setdefault(item.target_id, []).append(item.text)
    return lines


def _checked_lines(
    release: UnitRelease, lines: Mapping[int, Sequence[str]]
) -> list[tuple[Target, str]]:
    targets = {target.id: target for target in criteria(release)}
    if set(lines) - set(targets):
        raise ServiceError(
            f"Some items are on criteria that are not in {release.unit.code} release "
            f"{release.release}; nothing was saved."
        )
    wanted = [
        (target, line.strip())
        for target in targets.values()
        for line in lines.get(target.id, ())
        if line.strip()
    ]
    if not wanted:
        raise ServiceError("Add at least one item: a line under a criterion.", "items")
    if len(wanted) > MAX_ITEMS:
        raise ServiceError(f"A template holds at most {MAX_ITEMS} items.", "items")
    for target, line in wanted:
        if len(line) > MAX_ITEM:
            raise ServiceError(
                f"An item under {target.ref} is longer than {MAX_ITEM} characters: shorten it.",
                "items",
            )
    return wanted


def _checked_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise ServiceError("Give the template a title.", "title")
    if len(title) > MAX_TITLE:
        raise ServiceError(f"Keep the title to {MAX_TITLE} characters.", "title")
    return title


def _described(template: AssessmentTemplate) -> dict[str, object]:
    """A template as the audit log keeps it."""
    return {
        "title": template.title,
        "kind": template.kind,
        "unit": template.unit_release.unit.code,
        "release": template.unit_release.release,
        "items": [{"ref": item.target.ref, "text": item.text} for item in template.items],
    }


def _log(
    session: Session,
    actor: User,
    action: str,
    template: AssessmentTemplate,
    *,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    """The template's audit event, in the caller's transaction, as an admin or an assessor."""
    session.flush()
    record(
        session,
        actor=actor,
        role=Role.ADMIN if actor.has_role(Role.ADMIN) else Role.ASSESSOR,
        action=action,
        subject=f"template:{template.id}",
        before=before,
        after=after,
    )


def create_template(
    session: Session,
    *,
    actor: User,
    release: UnitRelease,
    kind: TemplateKind,
    title: str,
    lines: Mapping[int, Sequence[str]],
) -> AssessmentTemplate:
    """A new checklist or question bank for ``release``, logged."""
    title = _checked_title(title)
    wanted = _checked_lines(release, lines)
    template = AssessmentTemplate(
        unit_release=release,
        kind=kind,
        title=title,
        created_by_id=actor.id,
        updated_by_id=actor.id,
        items=[
            TemplateItem(target=target, position=position, text=text)
            for position, (target, text) in enumerate(wanted)
        ],
    )
    session.add(template)
    _log(session, actor, "template.created", template, after=_described(template))
    return template


def change_template(
    session: Session,
    *,
    actor: User,
    template: AssessmentTemplate,
    title: str,
    lines: Mapping[int, Sequence[str]],
    seen_version: int,
) -> AssessmentTemplate:
    """Change a template's title and items, logged with before and after. Items that stay
    keep their identity, so a form being filled in elsewhere keeps what was entered on them."""
    _check_open(template)
    if seen_version != template.lock_version:
        raise ServiceError(CHANGED_WHILE_EDITING)
    title = _checked_title(title)
    wanted = _checked_lines(template.unit_release, lines)
    before = _described(template)
    standing: dict[tuple[int, str], list[TemplateItem]] = {}
    for item in template.items:
        standing.setdefault((item.target_id, item.text), []).append(item)
    items = []
    for position, (target, text) in enumerate(wanted):
        same = standing.get((target.id, text))
        item = same.pop(0) if same else TemplateItem(target=target, text=text)
        item.position = position
        items.append(item)
    if title == template.title and [i.id for i in items] == [i.id for i in template.items]:
        raise ServiceError("Nothing was changed.")
    template.items = items
    template.title = title
    template.updated_by_id = actor.id
    template.updated_at = utcnow()
    _log(session, actor, "template.changed", template, before=before, after=_described(template))
    return template


def archive_template(
    session: Session, *, actor: User, template: AssessmentTemplate, seen_version: int
) -> None:
    """No longer offer the template; the records made with it keep their own copy."""
    _check_open(template)
    if seen_version != template.lock_version:
        raise ServiceError(
            f"“{template.title}” was changed since this list was shown, so it was not "
            "archived. Check it, then archive it again."
        )
    template.archived_at = utcnow()
    template.updated_by_id = actor.id
    _log(session, actor, "template.archived", template, before={"title": template.title})


def _check_open(template: AssessmentTemplate) -> None:
    if template.archived_at is not None:
        raise ServiceError(f"“{template.title}” is archived: it can no longer be used or changed.")


def check_usable(template: AssessmentTemplate, enrolment: Enrolment) -> None:
    """Refused in words unless the template may be filled in for this enrolment's review."""
    _check_open(template)
    ours, theirs = enrolment.unit_release, template.unit_release
    if theirs.id != ours.id:
        raise ServiceError(
            f"“{template.title}” is for {theirs.unit.code} release {theirs.release}; this "
            f"portfolio is for {ours.unit.code} release {ours.release}. Use one of its own "
            "unit's templates."
        )


def offered_items(template: AssessmentTemplate, view: ReviewView) -> list[TemplateItem]:
    """The template's items on criteria that are still gaps in this review."""
    gaps_now = {target.id for target in view.targets if view.is_gap(target)}
    return [item for item in template.items if item.target_id in gaps_now]


def _grouped(items: Iterable[TemplateItem]) -> dict[int, list[TemplateItem]]:
    grouped: dict[int, list[TemplateItem]] = {}
    for item in items:
        grouped.setdefault(item.target_id, []).append(item)
    return grouped


@dataclass(frozen=True)
class Recorded:
    signoffs: list[GapSignoff]
    #: Criteria with some but not all of their checklist items seen: not signed off.
    partly_seen: list[Target]


def record_with_template(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    template: AssessmentTemplate,
    seen_version: int,
    filled: Mapping[int, Filled],
    held_on: date,
    notes: str,
    files: Sequence[NewFile] = (),
    judge_satisfactory: bool = False,
) -> Recorded:
    """Save a filled checklist or bank as one sign-off record. A checklist signs off each
    criterion whose items were all seen and keeps the whole checklist as ticked, with notes;
    a bank signs off each criterion with an answered question and keeps the questions and
    answers."""
    check_usable(template, view.enrolment)
    if seen_version != template.lock_version:
        raise ServiceError(CHANGED_WHILE_FILLING)
    offered = offered_items(template, view)
    if not offered:
        raise ServiceError(
            f"None of the criteria in “{template.title}” is a gap in this review any more."
        )
    targets = view.unit.by_id

    def entry(item: TemplateItem) -> Filled:
        return filled.get(item.id, Filled())

    checklist = None
    questions: list[Conversation] = []
    partly: list[Target] = []
    if template.kind is TemplateKind.OBSERVATION:
        if not any(entry(item).seen for item in offered):
            raise ServiceError(
                "Nothing on the checklist is ticked: tick what you saw the learner do.", "items"
            )
        groups = _grouped(offered)
        covered = [tid for tid, items in groups.items() if all(entry(i).seen for i in items)]
        partly = [
            targets[tid]
            for tid, items in groups.items()
            if tid not in covered and any(entry(i).seen for i in items)
        ]
        if not covered:
            raise ServiceError(
                "No criterion had every one of its items seen ("
                + ", ".join(target.ref for target in partly)
                + " only in part), so none can be signed off by this observation.",
                "items",
            )
        checklist = {
            "title": template.title,
            "items": [
                {
                    "ref": targets[item.target_id].ref,
                    "item": item.text,
                    "seen": entry(item).seen,
                    "note": entry(item).note.strip(),
                }
                for item in offered  # the whole checklist as used: seen or not
            ],
        }
    else:
        asked = [item for item in offered if entry(item).note.strip()]
        if not asked:
            raise ServiceError(
                "No question has an answer: write the learner's answer under each question "
                "you asked.",
                "items",
            )
        covered = list(_grouped(asked))
        questions = [Conversation(item.text, entry(item).note) for item in asked]
    signoffs = gaps.sign_off_gaps(
        session,
        actor=actor,
        view=view,
        targets=[targets[tid] for tid in covered],
        method=template.kind.method,
        held_on=held_on,
        notes=notes,
        questions=questions,
        files=files,
        judge_satisfactory=judge_satisfactory,
        checklist=checklist,
    )
    return Recorded(signoffs, partly)
