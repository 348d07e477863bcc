"""Writing plans straight into the tables, many rows at a time.

For each action of a plan this writes the rows, the changes and the audit event that the
service it stands for would have written (``portfolio.evidence.services``,
``portfolio.assessment.review``, ``enrolments``, ``workflow``), checking the same rules, but
collects them in memory and inserts them with one ``INSERT`` per table and few thousand rows
(SQLAlchemy's insertmanyvalues), once per batch of learners. Files go into the evidence store
through the upload path itself (``store_upload``), several at a time.

Primary keys are taken before the rows are inserted, so rows and audit events can name each
other: on SQLite from the highest id, under the write lock the batch holds from its first
statement; on PostgreSQL from each table's own sequence, so concurrent writers never collide.
Audit events are chained as ``record`` chains them, with its own hash function, in the order
of their timestamps; the head row is locked for the whole batch.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, Future
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from portfolio.assessment import rules
from portfolio.audit.log import SYSTEM, event_digest, events_added, jsonable
from portfolio.auth.permissions import Action, check_state
from portfolio.auth.services import account_payload, normalise_email
from portfolio.demo.generate.content import FileSpec
from portfolio.demo.generate.plan import (
    CheckItem,
    CreateItem,
    CreditTransfer,
    DecideMapping,
    EnrolmentPlan,
    Judge,
    LearnerPlan,
    MapItem,
    OpenReassessment,
    OverrideFlag,
    RecordOutcome,
    ReturnToLearner,
    SignOff,
    StartReview,
    Submit,
    Withdraw,
)
from portfolio.enrolments import rules as closing_rules
from portfolio.enrolments.rules import CreditDocument
from portfolio.enrolments.services import enrolment_payload
from portfolio.enrolments.workflow import STATE_EVENT, handed_in, move
from portfolio.errors import ServiceError
from portfolio.evidence import rules as evidence_rules
from portfolio.evidence.rules import ItemFields
from portfolio.files.filetypes import safe_display_name
from portfolio.files.uploads import NewFile, store_upload
from portfolio.models import (
    AssessmentState,
    AuditEvent,
    AuditHead,
    Closure,
    ClosureFile,
    ClosureKind,
    Enrolment,
    EvidenceCheck,
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceRule,
    EvidenceVersion,
    Finding,
    GapFeedback,
    GapSignoff,
    Judgement,
    MappingDecision,
    MappingSource,
    OutcomeResult,
    Reassessment,
    Role,
    SignoffFile,
    Submission,
    UnitOutcome,
    User,
    UserRole,
)

S = AssessmentState

#: Tables in the order their rows can be inserted (every reference points backwards).
TABLES = (
    User,
    UserRole,
    Enrolment,
    Submission,
    EvidenceItem,
    EvidenceVersion,
    EvidenceFile,
    EvidenceMapping,
    MappingDecision,
    EvidenceCheck,
    Judgement,
    GapSignoff,
    SignoffFile,
    GapFeedback,
    UnitOutcome,
    Reassessment,
    Closure,
    ClosureFile,
)
INSERT_CHUNK = 5000
MICROSECOND = timedelta(microseconds=1)


class _Ids:
    """Primary keys for rows not yet inserted."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.next: dict[str, int] = {}
        self.reserved: dict[str, deque[int]] = {}
        self.chunk: dict[str, int] = {}

    def take(self, model: type[Any]) -> int:
        table = model.__tablename__
        if self.postgres:
            queue = self.reserved.setdefault(table, deque())
            if not queue:
                size = self.chunk.get(table, 256)
                self.chunk[table] = min(size * 4, 65536)
                queue.extend(
                    self.session.scalars(
                        text(
                            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                            "FROM generate_series(1, :size)"
                        ),
                        {"table": table, "size": size},
                    )
                )
            return queue.popleft()
        value = self.next.get(table)
        if value is None:
            value = (self.session.scalar(select(func.max(model.id))) or 0) + 1
        self.next[table] = value + 1
        return value


