"""People: accounts with hashed passwords and one or more roles."""

from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portfolio.extensions import db
from portfolio.models.base import UTCDateTime, enum_values, utcnow


class NotifyMode(enum.StrEnum):
    """How a person hears of what waits for them by email."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return {
            NotifyMode.IMMEDIATE: "One email as each thing happens",
            NotifyMode.DIGEST: "One email a day listing what happened",
        }[self]


class LinkPurpose(enum.StrEnum):
    """What a one-time account link lets its holder do: choose their first password, or a
    new one in place of a forgotten one."""

    SETUP = "setup"
    RESET = "reset"


class Role(enum.StrEnum):
    LEARNER = "learner"
    ASSESSOR = "assessor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {Role.LEARNER: "Learner", Role.ASSESSOR: "Assessor", Role.ADMIN: "RTO admin"}[self]


def password_hash_method() -> str:
    """How passwords are hashed: scrypt, unless the app says otherwise (the tests do)."""
    if has_app_context():
        return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
    return "scrypt"


class User(UserMixin, db.Model):
    """Anyone who logs in: learner, assessor, admin, or several of these."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    student_id: Mapped[str | None] = mapped_column(String(50), unique=True)
    # Unique Student Identifier (Australia): ten characters, where the learner has one.
    usi: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id every session cookie carries: raised on logout, deactivation and a new
    # password, it ends every session the person has anywhere, a copied cookie included.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Set when someone else chose the password (an admin, the command line): the person is
    # asked to choose their own at their next login before anything else.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    notify: Mapped[NotifyMode] = mapped_column(
        Enum(NotifyMode, native_enum=False, length=16, values_callable=enum_values),
        default=NotifyMode.IMMEDIATE,
        server_default=NotifyMode.IMMEDIATE.value,
    )

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def set_roles(self, roles: set[Role]) -> None:
        keep = [row for row in self.role_rows if row.role in roles]
        have = {row.role for row in keep}
        self.role_rows = keep + [UserRole(role=role) for role in sorted(roles - have)]

    def set_password(self, password: str) -> None:
        method = password_hash_method()
        if self.password_hash:
            self.end_sessions()  # a new password: whoever knew the old one is logged out
        self.password_hash = generate_password_hash(password, method=method)

    def end_sessions(self) -> None:
        """Every session of this person ends: their cookies no longer name a current id."""
        self.session_version = (self.session_version or 1) + 1

    def get_id(self) -> str:  # Flask-Login: what the session cookie holds
        return f"{self.id}:{self.session_version or 1}"

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user is logged out
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=enum_values)
    )

    user: Mapped[User] = relationship(back_populates="role_rows")


class AccountLink(db.Model):
    """A single-use link sent or handed to a person to set their password. Only a hash of its
    token is kept, so the table cannot be read for working links."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(
        Enum(LinkPurpose, native_enum=False, length=16, values_callable=enum_values)
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when it was used, or when a newer link or a password change made it void.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
