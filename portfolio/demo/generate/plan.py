"""What happens to each generated learner, written down as the actions people take.

A plan is the sequence of service calls a learner and their assessor would make for one
enrolment (add an item, map it, submit, check, decide, judge, sign off, return, record the
outcome), with the moment each one happens. ``bulk`` writes plans straight into the tables;
``replay`` makes the same calls through the services, which is how the tests show the two
give the same result.
"""

from __future__ import annotations

import enum
import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.demo.generate import content as text
from portfolio.demo.generate.content import FileSpec
from portfolio.models import (
    EvidenceRule,
    EvidenceType,
    Finding,
    GapMethod,
    OutcomeResult,
    Target,
    Unit,
)
from portfolio.text import day
from portfolio.units.services import get_release

# --- Units as the planner needs them -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetInfo:
    id: int
    ref: str
    position: int
    text: str


@dataclass(frozen=True)
class UnitInfo:
    """The newest release of a unit with the targets evidence is mapped to, in page order."""

    code: str
    release_id: int
    release: int
    targets: tuple[TargetInfo, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {t.id: t for t in self.targets})

    by_id: dict[int, TargetInfo] = field(init=False, repr=False, compare=False)


def load_units(session: Session, codes: Sequence[str] | None) -> list[UnitInfo]:
    """The units to enrol in (all loaded units when ``codes`` is None), by code."""
    if codes is None:
        codes = list(session.scalars(select(Unit.code).order_by(Unit.code)))
    units = []
    for code in codes:
        release = get_release(session, code)
        if release is None:
            raise LookupError(code)
        targets = tuple(
            TargetInfo(t.id, t.ref, t.position, t.text)
            for t in sorted(release.targets, key=lambda t: t.position)
            if t.judged_alone
        )
        units.append(UnitInfo(release.unit.code, release.id, release.release, targets))
    return units


def targets_of(session: Session, unit: UnitInfo) -> dict[int, Target]:
    return {t.id: t for t in session.scalars(select(Target).where(Target.id.in_(unit.by_id)))}


# --- Actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateItem:
    at: datetime
    number: int
    title: str
    evidence_type: EvidenceType
    work_date: date
    description: str
    files: tuple[FileSpec, ...]


@dataclass(frozen=True, slots=True)
class MapItem:
    """The item's current version maps to exactly these targets (a submitted one is copied
    to a new version first)."""

    at: datetime
    number: int
    notes: tuple[tuple[int, str], ...]  # (target id, how it shows it), in page order


@dataclass(frozen=True, slots=True)
class Submit:
    at: datetime


@dataclass(frozen=True, slots=True)
class StartReview:
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckItem:
    """A rule of evidence for the item's latest submitted version."""

    at: datetime
    number: int
    rule: EvidenceRule
    confirmed: bool
    note: str


@dataclass(frozen=True, slots=True)
class OverrideFlag:
    """The assessor goes past a flagged rule of the item's latest submitted version."""

    at: datetime
    number: int
    rule: EvidenceRule
    reason: str


@dataclass(frozen=True, slots=True)
class DecideMapping:
    """Accept or reject the learner's mapping of the item's latest submitted version."""

    at: datetime
    number: int
    target_id: int
    accepted: bool
    note: str


@dataclass(frozen=True, slots=True)
class Judge:
    at: datetime
    target_id: int
    finding: Finding
    comment: str


@dataclass(frozen=True, slots=True)
class SignOff:
    at: datetime
    target_id: int
    method: GapMethod
    held_on: date
    notes: str
    questions: tuple[tuple[str, str], ...]
    files: tuple[FileSpec, ...]


@dataclass(frozen=True, slots=True)
class ReturnToLearner:
    at: datetime
    feedback: tuple[tuple[int, str], ...]
    overall: str


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    at: datetime
    result: OutcomeResult


@dataclass(frozen=True, slots=True)
class OpenReassessment:
    """After Not yet competent: the assessor opens the next attempt with a plan."""

    at: datetime
    plan: str
    due_on: date


@dataclass(frozen=True, slots=True)
class Withdraw:
    """The operator records that the learner withdrew."""

    at: datetime
    closed_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """The operator records a credit transfer on a verified transcript."""

    at: datetime
    closed_on: date
    issuing_rto: str
    document_number: str
    document_date: date
    file: FileSpec