class Batch:
    """The rows and audit events of a batch of learners, written by ``finish`` in one go.

    Creating a batch takes the audit head's lock (and on SQLite the database's write lock), so
    nothing else appends to the chain or takes ids until the caller commits.
    """

    def __init__(
        self,
        session: Session,
        *,
        app: Flask,
        pool: Executor,
        timezone: ZoneInfo,
        password_hash: str,
    ) -> None:
        self.session, self.app, self.pool = session, app, pool
        self.timezone, self.password_hash = timezone, password_hash
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
        self.ids = _Ids(session)
        self.rows: dict[type[Any], list[dict[str, Any]]] = {model: [] for model in TABLES}
        self.dropped: set[int] = set()  # mappings replaced before they were ever inserted
        self.current_versions: list[dict[str, int]] = []
        self.events: list[tuple[datetime, int, dict[str, Any]]] = []
        self.pending: list[tuple[dict[str, Any], Future[NewFile]]] = []
        self.uploads: dict[int, Future[NewFile]] = {}
        self.stored_bytes = 0

    # -- collecting ---------------------------------------------------------------------------

    def add(self, model: type[Any], row: dict[str, Any]) -> dict[str, Any]:
        self.rows[model].append(row)
        return row

    def event(
        self,
        at: datetime,
        *,
        actor_id: int | None,
        role: Role | None,
        action: str,
        subject: str,
        enrolment_id: int | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """An audit event as ``record`` writes it; numbered and chained by ``finish``."""
        row = {
            "occurred_at": at,
            "actor_id": actor_id,
            "actor_role": str(role.value if role is not None else SYSTEM),
            "action": action,
            "enrolment_id": enrolment_id,
            "subject": subject,
            "before": _jsonable(before) if before is not None else None,
            "after": _jsonable(after) if after is not None else None,
        }
        self.events.append((at, len(self.events), row))

    def file(self, model: type[Any], spec: FileSpec, **fields: Any) -> dict[str, Any]:
        """A stored file's row: the upload starts now; ``finish`` fills in what it returns."""
        content = spec.content()
        row = self.add(
            model,
            {
                "id": self.ids.take(model),
                **fields,
                "display_name": safe_display_name(spec.name),
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
        future = self.pool.submit(self._upload, content, spec.name)
        self.pending.append((row, future))
        self.uploads[id(row)] = future
        self.stored_bytes += len(content)
        return row

    def copy_file(self, row: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """The same stored file in a new version, as ``_editable_version`` copies it."""
        copy = self.add(EvidenceFile, {**row, "id": self.ids.take(EvidenceFile), **fields})
        future = self.uploads[id(row)]
        self.pending.append((copy, future))
        self.uploads[id(copy)] = future
        return copy

    def _upload(self, content: bytes, name: str) -> NewFile:
        with self.app.app_context():
            return store_upload(io.BytesIO(content), name)

    def learner(self, plan: LearnerPlan, assessors: list[int]) -> list[EnrolmentRows]:
        learner_id = self.user(
            name=plan.name,
            email=plan.email,
            roles={Role.LEARNER},
            student_id=plan.student_id,
            usi=plan.usi,
            at=plan.at,
        )
        written = []
        for enrolment in plan.enrolments:
            rows = EnrolmentRows(self, enrolment, learner_id, assessors[enrolment.assessor])
            rows.apply(enrolment.actions)
            written.append(rows)
        return written

    def user(
        self,
        *,
        name: str,
        email: str,
        roles: set[Role],
        at: datetime,
        student_id: str | None = None,
        usi: str | None = None,
    ) -> int:
        """An account as ``create_user`` makes it (by the operator: no acting user)."""
        user_id = self.ids.take(User)
        row = self.add(
            User,
            {
                "id": user_id,
                "email": normalise_email(email),
                "name": name.strip(),
                "password_hash": self.password_hash,
                "student_id": student_id,
                "usi": usi,
                "active": True,
                "created_at": at,
            },
        )
        for role in sorted(roles):
            self.add(UserRole, {"id": self.ids.take(UserRole), "user_id": user_id, "role": role})
        self.event(
            at,
            actor_id=None,
            role=None,
            action="user.created",
            subject=f"user:{user_id}",
            after=account_payload(row["name"], row["email"], roles, student_id, usi),
        )
        return user_id

    # -- writing ------------------------------------------------------------------------------

    def finish(self) -> Counter[str]:
        """Chain the events, insert everything, the files' rows last when they are stored
        (the uploads go on meanwhile); the caller commits."""
        head = self.session.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
        ).one()
        seq, previous = head.seq, head.hash
        self.events.sort(key=lambda event: (event[0], event[1]))
        events = []
        for _, _, row in self.events:
            seq += 1
            row.update(id=self.ids.take(AuditEvent), seq=seq, prev_hash=previous, keyed=True)
            row["hash"] = previous = event_digest(SimpleNamespace(**row))
            events.append(row)

        counts: Counter[str] = Counter()
        files = (EvidenceFile, SignoffFile, ClosureFile)  # nothing refers to them
        for model in (*(m for m in TABLES if m not in files), *files):
            rows = self.rows[model]
            if model is EvidenceMapping:
                rows = [row for row in rows if row["id"] not in self.dropped]
            if model is files[0]:
                self._stored()
            self._insert(model, rows)
            counts[model.__tablename__] = len(rows)
            if model is EvidenceVersion:
                table = EvidenceItem.__table__
                for chunk in _chunks(self.current_versions):
                    self.session.execute(
                        update(table)
                        .where(table.c.id == bindparam("item_id"))
                        .values(current_version_id=bindparam("version_id")),
                        chunk,
                    )
        self._insert(AuditEvent, events)
        counts["audit_events"] = len(events)
        counts["stored_bytes"] = self.stored_bytes
        self.session.execute(
            update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=previous)
        )
        events_added(self.session)
        return counts

    def _stored(self) -> None:
        """Wait for the uploads; each file's row takes what the store says of it."""
        for row, future in self.pending:
            stored = future.result()
            if (stored.sha256, stored.size) != (row["sha256"], row["size"]):
                raise RuntimeError(f"{stored.display_name} was not stored as it was made.")
            row.update(vars(stored))

    def _insert(self, model: type[Any], rows: list[dict[str, Any]]) -> None:
        # Into the table rather than through the mapper: the ORM's bulk insert would stamp
        # every version counter (lock_version) 1, where these rows count their updates.
        for chunk in _chunks(rows):
            self.session.execute(insert(model.__table__), chunk)


_PLAIN = frozenset((str, int, bool, type(None)))


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """``jsonable`` of an event's values, passing over those that are plain already."""
    return {key: v if type(v) in _PLAIN else jsonable(v) for key, v in values.items()}


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), INSERT_CHUNK):
        yield rows[start : start + INSERT_CHUNK]


