"""Running a validation: the RTO's risk reasons, each unit's plan, the draw, validators'
findings and tool review, actions and completion. Each change writes its audit event in the
caller's transaction; the pure rules are in ``rules``."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, selectinload

from portfolio.audit.log import record
from portfolio.auth.services import active_with_role
from portfolio.clock import local_date, today
from portfolio.credentials.rules import stands
from portfolio.errors import ServiceError
from portfolio.exports.register import decided_outcomes
from portfolio.models import (
    Credential,
    CredentialKind,
    Enrolment,
    EvidenceCheck,
    GapSignoff,
    Judgement,
    MappingDecision,
    Reassessment,
    RiskLevel,
    RiskReason,
    Role,
    Submission,
    Target,
    Unit,
    UnitOutcome,
    User,
    Validation,
    ValidationAction,
    ValidationFinding,
    ValidationPlan,
    ValidationSample,
    ValidationValidator,
    VerificationRequest,
)
from portfolio.models.base import utcnow
from portfolio.validation import rules
from portfolio.validation.rules import Candidate


def _subject(validation: Validation) -> str:
    return f"validation:{validation.id}"


# -- The RTO's risk reasons ---------------------------------------------------------------------


def risk_reasons(session: Session, *, retired: bool = False) -> list[RiskReason]:
    query = select(RiskReason).order_by(RiskReason.label)
    if not retired:
        query = query.where(RiskReason.retired_at.is_(None))
    return list(session.scalars(query))


def add_reason(session: Session, *, actor: User, label: str) -> RiskReason:
    label = " ".join(label.split())
    if not label:
        raise ServiceError("Say what the reason is.", "label")
    if len(label) > 200:
        raise ServiceError("Keep the reason under 200 characters.", "label")
    known = session.scalar(select(RiskReason).where(RiskReason.label == label))
    if known is not None and known.retired_at is None:
        raise ServiceError(f"{label!r} is already on the list.", "label")
    if known is not None:
        known.retired_at = None
        reason = known
    else:
        reason = RiskReason(label=label)
        session.add(reason)
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="validation.reason-added",
        subject="validation-reasons",
        after={"label": label},
    )
    return reason


def add_usual_reasons(session: Session, *, actor: User) -> list[RiskReason]:
    """The usual reasons (``rules.DEFAULT_REASONS``) not on the list yet, added."""
    known = {r.label for r in risk_reasons(session, retired=True)}
    return [
        add_reason(session, actor=actor, label=label)
        for label in rules.DEFAULT_REASONS
        if label not in known
    ]


def retire_reason(session: Session, *, actor: User, reason: RiskReason) -> None:
    """No longer offered; plans that chose it keep its words."""
    if reason.retired_at is not None:
        raise ServiceError(f"{reason.label!r} is already off the list.")
    reason.retired_at = utcnow()
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="validation.reason-retired",
        subject="validation-reasons",
        before={"label": reason.label},
    )


# -- Plans --------------------------------------------------------------------------------------


@dataclass
class PlanRow:
    """A unit with its plan (if any), when it was last validated and when it is next due."""

    unit: Unit
    plan: ValidationPlan | None
    last_completed: date | None
    open: list[Validation]

    @property
    def next_due(self) -> date | None:
        if self.plan is None:
            return None
        return rules.next_due(self.plan.risk, self.last_completed)

    @property
    def overdue(self) -> bool:
        due = self.next_due
        return self.plan is not None and (due is None or due <= today())


def plans(session: Session) -> list[PlanRow]:
    """Every unit with its plan and validations (a fixed number of queries)."""
    units = session.scalars(
        select(Unit).options(selectinload(Unit.releases)).order_by(Unit.code)
    ).all()
    by_unit = {
        p.unit_id: p
        for p in session.scalars(
            select(ValidationPlan).options(
                selectinload(ValidationPlan.validations), selectinload(ValidationPlan.updated_by)
            )
        )
    }
    rows = []
    for unit in units:
        plan = by_unit.get(unit.id)
        done = [v for v in plan.validations if v.completed_at] if plan else []
        rows.append(
            PlanRow(
                unit,
                plan,
                max((local_date(v.completed_at) for v in done), default=None),  # type: ignore[arg-type]
                [v for v in plan.validations if not v.completed_at] if plan else [],
            )
        )
    return rows


def plan_of(session: Session, unit: Unit) -> ValidationPlan | None:
    return session.scalar(select(ValidationPlan).where(ValidationPlan.unit_id == unit.id))


def save_plan(
    session: Session,
    *,
    actor: User,
    unit: Unit,
    risk: str | None,
    reasons: Iterable[str],
    notes: str,
) -> ValidationPlan:
    """Rate a unit's validation risk, with the reasons; kept as a new state of its one plan."""
    kept = rules.checked_plan(risk, reasons, [r.label for r in risk_reasons(session)])
    plan = plan_of(session, unit)
    before = None
    if plan is None:
        plan = ValidationPlan(unit_id=unit.id)
        session.add(plan)
    else:
        before = {"risk": plan.risk, "reasons": plan.reasons, "notes": plan.notes}
    plan.risk = RiskLevel(risk)
    plan.reasons = kept
    plan.notes = notes.strip()
    plan.updated_at = utcnow()
    plan.updated_by_id = actor.id
    level = RiskLevel(risk)
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="validation.plan-saved",
        subject=f"unit:{unit.code}",
        before=before,
        after={
            "risk": level,
            "reasons": kept,
            "notes": plan.notes,
            "frequency": rules.frequency(level),
            "sample": str(rules.SIZE_RULES[level]),
        },
    )
    return plan


