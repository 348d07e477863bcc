"""Forms of the exports page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Optional


class MatrixForm(FlaskForm):
    unit = SelectField("Unit", validators=[DataRequired()])
    enrolled_from = DateField("Enrolled from", validators=[Optional()])
    enrolled_to = DateField("Enrolled to", validators=[Optional()])
    format = RadioField(
        "Format",
        choices=[SelectChoice("docx", "Word (.docx)"), SelectChoice("pdf", "PDF")],
        default="docx",
    )
    submit = SubmitField("Download the matrix")


class RegisterForm(FlaskForm):
    unit = SelectField("Unit", validators=[Optional()])
    decided_from = DateField("Decided from", validators=[Optional()])
    decided_to = DateField("Decided to", validators=[Optional()])
    format = RadioField(
        "Format",
        choices=[SelectChoice("csv", "CSV"), SelectChoice("xlsx", "Excel (.xlsx)")],
        default="csv",
    )
    submit = SubmitField("Download the register")


class BundleForm(FlaskForm):
    unit = SelectField("Unit", validators=[Optional()])
    decided_from = DateField("Decided from", validators=[Optional()])
    decided_to = DateField("Decided to", validators=[Optional()])
    enrolments = StringField(
        "Or these enrolments",
        validators=[Optional()],
        description="Enrolment numbers separated by commas, for a hand-picked sample.",
    )
    pdfs = BooleanField(
        "A PDF beside each Word document",
        description="Made by LibreOffice: a few seconds more for each learner.",
    )
    submit = SubmitField("Build the bundle")
