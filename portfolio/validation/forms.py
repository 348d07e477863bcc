"""Forms of a validation: the plan, the draw, the tool review and actions. A sampled
enrolment's findings are built in the template (``agree-<target id>``, ``note-<target id>``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.models import RiskLevel

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlanForm(FlaskForm):
    risk = RadioField(
        "Risk rating",
        choices=[SelectChoice(r.value, r.label) for r in RiskLevel],
        validators=[Optional()],
    )
    reasons = Checkboxes("Reasons for the rating", choices=[], validate_choice=False)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    submit = SubmitField("Save the plan")


class ReasonForm(FlaskForm):
    label = StringField("A reason the RTO rates risk by", validators=[Length(max=400)])
    submit = SubmitField("Add to the list")


class RetireForm(FlaskForm):
    submit = SubmitField("Take off the list")


class DrawForm(FlaskForm):
    decided_from = DateField("Decided from", validators=[Optional()])
    decided_to = DateField("Decided until", validators=[Optional()])
    size = IntegerField("Sample size", validators=[Optional()])
    validators = Checkboxes("Validators", choices=[], coerce=int, validate_choice=False)
    submit = SubmitField("Draw the sample")


class FindingsForm(FlaskForm):
    submit = SubmitField("Record the findings")


class ToolForm(FlaskForm):
    consistent = RadioField(choices=YES_NO, validators=[Optional()])
    sufficient = RadioField(choices=YES_NO, validators=[Optional()])
    valid = RadioField(choices=YES_NO, validators=[Optional()])
    note = TextAreaField(
        "What should change in the tool",
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 3},
    )
    submit = SubmitField("Record the tool review")


class ActionForm(FlaskForm):
    what = TextAreaField(
        "What is to change", validators=[Optional(), Length(max=4000)], render_kw={"rows": 2}
    )
    owner = SelectField("Owner", choices=[], coerce=int, validate_choice=False)
    due_on = DateField("Due", validators=[Optional()])
    submit = SubmitField("Open the action")


class CloseForm(FlaskForm):
    changed = TextAreaField(
        "What was changed", validators=[Optional(), Length(max=4000)], render_kw={"rows": 2}
    )
    submit = SubmitField("Close the action")


class ConfirmForm(FlaskForm):
    submit = SubmitField("Complete the validation")
