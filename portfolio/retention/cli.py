"""``flask retention ...``: apply the retention rules."""

from __future__ import annotations

import click
from flask import current_app

from portfolio.clock import today
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.retention.rules import periods
from portfolio.retention.run import Plan, carry_out, plan
from portfolio.schema import DatabaseGroup
from portfolio.text import count, file_size

retention_cli = DatabaseGroup("retention", help="Keep records as long as the rules say, no longer.")


def _describe(found: Plan) -> None:
    rules = found.rules
    click.echo(f"Rules: {rules.evidence_rule}; {rules.record_rule}.")
    click.echo(f"Evidence due for destruction on {found.today:%d/%m/%Y}:")
    if not found.evidence:
        click.echo("  none")
    for due in found.evidence:
        e = due.enrolment
        click.echo(
            f"  enrolment {e.id}: {e.learner.name}, {e.unit_release.unit.code} "
            f"(ended {e.activity_end:%d/%m/%Y}, due {due.due_on:%d/%m/%Y}): "
            f"{count(due.items, 'item')}, {count(due.files, 'file')} ({file_size(due.size)})"
        )
    for held in found.held:
        e = held.enrolment
        click.echo(
            f"  kept: enrolment {e.id}, {e.learner.name}, {e.unit_release.unit.code} "
            f"(due {held.due_on:%d/%m/%Y}) is on legal hold: {held.reason}"
        )
    click.echo(
        f"Audit bundles older than {current_app.config['BUNDLE_KEEP_DAYS']} days: "
        f"{count(len(found.bundles), 'bundle')}."
    )
    click.echo(
        f"Records (outcome, judgements, sign-offs, submissions, items) due for destruction, "
        f"{rules.record_years} years after the enrolment ended:"
    )
    if not found.records:
        click.echo("  none")
    for due in found.records:
        e = due.enrolment
        click.echo(
            f"  enrolment {e.id}: {e.learner.name}, {e.unit_release.unit.code} "
            f"(ended {e.activity_end:%d/%m/%Y}, due {due.due_on:%d/%m/%Y})"
        )
    for held in found.records_held:
        e = held.enrolment
        click.echo(
            f"  kept: enrolment {e.id}, {e.learner.name}, {e.unit_release.unit.code} "
            f"(due {held.due_on:%d/%m/%Y}) is on legal hold: {held.reason}"
        )


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="List what is due; destroy nothing.")
def run_command(dry_run: bool) -> None:
    """Destroy what the retention rules say is due: the evidence of enrolments judged or
    closed more than RETENTION_EVIDENCE_MONTHS ago (not on legal hold), with a receipt per
    item in the audit log; the records of enrolments that ended more than
    RETENTION_RECORD_YEARS ago, with a receipt each; old audit bundles; unclaimed uploads.
    Run it daily or weekly."""
    try:
        rules = periods(current_app.config)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    found = plan(current_app, db.session, today(), rules)
    _describe(found)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was destroyed.")
        return
    outcome = carry_out(current_app, db.session, storage(), found)
    for line in outcome.skipped:
        click.echo(line)
    swept = outcome.sweep
    click.echo(
        f"Destroyed the evidence of {count(outcome.enrolments, 'enrolment')}: "
        f"{count(outcome.items, 'item')}, {count(outcome.files, 'file')} "
        f"({file_size(outcome.size)}), each with a receipt in the audit log. "
        f"Destroyed the records of {count(outcome.records, 'enrolment')}, each with a receipt. "
        f"Removed {count(outcome.bundles, 'old audit bundle')}"
        + (
            f", {count(swept.unclaimed_uploads, 'upload')} never claimed and "
            f"{count(swept.files_removed, 'stored file')} no record uses."
            if swept
            else "."
        )
    )
