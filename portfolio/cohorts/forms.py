"""Forms for cohorts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portfolio.auth.forms import MultiCheckboxField


class CohortForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=200)],
        description="For example: Certificate IV intake February 2027, or Acme Logistics team.",
    )
    description = TextAreaField("Notes", validators=[Length(max=2000)])
    submit = SubmitField("Create the cohort")


class AddMembersForm(FlaskForm):
    members = TextAreaField(
        "Learners to add",
        validators=[DataRequired(), Length(max=400_000)],
        description="Emails or student IDs, one a line: paste a column from a spreadsheet.",
        render_kw={"rows": 6},
    )
    submit = SubmitField("Add to the cohort")


class EnrolCohortForm(FlaskForm):
    units = MultiCheckboxField("Units")
    assessor = SelectField("Assessor", coerce=int)
    is_rpl = BooleanField("Recognition of prior learning (RPL)")
    starts_on = DateField(
        "Activity starts", validators=[Optional()], description="Leave empty for today."
    )
    submit = SubmitField("Enrol the cohort")