# -- The draw -----------------------------------------------------------------------------------


def population(
    session: Session, unit: Unit, decided_from: date, decided_to: date
) -> list[Candidate]:
    """The enrolments of the unit decided in the period, as the outcomes register has them,
    but for an outcome made under direction still waiting for its countersignature."""
    return [
        Candidate(enrolment_id, assessor_id, result.value)
        for enrolment_id, assessor_id, result in decided_outcomes(
            session,
            unit_code=unit.code,
            decided_from=decided_from,
            decided_to=decided_to,
            countersigned=True,
        )
    ]


def assessed_by(session: Session, enrolment_ids: Iterable[int]) -> dict[int, set[int]]:
    """Everyone who took part in assessing each enrolment: its assigned assessor, and whoever
    checked or accepted its evidence, judged, signed off, decided or countersigned it, returned
    it, opened another attempt or checked a verifier of it (one query)."""
    ids = list(enrolment_ids)
    parts = [
        select(model.enrolment_id, model.assessor_id).where(model.enrolment_id.in_(ids))
        for model in (Judgement, GapSignoff, UnitOutcome, MappingDecision, EvidenceCheck)
    ]
    parts += [
        select(model.enrolment_id, model.countersigned_by_id).where(
            model.enrolment_id.in_(ids), model.countersigned_by_id.is_not(None)
        )
        for model in (Judgement, GapSignoff, UnitOutcome)
    ]
    parts += [
        select(model.enrolment_id, column).where(model.enrolment_id.in_(ids), column.is_not(None))
        for model, column in (
            (Submission, Submission.returned_by_id),
            (Reassessment, Reassessment.opened_by_id),
            (VerificationRequest, VerificationRequest.checked_by_id),
        )
    ]
    parts.append(
        select(Enrolment.id, Enrolment.assessor_id).where(
            Enrolment.id.in_(ids), Enrolment.assessor_id.is_not(None)
        )
    )
    found: dict[int, set[int]] = {i: set() for i in ids}
    for enrolment_id, person in session.execute(union_all(*parts)):
        found[enrolment_id].add(person)
    return found


