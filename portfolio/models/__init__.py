"""Typed SQLAlchemy models, one module per area of the domain."""

from portfolio.models.accounts import AccountLink, LinkPurpose, NotifyMode, Role, User, UserRole
from portfolio.models.assessment import (
    AssessmentState,
    Closure,
    ClosureFile,
    ClosureKind,
    Enrolment,
    Reassessment,
    Submission,
)
from portfolio.models.audit import AuditEvent, AuditHead
from portfolio.models.cohorts import Cohort, CohortMember
from portfolio.models.credentials import (
    Credential,
    CredentialBasis,
    CredentialFile,
    CredentialKind,
)
from portfolio.models.evidence import (
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceType,
    EvidenceVersion,
    PendingUpload,
)
from portfolio.models.jobs import Job, JobState
from portfolio.models.mail import Mail, MailState
from portfolio.models.retention import LegalHold
from portfolio.models.review import (
    EvidenceCheck,
    EvidenceRule,
    Finding,
    GapFeedback,
    GapMethod,
    GapSignoff,
    Judgement,
    MappingDecision,
    MappingSource,
    OutcomeResult,
    SignoffFile,
    UnitOutcome,
)
from portfolio.models.templates import AssessmentTemplate, TemplateItem, TemplateKind
from portfolio.models.units import Element, Framework, Target, TargetKind, Unit, UnitRelease
from portfolio.models.verification import (
    RequestKind,
    VerificationRequest,
    VerificationState,
    VerifierCheck,
)

__all__ = [
    "AccountLink",
    "AssessmentState",
    "AssessmentTemplate",
    "AuditEvent",
    "AuditHead",
    "Closure",
    "ClosureFile",
    "ClosureKind",
    "Cohort",
    "CohortMember",
    "Credential",
    "CredentialBasis",
    "CredentialFile",
    "CredentialKind",
    "Element",
    "Enrolment",
    "EvidenceCheck",
    "EvidenceFile",
    "EvidenceItem",
    "EvidenceMapping",
    "EvidenceRule",
    "EvidenceType",
    "EvidenceVersion",
    "Finding",
    "Framework",
    "GapFeedback",
    "GapMethod",
    "GapSignoff",
    "Job",
    "JobState",
    "Judgement",
    "LegalHold",
    "LinkPurpose",
    "Mail",
    "MailState",
    "MappingDecision",
    "MappingSource",
    "NotifyMode",
    "OutcomeResult",
    "PendingUpload",
    "Reassessment",
    "RequestKind",
    "Role",
    "SignoffFile",
    "Submission",
    "Target",
    "TargetKind",
    "TemplateItem",
    "TemplateKind",
    "Unit",
    "UnitOutcome",
    "UnitRelease",
    "User",
    "UserRole",
    "VerificationRequest",
    "VerificationState",
    "VerifierCheck",
]
