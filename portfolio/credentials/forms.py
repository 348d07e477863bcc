"""Forms of the credential register."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from portfolio.models import CredentialBasis, CredentialKind


class CredentialForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.label) for k in CredentialKind])
    code = StringField(
        "Code",
        validators=[Length(max=32)],
        description="TAE40122 for a credential; the unit's code for vocational competency; for "
        "industry currency, the unit it keeps current, or empty for all.",
    )
    title = StringField(
        "Title or activity",
        validators=[Length(max=300)],
        description="Filled in for a known TAE code. For currency: what the activity was.",
    )
    basis = RadioField(
        "Basis",
        choices=[SelectChoice(b.value, b.label) for b in CredentialBasis],
        default=CredentialBasis.HELD.value,
    )
    reason = TextAreaField(
        "Why it is accepted as equivalent",
        validators=[Optional(), Length(max=4000)],
        render_kw={"rows": 2},
    )
    starts_on = DateField("Issued on, or the activity began", validators=[Optional()])
    ends_on = DateField(
        "Expires or is reviewed on",
        validators=[Optional()],
        description="Needed for industry currency; empty for a qualification that does not lapse.",
    )
    files = MultipleFileField("Documents", description="The certificate, statement or log.")
    submit = SubmitField("Add to the register")


class EndForm(FlaskForm):
    reason = StringField("Why it no longer stands", validators=[Length(max=2000)])
    submit = SubmitField("End this entry")
