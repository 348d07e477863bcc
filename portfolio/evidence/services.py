"""Evidence services: items, versions, files, mappings, coverage and submission.

Services take the acting user, check the domain's rules and flush; the view commits once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

from portfolio.audit.log import record
from portfolio.auth.permissions import Action, check_state
from portfolio.clock import today
from portfolio.enrolments.progress import Coverage
from portfolio.enrolments.workflow import handed_in, transition
from portfolio.errors import ServiceError
from portfolio.evidence import rules
from portfolio.evidence.rules import ItemFields
from portfolio.files.uploads import NewFile
from portfolio.models import (
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    GapSignoff,
    Role,
    Submission,
    Target,
    User,
    VerificationRequest,
)
from portfolio.units.services import UnitView, released


@cache
def _items_of() -> Select[tuple[EvidenceItem]]:
    """The statement of ``load_items`` (the enrolment is ``enrolment_id``), built once: it
    costs more to build than to run."""
    return (
        select(EvidenceItem)
        .where(EvidenceItem.enrolment_id == bindparam("enrolment_id"))
        .options(
            joinedload(EvidenceItem.current_version).options(
                selectinload(EvidenceVersion.files), selectinload(EvidenceVersion.mappings)
            )
        )
        .order_by(EvidenceItem.number)
    )


def load_items(session: Session, enrolment: Enrolment) -> list[EvidenceItem]:
    """The enrolment's items with their current version (in the same row), files and
    mappings: three queries."""
    return list(session.scalars(_items_of(), {"enrolment_id": enrolment.id}))


@cache
def _portfolio_items() -> Select[tuple[EvidenceItem, int]]:
    """The enrolment's (``enrolment_id``) items as the portfolio page lists them: each with its
    current version and the number of its files in the same row (the files are not loaded)."""
    files = (
        select(func.count(EvidenceFile.id))
        .where(EvidenceFile.version_id == EvidenceItem.current_version_id)
        .correlate(EvidenceItem)
        .scalar_subquery()
    )
    return (
        select(EvidenceItem, files)
        .where(EvidenceItem.enrolment_id == bindparam("enrolment_id"))
        .options(joinedload(EvidenceItem.current_version))
        .order_by(EvidenceItem.number)
    )


@cache
def _portfolio_mappings() -> Select[tuple[int, int, str]]:
    """What the enrolment's (``enrolment_id``) current versions are mapped to, as rows of
    (item id, target id, note) in the items' order: read, not loaded as objects."""
    return (
        select(EvidenceItem.id, EvidenceMapping.target_id, EvidenceMapping.note)
        .join(EvidenceMapping, EvidenceMapping.version_id == EvidenceItem.current_version_id)
        .where(EvidenceItem.enrolment_id == bindparam("enrolment_id"))
        .order_by(EvidenceItem.number, EvidenceMapping.id)
    )


@cache
def _signoffs_of() -> Select[tuple[GapSignoff]]:
    """The enrolment's (``enrolment_id``) sign-offs in the order recorded, with who made each
    (by name, in the same row), built once."""
    return (
        select(GapSignoff)
        .where(GapSignoff.enrolment_id == bindparam("enrolment_id"))
        .order_by(GapSignoff.id)
        .options(joinedload(GapSignoff.assessor).options(lazyload(User.role_rows)))
    )


@dataclass
class PortfolioView:
    """A learner's portfolio for one unit: the unit's tree, with the items mapped to each target."""

    enrolment: Enrolment
    unit: UnitView
    items: list[EvidenceItem]
    by_target: dict[int, list[tuple[EvidenceItem, str]]] = field(default_factory=dict)
    # Targets the assessor closed by another method (a conversation, an observation, ...).
    signed_off: dict[int, GapSignoff] = field(default_factory=dict)
    # How many files each item's current version holds, and how many targets it is mapped to,
    # by item id.
    files: dict[int, int] = field(default_factory=dict)
    mapped: dict[int, int] = field(default_factory=dict)

    @property
    def coverage(self) -> Coverage:
        targets = self.unit.judged
        return Coverage(sum(1 for t in targets if not self.is_gap(t)), len(targets))

    def is_gap(self, target: Target) -> bool:
        return (
            target.judged_alone
            and not self.by_target.get(target.id)
            and target.id not in self.signed_off
        )


def portfolio_view(session: Session, enrolment: Enrolment) -> PortfolioView:
    """Everything the portfolio page shows, in a fixed number of queries whatever the size."""
    given = {"enrolment_id": enrolment.id}
    rows = session.execute(_portfolio_items(), given).all()
    items = {item.id: item for item, _ in rows}
    by_target: defaultdict[int, list[tuple[EvidenceItem, str]]] = defaultdict(list)
    mapped = dict.fromkeys(items, 0)
    for item_id, target_id, note in session.execute(_portfolio_mappings(), given):
        if item_id not in items:  # added since the items were read (another tab)
            continue
        by_target[target_id].append((items[item_id], note))
        mapped[item_id] += 1
    signoffs = session.scalars(_signoffs_of(), given).all()
    replaced = {s.replaces_id for s in signoffs}
    signed_off = {s.target_id: s for s in signoffs if s.id not in replaced}
    return PortfolioView(
        enrolment,
        released(session, enrolment.unit_release_id),
        list(items.values()),
        dict(by_target),
        signed_off,
        files={item.id: count for item, count in rows},
        mapped=mapped,
    )