Action = (
    CreateItem
    | MapItem
    | Submit
    | StartReview
    | CheckItem
    | OverrideFlag
    | DecideMapping
    | Judge
    | SignOff
    | ReturnToLearner
    | RecordOutcome
    | OpenReassessment
    | Withdraw
    | CreditTransfer
)


# --- Plans ----------------------------------------------------------------------------------


class Stage(enum.StrEnum):
    """Where a generated enrolment ends up."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in review"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    COMPETENT = "competent"
    COMPETENT_ROUND_2 = "competent in round 2"
    NOT_YET_COMPETENT = "not yet competent"
    REASSESSMENT = "reassessment"
    COMPETENT_ATTEMPT_2 = "competent in attempt 2"
    RPL_GRANTED = "RPL granted"
    RPL_NOT_GRANTED = "RPL not granted"
    WITHDRAWN = "withdrawn"
    CREDIT_TRANSFER = "credit transfer"


#: Twenty enrolments in a row hold every stage in these numbers, in an order shuffled by the
#: seed; so even a small cohort has one of each, and a large one has them in proportion.
STAGE_DECK: tuple[Stage, ...] = (
    *[Stage.DRAFT] * 2,
    *[Stage.SUBMITTED] * 2,
    *[Stage.IN_REVIEW] * 2,
    *[Stage.RETURNED] * 2,
    *[Stage.RESUBMITTED] * 2,
    *[Stage.COMPETENT] * 2,
    Stage.COMPETENT_ROUND_2,
    Stage.NOT_YET_COMPETENT,
    Stage.REASSESSMENT,
    Stage.COMPETENT_ATTEMPT_2,
    Stage.RPL_GRANTED,
    Stage.RPL_NOT_GRANTED,
    Stage.WITHDRAWN,
    Stage.CREDIT_TRANSFER,
)
#: Stages whose portfolio waits for its assessor (the review queue).
QUEUED = {Stage.SUBMITTED, Stage.IN_REVIEW, Stage.RESUBMITTED}
DECIDED = {
    Stage.COMPETENT,
    Stage.COMPETENT_ROUND_2,
    Stage.NOT_YET_COMPETENT,
    Stage.COMPETENT_ATTEMPT_2,
    Stage.RPL_GRANTED,
    Stage.RPL_NOT_GRANTED,
}
EDITABLE = {Stage.DRAFT, Stage.RETURNED, Stage.REASSESSMENT}


@dataclass
class EnrolmentPlan:
    unit: UnitInfo
    assessor: int  # index into the run's assessors
    stage: Stage
    at: datetime  # enrolled
    actions: list[Action] = field(default_factory=list)

    @property
    def is_rpl(self) -> bool:
        return self.stage in (Stage.RPL_GRANTED, Stage.RPL_NOT_GRANTED)


@dataclass
class LearnerPlan:
    number: int
    name: str
    email: str
    student_id: str
    usi: str
    at: datetime  # account created
    enrolments: list[EnrolmentPlan]


@dataclass
class AssessorPlan:
    number: int
    name: str
    email: str


DOMAIN = "generated.example.org"


def learner_email(number: int) -> str:
    return f"learner{number:05d}@{DOMAIN}"


def assessor_email(number: int) -> str:
    return f"assessor{number:03d}@{DOMAIN}"


EMAIL_NUMBER = re.compile(rf"^(learner|assessor)(\d+)@{re.escape(DOMAIN)}$")


# --- The planner ----------------------------------------------------------------------------


class _Clock:
    """Moments in one enrolment's history, always later than the one before."""

    def __init__(self, start: datetime, span: timedelta, rng: random.Random) -> None:
        self.start, self.span, self.rng = start, span, rng
        self.now = start

    def day(self, fraction: float) -> None:
        """Move on to ``fraction`` of the way through the enrolment's span, in office hours."""
        then = self.start + self.span * fraction
        if then > self.now:
            self.now = then

    def step(self, low: float = 20, high: float = 120) -> datetime:
        self.now += timedelta(seconds=self.rng.uniform(low, high))
        return self.now


@dataclass
class _Item:
    number: int
    version: int
    work_date: date
    title: str
    kind: EvidenceType
    notes: dict[int, str]
    frozen: bool = False