def holds_tae(session: Session, user_ids: Iterable[int]) -> dict[int, bool]:
    """Whether each person's register shows a training and assessment credential today."""
    ids = list(user_ids)
    on, now = today(), utcnow()
    held = dict.fromkeys(ids, False)
    for entry in session.scalars(
        select(Credential).where(
            Credential.user_id.in_(ids), Credential.kind == CredentialKind.TRAINING_AND_ASSESSMENT
        )
    ):
        held[entry.user_id] = held[entry.user_id] or stands(entry, on, now)
    return held


def possible_validators(session: Session) -> list[User]:
    """The active assessors, by name: the people a validation can name as validators."""
    return sorted(active_with_role(session, Role.ASSESSOR), key=lambda u: (u.name, u.id))


def _names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(list(ids)))).all())


def draw_sample(
    session: Session,
    *,
    actor: User,
    plan: ValidationPlan,
    decided_from: date | None,
    decided_to: date | None,
    size: int | None,
    validator_ids: Iterable[int],
    seed: str | None = None,
) -> Validation:
    """Draw the sample of decided enrolments for a validation of the plan's unit, naming its
    validators: at least one with a TAE credential, and one independent of each enrolment."""
    if decided_from is None or decided_to is None:
        raise ServiceError("Give the period the sample is drawn from.", "decided_from")
    # Made here, not chosen: nobody can look for a seed that leaves an enrolment out. It is
    # kept, so anyone can draw the same sample again.
    seed = seed or secrets.token_hex(8)
    chosen = list(dict.fromkeys(validator_ids))
    allowed = {u.id for u in possible_validators(session)}
    if any(v not in allowed for v in chosen):
        raise ServiceError("A validator must be an active assessor.", "validators")
    held = holds_tae(session, chosen)
    rules.checked_validators(held)
    twice = session.scalar(
        select(Validation.id).where(
            Validation.plan_id == plan.id,
            Validation.period_from == decided_from,
            Validation.period_to == decided_to,
        )
    )
    if twice is not None:  # a second click, or a second try at the same period's sample
        raise ServiceError(
            f"A sample of {plan.unit.code} for this period was drawn already: validation "
            f"{twice}. A period is sampled once; choose another period for a new validation.",
            "decided_from",
        )
    found = population(session, plan.unit, decided_from, decided_to)
    size = rules.checked_size(size, len(found))
    sample = rules.draw(found, seed, size)
    people = assessed_by(session, [c.enrolment_id for c in sample])
    left_out = rules.uncovered(chosen, people)
    if left_out:
        names = _names(session, chosen)
        refs = ", ".join(f"enrolment {e}" for e in left_out[:5])
        who = " and ".join(names[v] for v in chosen)
        raise ServiceError(
            f"{who} assessed {refs} in the sample: a validator may not validate an enrolment "
            "they assessed. Add a validator who did not, then draw again (the same seed gives "
            "the same sample).",
            "validators",
        )
    validation = Validation(
        plan=plan,
        risk=plan.risk,
        reasons=list(plan.reasons),
        period_from=decided_from,
        period_to=decided_to,
        seed=seed,
        rule=_rule_text(plan.risk, len(found), size),
        population=[c.as_json() for c in found],
        drawn_by_id=actor.id,
        validators=[ValidationValidator(user_id=v, holds_tae=held[v]) for v in chosen],
        samples=[
            ValidationSample(enrolment_id=c.enrolment_id, position=i, stratum=c.stratum)
            for i, c in enumerate(sample, 1)
        ],
    )
    session.add(validation)
    session.flush()
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="validation.drawn",
        subject=_subject(validation),
        after={
            "unit": plan.unit.code,
            "period": [decided_from, decided_to],
            "risk": plan.risk,
            "seed": seed,
            "rule": validation.rule,
            "population": len(found),
            "sample": [c.enrolment_id for c in sample],
            "validators": [{"user": v, "holds_tae": held[v]} for v in chosen],
        },
    )
    return validation