def _shown_to_verifier(session: Session, version: EvidenceVersion) -> bool:
    """A verifier was sent this version: it stays as they were shown it."""
    asked = select(VerificationRequest.id).where(VerificationRequest.version_id == version.id)
    return session.scalar(asked.limit(1)) is not None


def _editable_version(session: Session, actor: User, item: EvidenceItem) -> EvidenceVersion:
    """The version a change goes into: the current one, or a new copy if that was submitted."""
    check_state(Action.CHANGE_EVIDENCE, item.enrolment)
    current = item.current_version
    assert current is not None
    report = session.scalar(
        select(VerificationRequest.signer_name).where(VerificationRequest.report_item_id == item.id)
    )
    if report is not None:
        raise ServiceError(
            f"{item.reference} is {report}'s signed third-party report: it stays as they wrote "
            "it. Ask them for another report to add to it."
        )
    if not current.frozen and not _shown_to_verifier(session, current):
        return current
    fresh = EvidenceVersion(
        item=item,
        version=current.version + 1,
        title=current.title,
        evidence_type=current.evidence_type,
        work_date=current.work_date,
        description=current.description,
        created_by_id=actor.id,
        files=[
            EvidenceFile(
                display_name=f.display_name,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                storage_backend=f.storage_backend,
                storage_key=f.storage_key,
                uploaded_at=f.uploaded_at,
                uploaded_by_id=f.uploaded_by_id,
            )
            for f in current.files
        ],
        mappings=[EvidenceMapping(target_id=m.target_id, note=m.note) for m in current.mappings],
    )
    session.add(fresh)
    session.flush()
    item.current_version = fresh
    session.flush()
    return fresh


def _notes(version: EvidenceVersion) -> dict[int, str]:
    """The version's mappings as {target id: how it shows it}."""
    return {m.target_id: m.note for m in version.mappings}


def _record_mapping(
    session: Session,
    *,
    actor: User,
    item: EvidenceItem,
    before: dict[int, str],
    before_version: int,
    version: EvidenceVersion,
) -> None:
    """One "evidence.mapped" event for an item whose mappings (or version) changed."""
    after = _notes(version)
    refs = dict(
        session.execute(
            select(Target.id, Target.ref)
            .where(Target.id.in_({*before, *after}))
            .order_by(Target.position)
        ).all()
    )
    change = rules.mapping_change(
        before, after, before_version=before_version, version=version.version, refs=refs
    )
    if change is None:
        return
    record(
        session,
        actor=actor,
        role=Role.LEARNER,
        action="evidence.mapped",
        subject=f"evidence:{item.reference}",
        enrolment=item.enrolment,
        before=change[0],
        after=change[1],
    )


def create_item(
    session: Session, *, actor: User, enrolment: Enrolment, fields: ItemFields, files: list[NewFile]
) -> EvidenceItem:
    """Add an evidence item (version 1) to the learner's portfolio."""
    check_state(Action.ADD_EVIDENCE, enrolment)
    fields = rules.checked_fields(fields, has_files=bool(files), today=today())
    number = enrolment.next_evidence_number
    enrolment.next_evidence_number = number + 1
    item = EvidenceItem(enrolment=enrolment, number=number)
    version = EvidenceVersion(
        item=item,
        version=1,
        title=fields.title,
        evidence_type=fields.evidence_type,
        work_date=fields.work_date,
        description=fields.description,
        created_by_id=actor.id,
        files=[EvidenceFile(uploaded_by_id=actor.id, **vars(f)) for f in files],
    )
    session.add_all([item, version])
    session.flush()
    item.current_version = version
    session.flush()
    record(
        session,
        actor=actor,
        role=Role.LEARNER,
        action="evidence.created",
        subject=f"evidence:{item.reference}",
        enrolment=enrolment,
        after=rules.created_payload(version),
    )
    return item


def update_item(
    session: Session,
    *,
    actor: User,
    item: EvidenceItem,
    fields: ItemFields,
    add_files: list[NewFile],
    remove_file_ids: Iterable[int] = (),
) -> EvidenceVersion:
    """Change an item; a submitted version stays as it was and the change becomes a new one."""
    assert item.current_version is not None
    # Ids are those the learner saw; a new version holds copies with new ids, so the files to
    # drop are recognised by what they are.
    remove = set(remove_file_ids)
    dropping = {
        (f.storage_key, f.display_name) for f in item.current_version.files if f.id in remove
    }
    before, before_version = (
        rules.version_snapshot(item.current_version),
        item.current_version.version,
    )
    version = _editable_version(session, actor, item)
    kept = [f for f in version.files if (f.storage_key, f.display_name) not in dropping]
    fields = rules.checked_fields(fields, has_files=bool(kept or add_files), today=today())
    version.title = fields.title
    version.evidence_type = fields.evidence_type
    version.work_date = fields.work_date
    version.description = fields.description
    version.files = kept + [EvidenceFile(uploaded_by_id=actor.id, **vars(f)) for f in add_files]
    session.flush()
    after = rules.version_snapshot(version)
    changed = [name for name in after if after[name] != before[name]]
    new_version = version.version != before_version
    if changed or new_version:
        record(
            session,
            actor=actor,
            role=Role.LEARNER,
            action="evidence.changed",
            subject=f"evidence:{item.reference}",
            enrolment=item.enrolment,
            before={"version": before_version, **{name: before[name] for name in changed}},
            after={
                "version": version.version,
                "new_version": new_version,
                **{name: after[name] for name in changed},
            },
        )
    return version


