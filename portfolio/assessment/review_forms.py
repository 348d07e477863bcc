"""Forms of the assessor's review pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.clock import today
from portfolio.models import Finding, GapMethod

FINDINGS = [SelectChoice(f.value, f.label) for f in Finding]


class JudgementForm(FlaskForm):
    target = IntegerField(validators=[InputRequired()])
    seen = IntegerField(validators=[InputRequired()])
    finding = RadioField("Finding", choices=FINDINGS, validators=[DataRequired()])
    comment = TextAreaField("Comment", validators=[Length(max=4000)])


class MappingDecisionForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    target = IntegerField(validators=[InputRequired()])
    decision = HiddenField(validators=[DataRequired()])
    note = StringField("Note", validators=[Length(max=500)])


class CheckForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    rule = HiddenField(validators=[DataRequired()])
    seen = IntegerField(validators=[InputRequired()])
    confirmed = RadioField(
        "Result",
        choices=[SelectChoice("yes", "Confirmed"), SelectChoice("no", "Flagged")],
        validators=[DataRequired()],
    )
    note = StringField("Note", validators=[Length(max=2000)])


class OverrideForm(FlaskForm):
    rule = HiddenField(validators=[DataRequired()])
    seen = IntegerField(validators=[InputRequired()])
    reason = TextAreaField("Why the decisions may go past this flag", validators=[Length(max=2000)])


class ItemDecisionForm(FlaskForm):
    """One decision per item: the rules and the learner's mappings are read from the request
    (a field per rule and per mapping); this carries the token and the assessor's word."""

    checked = BooleanField(
        "I have checked this item: the rules I have not flagged are confirmed",
        validators=[
            DataRequired(
                message="Tick “I have checked this item” to confirm the rules you did not flag."
            )
        ],
    )
    judge = BooleanField(
        "Judge satisfactory the criteria accepted here whose evidence all passed the rules",
        default=True,
    )
    submit = SubmitField("Save and go to the next item")


class RejectItemForm(FlaskForm):
    note = StringField("Why", validators=[Length(max=500)])


class QuestionForm(Form):
    question = TextAreaField("Question asked", validators=[Optional(), Length(max=2000)])
    answer = TextAreaField("Answer given", validators=[Optional(), Length(max=4000)])


class SignoffForm(FlaskForm):
    method = RadioField(
        "How the gap was closed",
        choices=[SelectChoice(m.value, m.label) for m in GapMethod],
        validators=[DataRequired()],
    )
    held_on = DateField("Date it took place", default=today, validators=[DataRequired()])
    notes = TextAreaField("Notes", validators=[Length(max=8000)])
    questions = FieldList(FormField(QuestionForm), min_entries=3, max_entries=20)
    files = MultipleFileField(
        "Evidence you gathered (optional)",
        description="An observation checklist, a third-party report, a recording.",
    )
    also = SelectMultipleField(
        "The same record also covers",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # each is checked against the unit by the service
    )
    judge = BooleanField("Judge each criterion it covers satisfactory", default=True)
    submit = SubmitField("Sign off")


class CorrectSignoffForm(SignoffForm):
    """The sign-off as it should have been recorded, which of its files stay, and why."""

    keep = SelectMultipleField(
        "Files kept with the corrected sign-off",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    reason = TextAreaField("Why this is corrected", validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField("Record the correction")


class ReturnForm(FlaskForm):
    overall = TextAreaField("Message to the learner", validators=[Length(max=4000)])
    submit = SubmitField("Return to the learner")


class OutcomeForm(FlaskForm):
    result = RadioField("Outcome", validators=[DataRequired()])
    declared = BooleanField("I make this declaration")
    #: A drawn signature under the declaration, where the RTO asks for one.
    signature = StringField(validators=[Optional()])
    submit = SubmitField("Record the outcome")


class ReassessmentForm(FlaskForm):
    plan = TextAreaField(
        "What the learner must show in this attempt",
        validators=[Length(max=4000)],
        description="The learner sees this above the criteria to work on.",
    )
    due_on = DateField("Submit by", validators=[Optional()])
    submit = SubmitField("Open the reassessment")


class CorrectJudgementForm(FlaskForm):
    finding = RadioField("Corrected finding", choices=FINDINGS, validators=[DataRequired()])
    comment = TextAreaField("Comment", validators=[Length(max=4000)])
    reason = TextAreaField("Why this is corrected", validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField("Record the correction")


class CorrectOutcomeForm(FlaskForm):
    result = RadioField("Corrected outcome", validators=[DataRequired()])
    reason = TextAreaField("Why this is corrected", validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField("Record the correction")


class ActionForm(FlaskForm):
    """A button that changes something: carries the CSRF token and nothing else."""


class TemplateForm(FlaskForm):
    """A checklist's or bank's title; its lines are read from the request (a box per
    criterion), and ``seen`` is the version the editor started from."""

    title = StringField(
        "Title",
        validators=[DataRequired(message="Give the template a title."), Length(max=200)],
    )
    seen = IntegerField(validators=[Optional()])
    submit = SubmitField("Save the template")


class FillTemplateForm(FlaskForm):
    """A template filled in: its items are read from the request (``seen-<item>`` and
    ``note-<item>``); ``version`` is the template's version the page showed."""

    version = IntegerField(validators=[InputRequired()])
    held_on = DateField("Date it took place", default=today, validators=[DataRequired()])
    notes = TextAreaField("Notes", validators=[Length(max=8000)])
    files = MultipleFileField(
        "Files (optional)", description="A photo of the work, a recording, a signed sheet."
    )
    judge = BooleanField("Judge each criterion it covers satisfactory", default=True)
    submit = SubmitField("Save the record")
