"""Forms for logging in and managing accounts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portfolio.auth import passwords
from portfolio.models import NotifyMode, Role


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Log in")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class AccountFields(FlaskForm):
    """What an admin can set of an account."""

    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    roles = MultiCheckboxField(
        "Roles",
        choices=[SelectChoice(role.value, role.label) for role in Role],
        # No DataRequired: it would mark every box required, so a browser would refuse the
        # form until all of them were ticked. The service refuses an account without roles.
    )
    student_id = StringField("Student ID", validators=[Optional(), Length(max=50)])
    usi = StringField(
        "USI",
        validators=[Optional(), Length(min=10, max=10)],
        description="Unique Student Identifier, where the learner has one: 10 characters.",
    )


class UserForm(AccountFields):
    password = PasswordField(
        "Temporary password",
        validators=[Optional(), Length(max=passwords.MAX_LENGTH)],
        description="Leave empty to send them a link to choose their own (best). A password set "
        "here must be changed at their first login.",
    )
    submit = SubmitField("Create account")


class EditUserForm(AccountFields):
    submit = SubmitField("Save changes")


def _new_password() -> PasswordField:
    return PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)],
        description=passwords.HINT,
        render_kw={"autocomplete": "new-password"},
    )


def _confirm() -> PasswordField:
    return PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", "The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password()
    confirm = _confirm()
    submit = SubmitField("Change password")


class ChoosePasswordForm(FlaskForm):
    """A first or forgotten password, chosen by a one-time link."""

    new_password = _new_password()
    confirm = _confirm()
    submit = SubmitField("Save password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Send me a link")


class NotifyForm(FlaskForm):
    notify = RadioField(
        "Emails about your work",
        choices=[SelectChoice(mode.value, mode.label) for mode in NotifyMode],
    )
    submit = SubmitField("Save")


class ImportLearnersForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired(), FileAllowed(["csv"], "Choose a .csv file.")],
        description="Columns: Name (or Given name and Family name), Email, and optionally "
        "Student ID and USI. One learner per row, saved as CSV UTF-8.",
    )
    submit = SubmitField("Check the file")


class ConfirmImportForm(FlaskForm):
    """The checked file, sent back to create its accounts."""

    data = HiddenField(
        validators=[
            DataRequired(),
            Length(max=4 * 1024 * 1024, message="The file is too large to import."),
        ]
    )
    submit = SubmitField("Create these accounts")


class ConfirmForm(FlaskForm):
    """A bare form for POST-only actions, so they carry a CSRF token."""

    confirm = BooleanField(default=True)
    submit = SubmitField("Confirm")