def set_item_mappings(
    session: Session, *, actor: User, item: EvidenceItem, notes: Mapping[int, str]
) -> EvidenceVersion:
    """Map an item to exactly these targets ({target id: how it shows it})."""
    release_id = item.enrolment.unit_release_id
    targets = {
        t.id: t
        for t in session.scalars(
            select(Target).where(Target.id.in_(list(notes)), Target.unit_release_id == release_id)
        )
    }
    unknown = set(notes) - set(targets)
    if unknown:
        raise ServiceError("Some of those criteria are not in this unit.", "targets")
    if any(t.is_group for t in targets.values()):
        raise ServiceError("Map evidence to the lines under a heading, not the heading itself.")
    assert item.current_version is not None
    before, before_version = _notes(item.current_version), item.current_version.version
    version = _editable_version(session, actor, item)
    existing = {m.target_id: m for m in version.mappings}
    version.mappings = [
        _mapping(existing.get(target_id), target_id, note) for target_id, note in notes.items()
    ]
    session.flush()
    _record_mapping(
        session,
        actor=actor,
        item=item,
        before=before,
        before_version=before_version,
        version=version,
    )
    return version


def _mapping(existing: EvidenceMapping | None, target_id: int, note: str) -> EvidenceMapping:
    if existing is None:
        return EvidenceMapping(target_id=target_id, note=note.strip())
    existing.note = note.strip()
    return existing


def attach_to_target(
    session: Session,
    *,
    actor: User,
    target: Target,
    items: Mapping[EvidenceItem, str],
    among: Iterable[EvidenceItem] = (),
) -> None:
    """From one target ("attach existing evidence"): the ticked ``items`` show it, with their
    notes; items of ``among`` left unticked no longer do. Items that do not change are not
    touched, so a submitted one only gets a new version when its mapping really changes."""
    if target.is_group:
        raise ServiceError("Map evidence to the lines under a heading, not the heading itself.")
    changed: list[tuple[EvidenceItem, dict[int, str], int, EvidenceVersion]] = []
    for item in {*items, *among}:
        if item.enrolment.unit_release_id != target.unit_release_id:
            raise ServiceError("That evidence belongs to another unit.")
        assert item.current_version is not None
        current = _mapping_to(item.current_version, target)
        note = items.get(item)
        if note is None and current is None:
            continue
        if note is not None and current is not None and current.note == note.strip():
            continue
        before, before_version = _notes(item.current_version), item.current_version.version
        version = _editable_version(session, actor, item)
        if note is None:
            version.mappings = [m for m in version.mappings if m.target_id != target.id]
        else:
            mapping = _mapping_to(version, target)
            if mapping is None:
                version.mappings.append(EvidenceMapping(target_id=target.id, note=note.strip()))
            else:
                mapping.note = note.strip()
        changed.append((item, before, before_version, version))
    session.flush()
    for item, before, before_version, version in sorted(changed, key=lambda c: c[0].number):
        _record_mapping(
            session,
            actor=actor,
            item=item,
            before=before,
            before_version=before_version,
            version=version,
        )


def _mapping_to(version: EvidenceVersion, target: Target) -> EvidenceMapping | None:
    return next((m for m in version.mappings if m.target_id == target.id), None)


def submit(
    session: Session,
    *,
    actor: User,
    enrolment: Enrolment,
    declared: bool,
    signature: bytes | None = None,
) -> Submission:
    """Hand the portfolio in with the learner's declaration (signed by drawing, where the RTO
    asks for it); its current versions freeze."""
    rules.check_declared(declared)
    check_state(Action.SUBMIT, enrolment)
    items = load_items(session, enrolment)
    rules.check_not_empty(items)
    round_number = len(enrolment.submissions) + 1
    submission = Submission(
        enrolment=enrolment,
        round=round_number,
        attempt=enrolment.attempt,
        submitted_by_id=actor.id,
        declaration=rules.DECLARATION,
        signature_png=signature,
    )
    session.add(submission)
    session.flush()
    for item in items:
        assert item.current_version is not None
        if not item.current_version.frozen:
            item.current_version.submission_id = submission.id
    transition(
        session,
        enrolment,
        handed_in(round_number),
        actor=actor,
        role=Role.LEARNER,
    )
    session.flush()
    return submission