@dataclass
class _Portfolio:
    """What the planner has made so far: enough to know gaps, as the review page would."""

    unit: UnitInfo
    items: dict[int, _Item] = field(default_factory=dict)
    submitted: dict[int, tuple[int, dict[int, str]]] = field(default_factory=dict)
    decisions: dict[tuple[int, int, int], bool] = field(default_factory=dict)
    checked: set[tuple[int, int]] = field(default_factory=set)
    judgements: dict[int, Finding] = field(default_factory=dict)
    signed_off: set[int] = field(default_factory=set)

    def submit(self) -> None:
        for item in self.items.values():
            if not item.frozen:
                item.frozen = True
                self.submitted[item.number] = (item.version, dict(item.notes))

    def pending(self, target_id: int) -> list[int]:
        """Items whose submitted version the learner mapped here and nobody decided on."""
        return [
            number
            for number, (version, notes) in sorted(self.submitted.items())
            if target_id in notes and (number, version, target_id) not in self.decisions
        ]

    def accepted(self, target_id: int) -> bool:
        return any(
            self.decisions.get((number, version, target_id))
            for number, (version, _) in self.submitted.items()
        )

    def is_gap(self, target_id: int) -> bool:
        return not self.accepted(target_id) and target_id not in self.signed_off


class Planner:
    """Plans learners one at a time: everything about learner ``n`` follows from the seed."""

    def __init__(
        self,
        *,
        seed: int,
        units: Sequence[UnitInfo],
        items: int,
        assessors: int,
        timezone: ZoneInfo,
        units_per_learner: int = 3,
    ) -> None:
        self.seed = seed
        self.units = list(units)
        self.items = items
        self.assessors = assessors
        self.timezone = timezone
        self.per_learner = min(units_per_learner, len(self.units))

    def stage(self, index: int) -> Stage:
        """The stage of the run's ``index``-th enrolment, from a deck shuffled per twenty."""
        cycle, position = divmod(index, len(STAGE_DECK))
        deck = list(STAGE_DECK)
        random.Random(f"{self.seed}/deck/{cycle}").shuffle(deck)
        return deck[position]

    def assessor(self, number: int) -> AssessorPlan:
        rng = random.Random(f"{self.seed}/assessor/{number}")
        return AssessorPlan(number, text.person_name(rng), assessor_email(number))

    def learner(
        self,
        number: int,
        *,
        index: int,
        start: datetime,
        span: timedelta,
        stages: Sequence[Stage] | None = None,
        units: Sequence[UnitInfo] | None = None,
    ) -> LearnerPlan:
        """Learner ``number``, whose first enrolment is the run's ``index``-th, active from
        ``start`` for ``span``; ``stages`` and ``units`` fix where the enrolments end up."""
        rng = random.Random(f"{self.seed}/learner/{number}")
        name = text.person_name(rng)
        chosen = rng.sample(self.units, self.per_learner)
        units = list(units) if units is not None else chosen
        stages = list(stages or [self.stage(index + k) for k in range(len(units))])
        plan = LearnerPlan(
            number=number,
            name=name,
            email=learner_email(number),
            student_id=f"G{number:06d}",
            usi=text.usi(rng),
            at=start,
            enrolments=[],
        )
        for k, (unit, stage) in enumerate(zip(units, stages, strict=False)):
            enrolled = start + timedelta(minutes=5 + k, seconds=rng.uniform(0, 50))
            clock = _Clock(enrolled, start + span - enrolled, rng)
            enrolment = EnrolmentPlan(unit, rng.randrange(self.assessors), stage, enrolled)
            _Writer(self, rng, plan, enrolment, clock).write()
            plan.enrolments.append(enrolment)
        return plan