def _rule_text(risk: RiskLevel, population: int, size: int) -> str:
    rule = rules.SIZE_RULES[risk]
    text = f"{risk.label} risk: {rule.describe(population)}."
    if size != rule.size(population):
        text += f" {size} drawn, as chosen when drawing."
    return text


def redraw(validation: Validation) -> list[int]:
    """The sample drawn again from the kept seed and population: the same enrolments, in the
    same order, unless the record was changed."""
    found = [Candidate.from_json(row) for row in validation.population]
    return [c.enrolment_id for c in rules.draw(found, validation.seed, len(validation.samples))]


# -- Validators' work ---------------------------------------------------------------------------


def is_validator(validation: Validation, user: User) -> bool:
    return any(v.user_id == user.id for v in validation.validators)


def validations_of(session: Session, user: User) -> list[Validation]:
    """The validations a person is a validator of, open ones first."""
    return list(
        session.scalars(
            select(Validation)
            .join(ValidationValidator)
            .where(ValidationValidator.user_id == user.id)
            .options(selectinload(Validation.plan).selectinload(ValidationPlan.unit))
            .order_by(Validation.completed_at.is_not(None), Validation.id.desc())
        )
    )


def _open(validation: Validation) -> None:
    if validation.completed_at is not None:
        raise ServiceError(
            f"This validation was completed on {local_date(validation.completed_at):%d/%m/%Y}: "
            "its findings stay as they were."
        )


def check_independent(session: Session, validator: User, sample: ValidationSample) -> None:
    people = assessed_by(session, [sample.enrolment_id])[sample.enrolment_id]
    if rules.conflicts([validator.id], {sample.enrolment_id: people}):
        raise ServiceError(
            "You took part in assessing this enrolment: a validator may not validate an "
            "enrolment they assessed. Another validator records the findings on it."
        )


def record_findings(
    session: Session,
    *,
    actor: User,
    sample: ValidationSample,
    targets: Iterable[tuple[int, str]],
    answers: Mapping[int, tuple[bool | None, str]],
) -> list[ValidationFinding]:
    """A validator's finding on every criterion of a sampled enrolment (``targets``: id and
    reference, in the unit's order); recording again replaces the earlier findings."""
    validation = sample.validation
    _open(validation)
    if not is_validator(validation, actor):
        raise ServiceError("Only a validator of this validation records findings.")
    check_independent(session, actor, sample)
    kept = {
        target_id: (
            answers.get(target_id, (None, ""))[0],
            rules.checked_finding(*answers.get(target_id, (None, "")), ref),
        )
        for target_id, ref in targets
    }
    before = {f.target_id: f for f in sample.findings}
    changed = []
    for target_id, (agrees, note) in kept.items():
        finding = before.get(target_id)
        if finding is None:
            finding = ValidationFinding(sample=sample, target_id=target_id)
            session.add(finding)
        finding.validator_id = actor.id
        finding.agrees = bool(agrees)
        finding.note = note
        finding.recorded_at = utcnow()
        changed.append(finding)
    refs = dict(targets)
    record(
        session,
        actor=actor,
        role=Role.ASSESSOR,
        action="validation.findings-recorded",
        subject=_subject(validation),
        # Not in the enrolment's history, which its learner reads: validation is the RTO's.
        before={"findings": len(before)} if before else None,
        after={
            "enrolment": sample.enrolment_id,
            "agree": sum(1 for a, _ in kept.values() if a),
            "disagree": {refs[t]: note for t, (a, note) in kept.items() if not a},
        },
    )
    return changed


