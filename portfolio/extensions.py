"""Flask extensions, created unbound and bound to the app in ``create_app``."""

from typing import Any

from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# A fixed naming convention keeps constraint names identical on SQLite and PostgreSQL, so
# batch migrations on SQLite can find and alter the constraints they created.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the project's column types into migrations as the plain SQLAlchemy types they
    store, so a migration never imports application code that may later change."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{obj.impl!r}"
    return False


# render_as_batch lets ALTER TABLE work on SQLite by rebuilding the table.
migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
csrf = CSRFProtect()
bootstrap = Bootstrap5()

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
# A stolen session cookie used from elsewhere is dropped rather than trusted.
login_manager.session_protection = "strong"
