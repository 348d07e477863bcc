"""The form an admin adds a unit with, from its published text."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from portfolio.units.importing import MAX_TEXT_CHARS


class UnitImportForm(FlaskForm):
    text = TextAreaField(
        "Unit text",
        validators=[
            Optional(),
            Length(
                max=MAX_TEXT_CHARS,
                message=f"The text is longer than the {MAX_TEXT_CHARS:,} characters read here; "
                "a unit page holds far fewer. Paste one unit's page.",
            ),
        ],
        description=(
            "Paste the unit's page, from its code and title to its last section. Indent the "
            "lines of a nested list to show where the list ends."
        ),
    )
    source = FileField(
        "Or upload the page",
        description="A .txt, .md, .docx or .html file of the unit's page (up to 2 MB).",
    )
    code = StringField(
        "Code",
        validators=[Optional(), Length(max=32)],
        description="Taken from the text where it gives one.",
    )
    title = StringField("Title", validators=[Optional(), Length(max=300)])
    release = IntegerField(
        "Release",
        validators=[Optional(), NumberRange(min=1, max=999)],
        description="Taken from the text where it gives one ('Release: 2'); otherwise type it: "
        "1 for a unit's first release, the next number for a new release of a loaded unit.",
    )
    preview = SubmitField("Read the text")
    save = SubmitField("Save unit")
    download = SubmitField("Download unit file")
