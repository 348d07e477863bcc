"""Forms for evidence items, mappings and submission."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portfolio.clock import today
from portfolio.models import EvidenceType


class ItemForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    evidence_type = SelectField(
        "Type",
        choices=[SelectChoice(t.value, t.label) for t in EvidenceType],
        validators=[DataRequired()],
    )
    work_date = DateField("Date the work was done", validators=[DataRequired()], default=today)
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=20000)],
        description="What this is and what you did. Markdown works: **bold**, lists, links.",
        render_kw={"rows": 6},
    )
    files = MultipleFileField(
        "Files",
        description="PDF, Word, Excel, PowerPoint, OpenDocument, PNG, JPEG, text, CSV, MP4 or MP3.",
    )
    submit = SubmitField("Save evidence")


class SubmitForm(FlaskForm):
    #: A drawn signature under the declaration, where the RTO asks for one.
    signature = StringField(validators=[Optional()])
    declared = BooleanField(
        "I make this declaration",
        validators=[
            DataRequired(message="Tick the declaration to confirm the evidence is your own work.")
        ],
    )
    submit = SubmitField("Submit for assessment")


class PlainForm(FlaskForm):
    """For forms whose fields are built in the template (mapping checklists); carries CSRF."""
