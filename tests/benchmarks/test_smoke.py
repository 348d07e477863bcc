"""The benchmark harness, end to end at a tiny size: every figure is produced, and the pages run
the same number of statements at both sizes.

It runs ``python -m tests.benchmarks.run --quick`` against the database the tests use (a
SQLite file, or this worker's PostgreSQL database when DATABASE_URL names one), with gunicorn,
the load driver, the packs, the bundle and the upload all exercised for real, briefly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from portfolio.config import PROJECT_ROOT
from tests.benchmarks import unit_import
from tests.benchmarks.report import PAGE_TITLES
from tests.conftest import database_url

PAGES = set(PAGE_TITLES)
# Both tests read one run: keep them on one worker when the suite runs in parallel. About a
# minute: `make test-slow` (and CI) run it, `make test` does not.
pytestmark = [pytest.mark.xdist_group("benchmark-smoke"), pytest.mark.slow]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    pytest.importorskip("gunicorn", reason="gunicorn is not installed in this environment")
    tmp = tmp_path_factory.mktemp("bench")
    output, figures = tmp / "BENCHMARKS.md", tmp / "results.json"
    command = [
        sys.executable,
        "-m",
        "tests.benchmarks.run",
        "--quick",
        "--sizes",
        "3,4",
        "--database-url",
        database_url(tmp),
        "--output",
        str(output),
        "--json",
        str(figures),
        "--work-dir",
        str(tmp / "work"),
    ]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        # What gunicorn said (a worker that died mid-answer, a timeout) goes with the failure.
        logs = "".join(
            f"\n--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted((tmp / "work").glob("gunicorn-*.log"))
        )
        pytest.fail(done.stdout[-3000:] + done.stderr[-3000:] + logs)
    return json.loads(figures.read_text()), output.read_text()


def test_every_figure_is_reported(quick_run: tuple[dict, str]) -> None:
    results, report = quick_run
    assert len(results["databases"]) == 1
    (database,) = results["databases"].values()
    assert list(database["sizes"]) == ["3", "4"]
    for figures in database["sizes"].values():
        assert set(figures["pages"]) == PAGES
        for load in figures["pages"].values():
            assert load["requests"] > 0 and load["errors"] == 0
            assert 0 < load["p50_ms"] <= load["p95_ms"]
            assert load["per_second"] > 0
        assert set(figures["queries"]) == PAGES
        assert figures["queries"]["baseline"] == 0
        assert set(figures["packs"]) == {"2", "4"}
        for pack in figures["packs"].values():
            assert pack["pack_seconds"] > 0 and pack["floor_seconds"] > 0 and pack["ratio"] > 0
        upload = figures["upload"]
        assert upload["bytes"] > 4 * 1024 * 1024 and upload["mb_per_s"] > 0
        assert "worker_peak_growth_mb" in upload
        assert figures["loopback"]["mb_per_s"] > 0
    assert set(database["bundles"]) == {"1", "2"}
    for bundle in database["bundles"].values():
        assert bundle["bytes"] > 0 and bundle["mb_per_s"] > 0
        assert "grew_mb" in bundle and "grew_packs_mb" in bundle
        if shutil.which("zip"):
            assert bundle["zip_mb_per_s"] > 0

    for heading in (
        "## Targets",
        "## Machine",
        "## Method",
        "## 1. Pages under load",
        "## 2. Evidence pack",
        "## 3. Audit bundle",
        "## 4. Upload",
    ):
        assert heading in report
    for title in PAGE_TITLES.values():
        assert title in report
    assert "`nproc`" in report and "SQLite" in report


def test_the_unit_import_is_measured_on_every_hostile_shape(quick_run: tuple[dict, str]) -> None:
    results, report = quick_run
    figures = results["unit_import"]
    assert figures["published"]["texts"] >= 40 and figures["published"]["per_second"] > 0
    assert set(figures["shapes"]) == set(unit_import.SHAPES)
    for measured in figures["shapes"].values():
        small, large = measured["runs"]
        assert large["bytes"] > small["bytes"] and large["per_second"] > 0
    assert "## 6. Unit import" in report
    assert "HTML lists nested without end" in report


def test_statements_per_request_do_not_grow(quick_run: tuple[dict, str]) -> None:
    results, report = quick_run
    (database,) = results["databases"].values()
    small, large = database["sizes"]["3"]["queries"], database["sizes"]["4"]["queries"]
    assert small == large
    assert "Statements per request do not grow with the data | holds" in report


def test_the_object_store_and_the_queue_are_measured(quick_run: tuple[dict, str]) -> None:
    """SeaweedFS and redis-server, which `make setup` and CI install."""
    results, report = quick_run
    if (
        "object_store" not in results
        or "queue" not in results["databases"][next(iter(results["databases"]))]
    ):
        reason = "; ".join(results["notes"]) or "the S3 store or the queue was not measured"
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: every real server is installed
            pytest.fail(reason)
        pytest.skip(reason)
    (database,) = results["databases"].values()
    transfers = results["object_store"]
    for name in ("app_upload", "plain_upload", "app_read", "plain_read"):
        assert transfers[name]["bytes"] == 4 * 1024 * 1024 and transfers[name]["mb_per_s"] > 0
    assert database["bundle_s3"]["enrolments"] == 2 and database["bundle_s3"]["bytes"] > 0
    assert database["queue"]["jobs"] == 20 and database["queue"]["worked_per_second"] > 0
    assert "## 5. S3-compatible store and job queue" in report
    assert "The app's upload to S3 grew its peak by" in report
