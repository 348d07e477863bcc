"""Forms for logging in and managing accounts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portfolio.models import Role


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Log in")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    roles = MultiCheckboxField(
        "Roles",
        choices=[SelectChoice(role.value, role.label) for role in Role],
        validators=[DataRequired(message="Choose at least one role.")],
    )
    student_id = StringField("Student ID", validators=[Optional(), Length(max=50)])
    usi = StringField(
        "USI",
        validators=[Optional(), Length(min=10, max=10)],
        description="Unique Student Identifier, where the learner has one.",
    )
    password = PasswordField(
        "Initial password",
        validators=[Optional(), Length(min=10)],
        description="Leave empty to generate one; it is shown once after saving.",
    )
    submit = SubmitField("Create account")


class ImportLearnersForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired(), FileAllowed(["csv"], "Choose a .csv file.")],
        description="Columns: name, email, student_id, usi (optional). One learner per row.",
    )
    submit = SubmitField("Import learners")


class ConfirmForm(FlaskForm):
    """A bare form for POST-only actions, so they carry a CSRF token."""

    confirm = BooleanField(default=True)
    submit = SubmitField("Confirm")