class _Item:
    __slots__ = ("current", "files", "mappings", "row", "versions")

    def __init__(self, row: dict[str, Any], version: dict[str, Any]) -> None:
        self.row = row
        self.versions = [version]
        self.current = version
        self.files: dict[int, list[dict[str, Any]]] = {version["id"]: []}
        self.mappings: dict[int, dict[int, dict[str, Any]]] = {version["id"]: {}}

    def submitted(self) -> dict[str, Any] | None:
        """The version last handed in: what the assessor sees."""
        for version in reversed(self.versions):
            if version["submission_id"] is not None:
                return version
        return None


class EnrolmentRows:
    """One enrolment as its actions leave it: enrolled as ``enrol`` does, then each action."""

    def __init__(
        self, batch: Batch, plan: EnrolmentPlan, learner_id: int, assessor_id: int
    ) -> None:
        self.batch, self.plan, self.unit = batch, plan, plan.unit
        self.learner, self.assessor = learner_id, assessor_id
        self.last = plan.at
        self.id = batch.ids.take(Enrolment)
        self.row = batch.add(
            Enrolment,
            {
                "id": self.id,
                "learner_id": learner_id,
                "unit_release_id": plan.unit.release_id,
                "assessor_id": assessor_id,
                "is_rpl": plan.is_rpl,
                "state": S.DRAFT,
                "next_evidence_number": 1,
                "attempt": 1,
                "activity_start": plan.at.astimezone(batch.timezone).date(),
                "activity_end": None,
                "created_at": plan.at,
                "created_by_id": None,
                "lock_version": 1,
            },
        )
        self.items: dict[int, _Item] = {}
        self.submissions: list[dict[str, Any]] = []
        self.decisions: dict[tuple[int, int], dict[str, Any]] = {}
        # Each rule's check row, by (version id, rule): flagged ones block decisions.
        self.checks: dict[tuple[int, EvidenceRule], dict[str, Any]] = {}
        self.judgements: dict[int, dict[str, Any]] = {}
        self.signoffs: set[int] = set()
        self.outcome: OutcomeResult | None = None
        self.event(
            plan.at,
            None,
            None,
            "enrolment.created",
            f"enrolment:{self.id}",
            after=enrolment_payload(
                learner_id, plan.unit.code, plan.unit.release, plan.is_rpl, assessor_id
            ),
        )

    # -- helpers --------------------------------------------------------------------------------

    def event(
        self,
        at: datetime,
        actor_id: int | None,
        role: Role | None,
        action: str,
        subject: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        # Two events of one action are written one after the other, never at the same instant.
        self.last = at if at > self.last else self.last + MICROSECOND
        self.batch.event(
            self.last,
            actor_id=actor_id,
            role=role,
            action=action,
            subject=subject,
            enrolment_id=self.id,
            before=before,
            after=after,
        )

    @property
    def state(self) -> AssessmentState:
        """Where the assessment stands, for the policy's ``check_state``."""
        return self.row["state"]

    def updated(self) -> None:
        """The enrolment row was written: its version counter moves on, as the ORM's does."""
        self.row["lock_version"] += 1

    def transition(
        self,
        at: datetime,
        to: AssessmentState,
        actor_id: int,
        role: Role,
        reason: str | None = None,
    ) -> None:
        event_before, event_after = move(self.row["state"], to, reason)
        self.row["state"] = to
        self.updated()
        self.event(
            at,
            actor_id,
            role,
            STATE_EVENT,
            f"enrolment:{self.id}",
            before=event_before,
            after=event_after,
        )

    def ref(self, target_id: int) -> str:
        return self.unit.by_id[target_id].ref

    def assessor_entry(self, model: type[Any], at: datetime, **fields: Any) -> dict[str, Any]:
        return self.batch.add(
            model,
            {
                "id": self.batch.ids.take(model),
                "enrolment_id": self.id,
                "attempt": self.row["attempt"],
                "assessor_id": self.assessor,
                "recorded_at": at,
                "lock_version": 1,
                "correction_reason": None,
                "replaces_id": None,
                **fields,
            },
        )

    def submitted_version(self, number: int) -> tuple[_Item, dict[str, Any]]:
        item = self.items[number]
        version = item.submitted()
        if version is None:
            raise ServiceError(rules.NOT_IN_SUBMISSION)
        return item, version

    def flags(self, version_id: int) -> list[EvidenceRule]:
        """The version's flags nobody resolved, in the usual order, as ``ReviewView.flags``."""
        return [
            rule
            for rule in EvidenceRule
            if (check := self.checks.get((version_id, rule))) is not None
            and not check["confirmed"]
            and not check["override_reason"]
        ]

    def accepted(self, target_id: int) -> list[tuple[int, dict[str, Any]]]:
        """(item number, version) of the submitted versions accepted for the target."""
        found = []
        for number, item in sorted(self.items.items()):
            version = item.submitted()
            if version is not None:
                decision = self.decisions.get((version["id"], target_id))
                if decision is not None and decision["accepted"]:
                    found.append((number, version))
        return found

    def leans_on_flags(self, target_id: int) -> list[str]:
        return [
            rules.flagged(number, flags)
            for number, version in self.accepted(target_id)
            if (flags := self.flags(version["id"]))
        ]

    def flagged_evidence(self) -> list[str]:
        """Accepted evidence with unresolved flags, as ``ReviewView.flagged_evidence``."""
        accepted = {v["id"] for t in self.unit.targets for _, v in self.accepted(t.id)}
        return [
            rules.flagged(number, flags)
            for number, item in sorted(self.items.items())
            if (version := item.submitted()) is not None
            and version["id"] in accepted
            and (flags := self.flags(version["id"]))
        ]

    def is_gap(self, target_id: int) -> bool:
        """No accepted evidence in the submitted versions, and not signed off."""
        return target_id not in self.signoffs and not self.accepted(target_id)

    # -- actions --------------------------------------------------------------------------------

    def apply(self, actions: Iterable[Any]) -> None:
        for action in actions:
            match action:
                case CreateItem():
                    self.create_item(action)
                case MapItem():
                    self.map_item(action)
                case Submit():
                    self.submit(action)
                case StartReview():
                    self.start_review(action)
                case CheckItem():
                    self.check(action)
                case OverrideFlag():
                    self.override(action)
                case DecideMapping():
                    self.decide(action)
                case Judge():
                    self.judge(action)
                case SignOff():
                    self.sign_off(action)
                case ReturnToLearner():
                    self.return_to_learner(action)
                case RecordOutcome():
                    self.record_outcome(action)
                case OpenReassessment():
                    self.open_reassessment(action)
                case Withdraw():
                    self.withdraw(action)
                case CreditTransfer():
                    self.credit_transfer(action)
                case _:
                    raise TypeError(f"Unknown action {action!r}")

    def create_item(self, action: CreateItem) -> None:
        """``create_item``: the item, version 1 and its files."""
        check_state(Action.ADD_EVIDENCE, self)
        fields = evidence_rules.checked_fields(
            ItemFields(action.title, action.evidence_type, action.work_date, action.description),
            has_files=bool(action.files),
            today=action.at.astimezone(self.batch.timezone).date(),
        )
        number = self.row["next_evidence_number"]
        if action.number != number:
            raise ValueError(f"Evidence E{action.number} would be numbered E{number}.")
        self.row["next_evidence_number"] = number + 1
        self.updated()
        batch = self.batch
        item_id, version_id = batch.ids.take(EvidenceItem), batch.ids.take(EvidenceVersion)
        row = batch.add(
            EvidenceItem,
            {
                "id": item_id,
                "enrolment_id": self.id,
                "number": number,
                "created_at": action.at,
                "current_version_id": None,
            },
        )
        version = batch.add(
            EvidenceVersion,
            {
                "id": version_id,
                "item_id": item_id,
                "version": 1,
                "title": fields.title,
                "evidence_type": fields.evidence_type,
                "work_date": fields.work_date,
                "description": fields.description,
                "created_at": action.at,
                "created_by_id": self.learner,
                "submission_id": None,
            },
        )
        batch.current_versions.append({"item_id": item_id, "version_id": version_id})
        item = self.items[number] = _Item(row, version)
        item.files[version_id] = [
            batch.file(
                EvidenceFile,
                spec,
                version_id=version_id,
                uploaded_at=action.at,
                uploaded_by_id=self.learner,
            )
            for spec in action.files
        ]
        self.event(
            action.at,
            self.learner,
            Role.LEARNER,
            "evidence.created",
            f"evidence:E{number}",
            after=evidence_rules.created_payload(_version_view(version, item.files[version_id])),
        )

    def map_item(self, action: MapItem) -> None:
        """``set_item_mappings``: a submitted version is first copied to a new one."""
        check_state(Action.CHANGE_EVIDENCE, self)
        batch, at = self.batch, action.at
        item = self.items[action.number]
        current = item.current
        before = {tid: m["note"] for tid, m in item.mappings[current["id"]].items()}
        before_version = current["version"]
        if current["submission_id"] is not None:
            fresh = batch.add(
                EvidenceVersion,
                {
                    **current,
                    "id": batch.ids.take(EvidenceVersion),
                    "version": current["version"] + 1,
                    "created_at": at,
                    "created_by_id": self.learner,
                    "submission_id": None,
                },
            )
            item.files[fresh["id"]] = [
                batch.copy_file(f, version_id=fresh["id"]) for f in item.files[current["id"]]
            ]
            item.mappings[fresh["id"]] = {
                tid: self.mapping(fresh["id"], tid, m["note"], at)
                for tid, m in item.mappings[current["id"]].items()
            }
            item.versions.append(fresh)
            item.current = current = fresh
            batch.current_versions.append({"item_id": item.row["id"], "version_id": fresh["id"]})
        mappings = item.mappings[current["id"]]
        wanted = dict(action.notes)
        for tid in [tid for tid in mappings if tid not in wanted]:
            batch.dropped.add(mappings.pop(tid)["id"])
        for tid, note in wanted.items():
            if tid in mappings:
                mappings[tid]["note"] = note.strip()
            else:
                mappings[tid] = self.mapping(current["id"], tid, note.strip(), at)
        after = {tid: m["note"] for tid, m in mappings.items()}
        order = sorted({*before, *after}, key=lambda tid: self.unit.by_id[tid].position)
        change = evidence_rules.mapping_change(
            before,
            after,
            before_version=before_version,
            version=current["version"],
            refs={tid: self.ref(tid) for tid in order},
        )
        if change is None:
            return
        self.event(
            at,
            self.learner,
            Role.LEARNER,
            "evidence.mapped",
            f"evidence:E{action.number}",
            before=change[0],
            after=change[1],
        )

    def mapping(self, version_id: int, target_id: int, note: str, at: datetime) -> dict[str, Any]:
        return self.batch.add(
            EvidenceMapping,
            {
                "id": self.batch.ids.take(EvidenceMapping),
                "version_id": version_id,
                "target_id": target_id,
                "note": note,
                "created_at": at,
            },
        )

    def submit(self, action: Submit) -> None:
        """``submit``: a new round; the current versions freeze."""
        check_state(Action.SUBMIT, self)
        evidence_rules.check_not_empty(list(self.items))
        round_number = len(self.submissions) + 1
        submission = self.batch.add(
            Submission,
            {
                "id": self.batch.ids.take(Submission),
                "enrolment_id": self.id,
                "round": round_number,
                "attempt": self.row["attempt"],
                "submitted_at": action.at,
                "submitted_by_id": self.learner,
                "declaration": evidence_rules.DECLARATION,
                "review_started_at": None,
                "returned_at": None,
                "returned_by_id": None,
                "return_feedback": None,
            },
        )
        self.submissions.append(submission)
        for item in self.items.values():
            if item.current["submission_id"] is None:
                item.current["submission_id"] = submission["id"]
        to = handed_in(round_number)
        self.transition(action.at, to, self.learner, Role.LEARNER)

    def start_review(self, action: StartReview) -> None:
        check_state(Action.START_REVIEW, self)
        if not self.submissions:
            raise ServiceError(rules.NOT_SUBMITTED)
        self.transition(action.at, S.IN_REVIEW, self.assessor, Role.ASSESSOR)
        submission = self.submissions[-1]
        submission["review_started_at"] = submission["review_started_at"] or action.at

    def check(self, action: CheckItem) -> None:
        """``check_evidence`` of a rule not yet checked for that version."""
        check_state(Action.CHECK_EVIDENCE, self)
        _, version = self.submitted_version(action.number)
        note = rules.checked_note(action.rule, action.confirmed, action.note, was_flagged=False)
        key = (version["id"], action.rule)
        if key in self.checks:
            raise ValueError(f"E{action.number} is already checked for {action.rule.value}.")
        self.checks[key] = self.assessor_entry(
            EvidenceCheck,
            action.at,
            version_id=version["id"],
            rule=action.rule,
            confirmed=action.confirmed,
            note=note,
            override_reason=None,
        )
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "evidence.checked",
            rules.evidence_subject(action.number, version["version"], action.rule.value),
            after=rules.check_payload(action.confirmed, note),
        )

    def override(self, action: OverrideFlag) -> None:
        """``override_flag``: the flag stands, with the reason decisions may go past it."""
        check_state(Action.OVERRIDE_FLAG, self)
        _, version = self.submitted_version(action.number)
        check = self.checks.get((version["id"], action.rule))
        flagged_now = check is not None and not check["confirmed"]
        reason = rules.override_reason(action.rule, flagged_now=flagged_now, reason=action.reason)
        assert check is not None
        before = rules.override_payload(check["note"], check["override_reason"])
        check.update(override_reason=reason, recorded_at=action.at)
        check["lock_version"] += 1
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "evidence.flag_overridden",
            rules.evidence_subject(action.number, version["version"], action.rule.value),
            before=before,
            after=rules.override_payload(check["note"], reason),
        )

    def decide(self, action: DecideMapping) -> None:
        """``decide_mapping`` on a learner's mapping nobody has decided on yet."""
        check_state(Action.DECIDE_MAPPING, self)
        item, version = self.submitted_version(action.number)
        ref = self.ref(action.target_id)
        mapped = action.target_id in item.mappings[version["id"]]
        rules.check_mapping_claim(MappingSource.LEARNER, mapped, ref)
        if action.accepted:
            rules.check_not_flagged(action.number, self.flags(version["id"]))
        key = (version["id"], action.target_id)
        if key in self.decisions:
            raise ValueError(f"E{action.number} is already decided for {ref}.")
        note = action.note.strip()
        self.decisions[key] = self.assessor_entry(
            MappingDecision,
            action.at,
            version_id=version["id"],
            target_id=action.target_id,
            source=MappingSource.LEARNER,
            accepted=action.accepted,
            note=note,
        )
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            rules.decision_action(action.accepted),
            rules.evidence_subject(action.number, version["version"], ref),
            after=rules.decision_payload(action.accepted, note, MappingSource.LEARNER),
        )

    def judge(self, action: Judge) -> None:
        """``judge``: a new judgement, or the one already made changed in place."""
        check_state(Action.JUDGE, self)
        ref = self.ref(action.target_id)
        comment = rules.judged_comment(
            ref,
            action.finding,
            action.comment,
            is_gap=self.is_gap(action.target_id),
            leans_on=self.leans_on_flags(action.target_id),
        )
        existing = self.judgements.get(action.target_id)
        before = None
        # A judgement of an earlier attempt stands until this attempt judges anew.
        if existing is None or existing["attempt"] != self.row["attempt"]:
            existing = self.judgements[action.target_id] = self.assessor_entry(
                Judgement, action.at, target_id=action.target_id
            )
        else:
            before = rules.judgement_payload(existing["finding"], existing["comment"])
            existing["lock_version"] += 1
        existing.update(
            finding=action.finding,
            comment=comment,
            assessor_id=self.assessor,
            submission_id=self.submissions[-1]["id"],
            recorded_at=action.at,
        )
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "judgement.recorded",
            rules.target_subject(ref),
            before=before,
            after=rules.judgement_payload(action.finding, comment),
        )

    def sign_off(self, action: SignOff) -> None:
        """``sign_off_gap``, with any files the assessor gathered."""
        check_state(Action.SIGN_OFF, self)
        ref = self.ref(action.target_id)
        rules.check_gap(ref, is_gap=self.is_gap(action.target_id))
        notes, questions = rules.signoff_record(
            action.method,
            action.held_on,
            action.notes,
            [rules.Conversation(q, a) for q, a in action.questions],
            today=action.at.astimezone(self.batch.timezone).date(),
        )
        self.updated()  # the enrolment row is claimed against a double submit
        signoff = self.assessor_entry(
            GapSignoff,
            action.at,
            target_id=action.target_id,
            method=action.method,
            held_on=action.held_on,
            notes=notes,
            questions=questions,
        )
        # A record of one criterion, as the services write it; derived from the row's id, not
        # drawn at random, so the same seed makes the same data.
        signoff["record_key"] = f"g{signoff['id']}"
        files = [
            self.batch.file(
                SignoffFile,
                spec,
                signoff_id=signoff["id"],
                uploaded_at=action.at,
                uploaded_by_id=self.assessor,
            )
            for spec in action.files
        ]
        self.signoffs.add(action.target_id)
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "gap.signed_off",
            rules.target_subject(ref),
            after=rules.signoff_payload(
                action.method,
                action.held_on,
                notes,
                questions,
                ((f["display_name"], f["sha256"]) for f in files),
            ),
        )

    def return_to_learner(self, action: ReturnToLearner) -> None:
        """``return_to_learner``: feedback per criterion; the next submission is a new round."""
        check_state(Action.RETURN, self)
        wanted = rules.return_feedback(dict(action.feedback))
        submission = self.submissions[-1]
        for target_id, feedback in wanted.items():
            self.batch.add(
                GapFeedback,
                {
                    "id": self.batch.ids.take(GapFeedback),
                    "submission_id": submission["id"],
                    "target_id": target_id,
                    "feedback": feedback,
                },
            )
        overall = action.overall.strip()
        submission.update(
            returned_at=action.at, returned_by_id=self.assessor, return_feedback=overall
        )
        self.transition(action.at, S.RETURNED, self.assessor, Role.ASSESSOR, reason=overall or None)
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "submission.returned",
            f"submission:{submission['round']}",
            after=rules.return_payload(
                overall, {self.ref(tid): feedback for tid, feedback in wanted.items()}
            ),
        )

    def record_outcome(self, action: RecordOutcome) -> None:
        """``record_outcome``: every criterion judged; Competent only when all satisfactory."""
        check_state(Action.RECORD_OUTCOME, self)
        result = action.result
        rules.check_choice(result, is_rpl=self.plan.is_rpl)
        unjudged = [t.ref for t in self.unit.targets if t.id not in self.judgements]
        rules.check_judged(unjudged)
        rules.check_achievable(
            result,
            all_satisfactory=all(
                j["finding"] is Finding.SATISFACTORY for j in self.judgements.values()
            ),
            gaps=[t.ref for t in self.unit.targets if self.is_gap(t.id)],
            flagged_evidence=self.flagged_evidence(),
        )
        decided_on = action.at.astimezone(self.batch.timezone).date()
        self.assessor_entry(
            UnitOutcome,
            action.at,
            result=result,
            declaration=rules.OUTCOME_DECLARATION,
            decided_on=decided_on,
        )
        self.outcome = result
        self.row["activity_end"] = decided_on
        self.transition(action.at, S.DECIDED, self.assessor, Role.ASSESSOR)
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "outcome.recorded",
            f"enrolment:{self.id}",
            after=rules.outcome_payload(result, decided_on),
        )

    def open_reassessment(self, action: OpenReassessment) -> None:
        """``open_reassessment``: the next attempt, with the criteria still to show."""
        check_state(Action.OPEN_REASSESSMENT, self)
        local = action.at.astimezone(self.batch.timezone).date()
        plan = rules.reassessment_plan(
            result=self.outcome,
            attempt=self.row["attempt"],
            allowed=self.batch.app.config["ATTEMPTS_ALLOWED"],
            plan=action.plan,
            due_on=action.due_on,
            today=local,
        )
        criteria = [
            t.ref
            for t in self.unit.targets
            if self.is_gap(t.id)
            or (judged := self.judgements.get(t.id)) is None
            or judged["finding"] is not Finding.SATISFACTORY
        ]
        self.row["attempt"] += 1
        self.row["activity_end"] = None
        self.outcome = None
        self.batch.add(
            Reassessment,
            {
                "id": self.batch.ids.take(Reassessment),
                "enrolment_id": self.id,
                "attempt": self.row["attempt"],
                "plan": plan,
                "due_on": action.due_on,
                "criteria": criteria,
                "opened_at": action.at,
                "opened_by_id": self.assessor,
            },
        )
        self.transition(action.at, S.REASSESSMENT, self.assessor, Role.ASSESSOR)
        self.event(
            action.at,
            self.assessor,
            Role.ASSESSOR,
            "reassessment.opened",
            f"attempt:{self.row['attempt']}",
            after=rules.reassessment_payload(self.row["attempt"], plan, action.due_on, criteria),
        )

    def _close(self, at: datetime, kind: ClosureKind, closed_on: date, **fields: Any) -> int:
        """The closure row, the move to its state and its event, as ``closing._close``."""
        closure_id = self.batch.ids.take(Closure)
        row = {
            "id": closure_id,
            "enrolment_id": self.id,
            "kind": kind,
            "closed_on": closed_on,
            "closed_by_id": None,
            "recorded_at": at,
            "issuing_rto": None,
            "document_number": None,
            "document_date": None,
            **fields,
        }
        self.batch.add(Closure, row)
        self.row["activity_end"] = closed_on
        self.transition(at, kind.state, None, None, reason=row["reason"] or None)
        return closure_id

    def withdraw(self, action: Withdraw) -> None:
        """``closing.withdraw``, by the operator."""
        check_state(Action.WITHDRAW, self)
        local = action.at.astimezone(self.batch.timezone).date()
        reason = closing_rules.withdrawal_reason(action.reason, outcome=self.outcome)
        ended = closing_rules.closed_on(
            action.closed_on, activity_start=self.row["activity_start"], today=local
        )
        kind = ClosureKind.WITHDRAWN
        self._close(action.at, kind, ended, reason=reason)
        self.event(
            action.at,
            None,
            None,
            "enrolment.withdrawn",
            f"enrolment:{self.id}",
            after=closing_rules.closure_payload(kind, ended, reason),
        )

    def credit_transfer(self, action: CreditTransfer) -> None:
        """``closing.credit_transfer``, by the operator, with the verified transcript."""
        check_state(Action.CREDIT_TRANSFER, self)
        local = action.at.astimezone(self.batch.timezone).date()
        document = closing_rules.credit_document(
            CreditDocument(action.issuing_rto, action.document_number, action.document_date),
            files=1,
            today=local,
        )
        ended = closing_rules.closed_on(
            action.closed_on, activity_start=self.row["activity_start"], today=local
        )
        kind = ClosureKind.CREDIT_TRANSFER
        closure_id = self._close(
            action.at,
            kind,
            ended,
            reason="",
            issuing_rto=document.issuing_rto,
            document_number=document.document_number,
            document_date=document.document_date,
        )
        stored = self.batch.file(
            ClosureFile,
            action.file,
            closure_id=closure_id,
            uploaded_at=action.at,
            uploaded_by_id=None,
        )
        self.event(
            action.at,
            None,
            None,
            "enrolment.credit_transfer",
            f"enrolment:{self.id}",
            after=closing_rules.closure_payload(
                kind, ended, "", document, [(stored["display_name"], stored["sha256"])]
            ),
        )


def _version_view(version: dict[str, Any], files: list[dict[str, Any]]) -> SimpleNamespace:
    """A version row as ``version_snapshot`` reads a version."""
    return SimpleNamespace(
        **version, files=[SimpleNamespace(display_name=f["display_name"]) for f in files]
    )
