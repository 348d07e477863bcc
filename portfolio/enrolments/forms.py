"""Forms for enrolling learners and assigning assessors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portfolio.extensions import db
from portfolio.models import Role, Unit, User, UserRole


def assessor_choices() -> list[SelectChoice]:
    """Active assessors to choose from, with "Not assigned yet" first."""
    assessors = db.session.scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role == Role.ASSESSOR, User.active.is_(True))
        .order_by(User.name)
    )
    return [SelectChoice("0", "Not assigned yet")] + [
        SelectChoice(str(a.id), f"{a.name} ({a.email})") for a in assessors
    ]


def unit_choices() -> list[SelectChoice]:
    return [
        SelectChoice(code) for code in db.session.scalars(select(Unit.code).order_by(Unit.code))
    ]


class EnrolForm(FlaskForm):
    learner = StringField(
        "Learner",
        validators=[DataRequired()],
        description="The learner's email address or student ID.",
    )
    unit = SelectField("Unit", validators=[DataRequired()])
    is_rpl = BooleanField("Recognition of prior learning (RPL)")
    assessor = SelectField("Assessor", coerce=int)
    starts_on = DateField(
        "Activity starts", validators=[Optional()], description="Leave empty for today."
    )
    submit = SubmitField("Enrol")


class AssignAssessorForm(FlaskForm):
    assessor = SelectField("Assessor", coerce=int)
    submit = SubmitField("Assign")


class WithdrawForm(FlaskForm):
    closed_on = DateField("Withdrew on", validators=[Optional()])
    reason = TextAreaField("Why", validators=[Length(max=2000)])
    submit = SubmitField("Record the withdrawal")


class CreditTransferForm(FlaskForm):
    closed_on = DateField("Credit granted on", validators=[Optional()])
    issuing_rto = StringField("Issuing RTO", validators=[Length(max=300)])
    document_number = StringField("Transcript or certificate number", validators=[Length(max=100)])
    document_date = DateField("Date of the transcript or certificate", validators=[Optional()])
    files = MultipleFileField(
        "Copy of the verified transcript or certificate",
        description="You record that you have verified it against the original.",
    )
    reason = TextAreaField("Notes", validators=[Length(max=2000)])
    submit = SubmitField("Record the credit transfer")


class PlaceHoldForm(FlaskForm):
    reason = TextAreaField(
        "Why the enrolment is kept",
        validators=[Length(max=2000)],
        description="For example: complaint C-2026-014 lodged 3 March; appeal to the RTO; "
        "audit by the regulator.",
    )
    submit = SubmitField("Place the legal hold")


class LiftHoldForm(FlaskForm):
    lift_reason = TextAreaField("Why the hold ends", validators=[Length(max=2000)])
    submit = SubmitField("Lift the legal hold")