def review_tool(
    session: Session,
    *,
    actor: User,
    validation: Validation,
    answers: Mapping[str, bool | None],
    note: str,
) -> None:
    """A validator's review of the assessment tool itself."""
    _open(validation)
    if not is_validator(validation, actor):
        raise ServiceError("Only a validator of this validation reviews the tool.")
    note = rules.tool_review(answers, note)
    validation.tool_consistent = answers["consistent"]
    validation.tool_sufficient = answers["sufficient"]
    validation.tool_valid = answers["valid"]
    validation.tool_note = note
    validation.tool_reviewed_by_id = actor.id
    validation.tool_reviewed_at = utcnow()
    record(
        session,
        actor=actor,
        role=Role.ASSESSOR,
        action="validation.tool-reviewed",
        subject=_subject(validation),
        after={**answers, "note": note},
    )


def open_action(
    session: Session,
    *,
    actor: User,
    validation: Validation,
    what: str,
    owner: User | None,
    due_on: date | None,
) -> ValidationAction:
    """A finding turned into an action: what is to change, who owns it, by when."""
    what = rules.checked_action(what, due_on, today())
    if owner is None or not owner.active:
        raise ServiceError("Choose who owns the action.", "owner")
    if any(a.what == what and a.closed_at is None for a in validation.actions):
        raise ServiceError("That action is open already.", "what")
    action = ValidationAction(
        validation=validation,
        what=what,
        owner_id=owner.id,
        due_on=due_on,
        opened_by_id=actor.id,
    )
    session.add(action)
    session.flush()
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="validation.action-opened",
        subject=_subject(validation),
        after={"action": action.id, "what": what, "owner": owner.name, "due_on": due_on},
    )
    return action


def close_action(session: Session, *, actor: User, action: ValidationAction, changed: str) -> None:
    """Closed with what was changed."""
    if action.closed_at is not None:
        raise ServiceError("That action is already closed.")
    if not actor.has_role(Role.ADMIN) and actor.id != action.owner_id:
        raise ServiceError("Only the action's owner or an admin closes it.")
    changed = changed.strip()
    if not changed:
        raise ServiceError("Say what was changed; the validation report shows it.", "changed")
    action.closed_at = utcnow()
    action.closed_by_id = actor.id
    action.changed = changed
    record(
        session,
        actor=actor,
        role=Role.ADMIN if actor.has_role(Role.ADMIN) else Role.ASSESSOR,
        action="validation.action-closed",
        subject=_subject(action.validation),
        after={"action": action.id, "changed": changed},
    )


def missing_for_completion(validation: Validation, targets: Mapping[int, int]) -> list[str]:
    """What still stands between the validation and its completion, in words
    (``targets``: how many criteria each sampled enrolment's unit release has)."""
    missing = []
    for sample in validation.samples:
        if len(sample.findings) < targets[sample.enrolment_id]:
            missing.append(f"findings on enrolment {sample.enrolment_id}")
    if validation.tool_reviewed_at is None:
        missing.append("the review of the assessment tool")
    return missing


def complete(
    session: Session, *, actor: User, validation: Validation, targets: Mapping[int, int]
) -> None:
    """Completed once every sampled enrolment has its findings and the tool its review."""
    _open(validation)
    missing = missing_for_completion(validation, targets)
    if missing:
        raise ServiceError("Not yet complete: still to record " + "; ".join(missing) + ".")
    validation.completed_at = utcnow()
    validation.completed_by_id = actor.id
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="validation.completed",
        subject=_subject(validation),
        after={
            "samples": len(validation.samples),
            "disagreements": sum(1 for s in validation.samples for f in s.findings if not f.agrees),
            "actions": len(validation.actions),
        },
    )


def criteria_counts(session: Session, validation: Validation) -> dict[int, int]:
    """How many criteria each sampled enrolment is judged on (one query)."""
    rows = session.execute(
        select(ValidationSample.enrolment_id, Target.id)
        .join(Enrolment, Enrolment.id == ValidationSample.enrolment_id)
        .join(Target, Target.unit_release_id == Enrolment.unit_release_id)
        .where(ValidationSample.validation_id == validation.id, Target.judged_alone)
    )
    counts: dict[int, int] = defaultdict(int)
    for enrolment_id, _ in rows:
        counts[enrolment_id] += 1
    return counts