class _Writer:
    """Writes one enrolment's actions, keeping the portfolio state that decides the next."""

    def __init__(
        self,
        planner: Planner,
        rng: random.Random,
        learner: LearnerPlan,
        plan: EnrolmentPlan,
        clock: _Clock,
    ) -> None:
        self.planner, self.rng, self.learner, self.plan, self.clock = (
            planner,
            rng,
            learner,
            plan,
            clock,
        )
        self.unit = plan.unit
        self.p = _Portfolio(plan.unit)
        self.site = rng.choice(text.SITES)
        self.add = plan.actions.append

    # -- helpers ----------------------------------------------------------------------------

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.planner.timezone).date()

    def targets(self) -> list[TargetInfo]:
        return list(self.unit.targets)

    def file(self, kind: str, name: str, what: str) -> FileSpec:
        seed = self.rng.getrandbits(60)
        label = f"{what} - {self.learner.name} ({self.learner.student_id}), {self.unit.code}"
        return FileSpec(f"{name}.{kind}", kind, label, seed)

    # -- the learner --------------------------------------------------------------------------

    def new_item(self, targets: Iterator[TargetInfo], *, mapped: bool = True) -> _Item:
        rng, at = self.rng, self.clock.step(60, 900)
        number = len(self.p.items) + 1
        kinds = list(text.TYPE_WEIGHTS)
        kind = rng.choices(kinds, weights=[text.TYPE_WEIGHTS[k] for k in kinds])[0]
        made = self.local_date(at)
        if rng.random() < 0.05:  # old work: the review flags it as possibly not current
            work_date = made - timedelta(days=rng.randint(760, 1000))
        else:
            work_date = made - timedelta(days=rng.randint(0, 60))
        period = f"{text.MONTH_NAMES[work_date.month - 1]} {work_date.year}"
        title = rng.choice(text.TITLES[kind]).format(period=period, site=self.site)
        what, what_past = rng.choice(text.WORK)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        files: list[FileSpec] = []
        if kind is EvidenceType.WRITTEN_ANSWER:
            description = "\n\n".join(
                a.format(site=self.site) for a in rng.sample(text.ANSWERS, rng.randint(1, 3))
            )
        else:
            description = rng.choice(text.DESCRIPTIONS).format(
                site=self.site, what=what, what_past=what_past
            )
            if rng.random() < 0.2:
                description = ""
            if kind is EvidenceType.PHOTO:
                files = [self.file("png", f"{slug}-{n}", title) for n in range(rng.randint(1, 2))]
            else:
                files = [self.file(rng.choice(("pdf", "pdf", "docx")), slug, title)]
                if rng.random() < 0.15:
                    files.append(self.file("pdf", f"{slug}-appendix", f"Appendix: {title}"))
        self.add(CreateItem(at, number, title, kind, work_date, description, tuple(files)))
        item = _Item(number, 1, work_date, title, kind, {})
        self.p.items[number] = item
        if mapped:
            chosen: dict[int, TargetInfo] = {}
            for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
                target = next(targets)
                chosen[target.id] = target
            self.map(item, sorted(chosen.values(), key=lambda t: t.position))
        return item

    def map(self, item: _Item, targets: Sequence[TargetInfo]) -> None:
        notes = {}
        for target in targets:
            note = item.notes.get(target.id)
            if note is None:
                note = self.rng.choice(text.NOTES).format(
                    title=item.title,
                    topic=target.text[:60].rstrip().lower(),
                    what_past=self.rng.choice(text.WORK)[1],
                    kind=item.kind.label.lower(),
                    ref=target.ref,
                    site=self.site,
                )
            notes[target.id] = note
        if item.frozen:
            item.version += 1
            item.frozen = False
        item.notes = notes
        self.add(MapItem(self.clock.step(20, 180), item.number, tuple(notes.items())))

    def first_round(self, count: int, *, draft: bool) -> None:
        targets = self.targets()
        missed = set(self.rng.sample(range(len(targets)), round(len(targets) * 0.12)))
        pool = [t for i, t in enumerate(targets) if i not in missed] or targets
        self.rng.shuffle(pool)
        cycle = itertools.cycle(pool)
        for n in range(count):
            self.clock.day(0.02 + 0.4 * n / count)
            last = n == count - 1
            self.new_item(cycle, mapped=not (draft and last and self.rng.random() < 0.5))

    def submit(self, fraction: float) -> None:
        self.clock.day(fraction)
        self.add(Submit(self.clock.step(60, 600)))
        self.p.submit()

    # -- the assessor -------------------------------------------------------------------------

    def start_review(self, fraction: float) -> None:
        self.clock.day(fraction)
        self.add(StartReview(self.clock.step(600, 3600)))

    def check(self, numbers: Sequence[int]) -> None:
        for number in numbers:
            version, _ = self.p.submitted[number]
            if (number, version) in self.p.checked:
                continue
            self.p.checked.add((number, version))
            item = self.p.items[number]
            for rule in EvidenceRule:
                confirmed, note = True, ""
                if rule is EvidenceRule.CURRENT and item.work_date < self.old_before():
                    confirmed = False
                    note = text.OLD_WORK.format(date=day(item.work_date))
                self.add(CheckItem(self.clock.step(5, 40), number, rule, confirmed, note))
                if not confirmed:
                    # Older work still shows how the learner works today: said, and kept.
                    reason = self.rng.choice(text.OVERRIDES)
                    self.add(OverrideFlag(self.clock.step(5, 40), number, rule, reason))

    def old_before(self) -> date:
        # As the review page reckons it: two years before the latest submission's date.
        submitted = next(a for a in reversed(self.plan.actions) if isinstance(a, Submit))
        return submitted.at.date() - timedelta(days=365 * 2)

    def decide(self, targets: Sequence[TargetInfo], reject: float) -> None:
        for target in targets:
            for number in self.p.pending(target.id):
                version, _ = self.p.submitted[number]
                accepted = self.rng.random() >= reject
                note = "" if accepted else self.rng.choice(text.REJECTIONS)
                self.add(DecideMapping(self.clock.step(5, 40), number, target.id, accepted, note))
                self.p.decisions[(number, version, target.id)] = accepted

    def sign_off_gaps(self) -> None:
        rng = self.rng
        for target in self.targets():
            if not self.p.is_gap(target.id):
                continue
            method = rng.choice(list(text.SIGNOFF_NOTES))
            at = self.clock.step(120, 900)
            held_on = self.local_date(at) - timedelta(days=rng.randint(0, 6))
            notes = rng.choice(text.SIGNOFF_NOTES[method]).format(site=self.site)
            questions: tuple[tuple[str, str], ...] = ()
            if method is GapMethod.COMPETENCY_CONVERSATION:
                asked = text.QUESTIONS[: rng.randint(1, len(text.QUESTIONS))]
                questions = tuple(
                    (q.format(text=target.text[:120], site=self.site), a.format(site=self.site))
                    for q, a in asked
                )
                if rng.random() < 0.5:
                    notes = ""
            files: tuple[FileSpec, ...] = ()
            if method is GapMethod.FURTHER_EVIDENCE and rng.random() < 0.5:
                files = (self.file("pdf", f"further-evidence-{target.ref}", "Further evidence"),)
            self.add(SignOff(at, target.id, method, held_on, notes, questions, files))
            self.p.signed_off.add(target.id)

    def judge(self, target: TargetInfo, finding: Finding) -> None:
        comment = ""
        if finding is Finding.NOT_YET_SATISFACTORY:
            comment = self.rng.choice(text.NOT_YET)
        elif self.rng.random() < 0.15:
            comment = "Well evidenced."
        self.add(Judge(self.clock.step(10, 90), target.id, finding, comment))
        self.p.judgements[target.id] = finding

    def judge_all(self, not_yet: set[int]) -> None:
        for target in self.targets():
            if target.id in not_yet or self.p.is_gap(target.id):
                finding = Finding.NOT_YET_SATISFACTORY
            else:
                finding = Finding.SATISFACTORY
            if self.p.judgements.get(target.id) is not finding:
                self.judge(target, finding)

    def full_review(self, reject: float) -> None:
        self.check(sorted(self.p.submitted))
        self.decide(self.targets(), reject)

    def weak_spots(self) -> set[int]:
        """Gaps; or, in a portfolio with none, one or two criteria the evidence shows weakly."""
        gaps = {t.id for t in self.targets() if self.p.is_gap(t.id)}
        if gaps:
            return gaps
        targets = self.targets()
        return {t.id for t in self.rng.sample(targets, min(len(targets), self.rng.randint(1, 2)))}

    def outcome(self, result: OutcomeResult) -> None:
        self.add(RecordOutcome(self.clock.step(60, 600), result))

    # -- the story of each stage ----------------------------------------------------------------

    def reassess(self, fraction: float) -> None:
        self.clock.day(fraction)
        at = self.clock.step(600, 3600)
        # Due a few weeks after the cohort's history ends (now, for a run): still ahead of the
        # learner, as a real plan's date is when it is made.
        end = self.clock.start + self.clock.span
        due = self.local_date(end) + timedelta(days=self.rng.choice((14, 21, 28)))
        self.add(OpenReassessment(at, self.rng.choice(text.REASSESSMENT_PLANS), due))

    def withdraw(self, fraction: float) -> None:
        self.clock.day(fraction)
        at = self.clock.step(600, 3600)
        self.add(Withdraw(at, self.local_date(at), self.rng.choice(text.WITHDRAWALS)))

    def credit_transfer(self, fraction: float) -> None:
        self.clock.day(fraction)
        at = self.clock.step(600, 3600)
        on = self.local_date(at)
        rto = self.rng.choice(text.OTHER_RTOS)
        number = f"T{self.rng.randint(10000, 99999)}"
        issued = on - timedelta(days=self.rng.randint(30, 900))
        transcript = self.file("pdf", f"transcript-{number}", f"Transcript {number}, {rto}")
        self.add(CreditTransfer(at, on, rto, number, issued, transcript))

    def write(self) -> None:
        stage, rng, items = self.plan.stage, self.rng, self.planner.items
        if stage is Stage.CREDIT_TRANSFER:
            self.credit_transfer(0.1)
            return
        started = stage in (Stage.DRAFT, Stage.WITHDRAWN)
        count = items if not started else rng.randint(max(1, -(-items // 3)), items)
        self.first_round(count, draft=started)
        if stage is Stage.DRAFT:
            return
        if stage is Stage.WITHDRAWN:
            self.withdraw(0.5)
            return
        self.submit(0.45)
        if stage is Stage.SUBMITTED:
            return
        self.start_review(rng.uniform(0.48, 0.6))
        if stage is Stage.IN_REVIEW:
            numbers = sorted(self.p.submitted)
            self.check(numbers[: -(-len(numbers) // 2)])
            targets = self.targets()
            looked_at = targets[: max(1, len(targets) * 3 // 5)]
            self.decide(looked_at, reject=0.05)
            for target in looked_at:
                if self.p.accepted(target.id) and rng.random() < 0.6:
                    self.judge(target, Finding.SATISFACTORY)
            return
        if stage in (Stage.COMPETENT, Stage.RPL_GRANTED):
            self.full_review(reject=0.03)
            self.sign_off_gaps()
            self.judge_all(set())
            result = OutcomeResult.RPL_GRANTED if self.plan.is_rpl else OutcomeResult.COMPETENT
            self.outcome(result)
            return
        if stage in (
            Stage.NOT_YET_COMPETENT,
            Stage.RPL_NOT_GRANTED,
            Stage.REASSESSMENT,
            Stage.COMPETENT_ATTEMPT_2,
        ):
            self.full_review(reject=0.12)
            weak = self.weak_spots()
            self.judge_all(weak)
            rpl = self.plan.is_rpl
            self.outcome(OutcomeResult.RPL_NOT_GRANTED if rpl else OutcomeResult.NOT_YET_COMPETENT)
            if stage in (Stage.NOT_YET_COMPETENT, Stage.RPL_NOT_GRANTED):
                return
            # Another attempt: new evidence for what was not yet shown, then (for some) Competent.
            self.reassess(0.66)
            wanted = sorted((self.unit.by_id[tid] for tid in weak), key=lambda t: t.position)
            for _ in range(rng.randint(1, 2)):
                self.clock.day(0.7 + rng.uniform(0, 0.05))
                self.new_item(itertools.cycle(wanted))
            if stage is Stage.REASSESSMENT:
                return
            self.submit(0.8)
            self.start_review(rng.uniform(0.84, 0.88))
            self.full_review(reject=0.0)
            self.sign_off_gaps()
            self.judge_all(set())
            self.outcome(OutcomeResult.COMPETENT)
            return
        # Returned with feedback, then (for the rest) a second round.
        self.full_review(reject=0.12)
        weak = self.weak_spots()
        self.judge_all(weak)
        by_ref = sorted(weak, key=lambda tid: self.unit.by_id[tid].position)
        feedback = tuple((tid, rng.choice(text.FEEDBACK)) for tid in by_ref)
        self.add(ReturnToLearner(self.clock.step(60, 600), feedback, rng.choice(text.OVERALL)))
        wanted = [self.unit.by_id[tid] for tid in by_ref]
        self.clock.day(0.62)
        if stage is Stage.RETURNED:
            if rng.random() < 0.5:  # the learner has begun on the feedback
                self.new_item(itertools.cycle(wanted))
            return
        for _ in range(rng.randint(1, 2)):
            self.clock.day(0.62 + rng.uniform(0, 0.1))
            self.new_item(itertools.cycle(wanted))
        mapped = [item for item in self.p.items.values() if item.frozen and item.notes]
        if mapped:
            item = rng.choice(mapped)
            extra = [self.unit.by_id[tid] for tid in item.notes] + [rng.choice(wanted)]
            unique = {t.id: t for t in extra}.values()
            self.map(item, sorted(unique, key=lambda t: t.position))
        self.submit(0.76)
        if stage is Stage.RESUBMITTED:
            return
        self.start_review(rng.uniform(0.8, 0.86))
        self.full_review(reject=0.0)
        self.sign_off_gaps()
        self.judge_all(set())
        self.outcome(OutcomeResult.COMPETENT)
