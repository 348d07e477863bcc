"""``flask backup ...``: write and restore snapshots of an instance."""

from __future__ import annotations

from flask.cli import AppGroup

backup_cli = AppGroup("backup", help="Write and restore snapshots of the database and evidence.")
