"""Forms for enrolling learners and assigning assessors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired


class EnrolForm(FlaskForm):
    learner = StringField(
        "Learner",
        validators=[DataRequired()],
        description="The learner's email address or student ID.",
    )
    unit = SelectField("Unit", validators=[DataRequired()])
    is_rpl = BooleanField("Recognition of prior learning (RPL)")
    assessor = SelectField("Assessor", coerce=int)
    submit = SubmitField("Enrol")


class AssignAssessorForm(FlaskForm):
    assessor = SelectField("Assessor", coerce=int)
    submit = SubmitField("Assign")
