"""Forms: asking for a verification, a verifier's answer, the assessor's check on a verifier."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from portfolio.models import VerifierCheck


class RequestForm(FlaskForm):
    name = StringField("Verifier's full name", validators=[Length(max=200)])
    email = EmailField(
        "Their email",
        validators=[Length(max=254)],
        description="The link is sent here. Use their work address if they have one.",
    )
    position = StringField("Their position", validators=[Length(max=200)])
    organisation = StringField("Organisation", validators=[Length(max=200)])
    relationship = StringField(
        "How they know the learner's work",
        validators=[Length(max=200)],
        description="For example: direct supervisor since March 2024.",
    )
    submit = SubmitField("Send the link")


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class AnswerForm(FlaskForm):
    """One Yes/No field per statement (``portfolio.verification.rules.STATEMENTS``)."""

    own_work = RadioField(choices=YES_NO, validators=[Optional()])
    normal_performance = RadioField(choices=YES_NO, validators=[Optional()])
    dates_right = RadioField(choices=YES_NO, validators=[Optional()])
    comment = TextAreaField(
        "Comment",
        validators=[Optional(), Length(max=5000)],
        description="Anything the assessor should know; needed when you answer No.",
        render_kw={"rows": 3},
    )
    signer_name = StringField("Your full name", validators=[Length(max=200)])
    #: The drawing, as the signature pad posts it (``templates/verification/_signature.html``).
    signature = StringField(validators=[Optional()])
    #: The hash of the content the page showed: an answer is only taken for that content.
    shown = HiddenField()
    submit = SubmitField("Sign and send")


class CheckForm(FlaskForm):
    method = SelectField(
        "How you checked who the verifier is",
        choices=[SelectChoice("", "Choose...")]
        + [SelectChoice(c.value, c.label) for c in VerifierCheck],
    )
    note = StringField(
        "Note", validators=[Optional(), Length(max=2000)], description="Number called, date, ..."
    )
    submit = SubmitField("Record the check")


class RevokeForm(FlaskForm):
    submit = SubmitField("Withdraw the link")


class ReportForm(FlaskForm):
    """A third party's report; each criterion's Seen / Not seen and note are built in the
    template (``seen-<id>``, ``note-<id>``)."""

    observed_on = DateField("The date you last saw this work", validators=[Optional()])
    comment = TextAreaField(
        "Overall comment",
        validators=[Optional(), Length(max=5000)],
        description="How the learner works, anything the assessor should know.",
        render_kw={"rows": 3},
    )
    signer_name = StringField("Your full name", validators=[Length(max=200)])
    #: The drawing, as the signature pad posts it (``templates/verification/_signature.html``).
    signature = StringField(validators=[Optional()])
    submit = SubmitField("Sign and send")
