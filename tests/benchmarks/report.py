"""BENCHMARKS.md from the figures ``run`` measured: tables, the method, the machine, and
whether each target holds. ``findings.md`` beside this file (what profiling found where a
target was missed) is included as it is."""

from __future__ import annotations

from pathlib import Path

FINDINGS = Path(__file__).with_name("findings.md")
MB = 1024 * 1024

PAGE_TITLES = {
    "baseline": "`GET /login` anonymous (baseline)",
    "portfolio": "Learner's portfolio",
    "queue": "Assessor's queue (`/review`)",
    "review": "Coverage matrix (review page)",
    "unit": "Unit page (`/units/TLII5018`)",
    "dashboard": "Admin's dashboard (`/dashboard`, the RTO at a glance)",
    "assessor-dashboard": "Assessor's dashboard (`/dashboard`, their queue and learners)",
    "learner-dashboard": "Learner's dashboard (`/dashboard`, their units over time)",
}
#: The dashboards, each held to DASHBOARD_LIMIT.
DASHBOARDS = ("dashboard", "assessor-dashboard", "learner-dashboard")
DATABASE_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

#: Targets.
PAGE_GROWTH_LIMIT = 3.0
#: Each dashboard at the largest size, against the login page measured beside it.
DASHBOARD_LIMIT = 3.0
PACK_LIMIT = 2.0
UPLOAD_LIMIT = 0.10  # of the file's size, in the worker's peak memory...
UPLOAD_LIMIT_MB = 5.0  # ...or this, for small files
UNIT_IMPORT_RATE_KEPT = 0.5  # of a text's reading rate, as it grows to four times its size
BUNDLE_FLAT_MB = 5.0  # or a tenth of what the bundle grows, whichever is more
S3_PART_MB = 8  # an upload to S3 goes in parts of this size...
S3_PARTS_LIMIT = 4  # ...and holds no more than this many at once


# --- Targets ----------------------------------------------------------------------------------


def page_growth(db: dict) -> dict[str, dict]:
    """Per page: p95 at the largest size over p95 at the smallest, raw and over baseline."""
    sizes = list(db["sizes"])
    first, last = db["sizes"][sizes[0]], db["sizes"][sizes[-1]]
    out = {}
    for name in first["pages"]:
        a, b = first["pages"][name]["p95_ms"], last["pages"][name]["p95_ms"]
        base_a, base_b = first["pages"]["baseline"]["p95_ms"], last["pages"]["baseline"]["p95_ms"]
        out[name] = {
            "first": a,
            "last": b,
            "ratio": b / a,
            "relative": (b / base_b) / (a / base_a),
            "alone": last["inprocess"][name]["median_ms"] / first["inprocess"][name]["median_ms"]
            if first["inprocess"][name]["median_ms"]
            else 1.0,
            "holds": b / a <= PAGE_GROWTH_LIMIT,
        }
    return out


def queries_flat(db: dict) -> dict[str, dict]:
    out = {}
    sizes = list(db["sizes"])
    for name in db["sizes"][sizes[0]]["queries"]:
        counts = [db["sizes"][s]["queries"][name] for s in sizes]
        out[name] = {"counts": counts, "holds": len(set(counts)) == 1}
    return out


def bundle_flat(db: dict) -> dict | None:
    """Whether the large bundle's peak memory stopped growing with it: its peak growth after
    the first tenth of its enrolments against at the end (sampled in the same process), or,
    without samples, the small bundle's against the large one's."""
    bundles = db.get("bundles") or {}
    if not bundles:
        return None
    counts = sorted(bundles, key=int)
    large = bundles[counts[-1]]
    steps = large.get("steps") or []
    if len(steps) >= 2:
        (first_done, first_peak), (last_done, last_peak) = steps[0], steps[-1]
        small_count, extra_mb = int(first_done), last_peak - first_peak
        bundle_grew_mb = large["content_bytes"] / MB * (last_done - first_done) / last_done
    elif len(counts) >= 2:
        small = bundles[counts[0]]
        small_count, extra_mb = int(counts[0]), large["grew_mb"] - small["grew_mb"]
        bundle_grew_mb = (large["content_bytes"] - small["content_bytes"]) / MB
    else:
        return None
    allowed = max(BUNDLE_FLAT_MB, bundle_grew_mb / 10)
    return {
        "small": small_count,
        "large": int(counts[-1]),
        "extra_mb": extra_mb,
        "bundle_grew_mb": bundle_grew_mb,
        "allowed_mb": allowed,
        "holds": extra_mb <= allowed,
    }


def upload_holds(figures: dict) -> bool:
    limit = max(UPLOAD_LIMIT * figures["bytes"] / MB, UPLOAD_LIMIT_MB)
    return figures["worker_peak_growth_mb"] <= limit


def targets(results: dict) -> list[tuple[str, dict[str, str]]]:
    """Rows of the summary: target -> per database, "holds (figure)" or "missed (figure)"."""
    rows: list[tuple[str, dict[str, str]]] = []

    def verdict(ok: bool, detail: str) -> str:
        return f"{'holds' if ok else '**missed**'} ({detail})"

    dbs = results["databases"]
    first_last = {}
    for name, db in dbs.items():
        sizes = list(db["sizes"])
        first_last[name] = (sizes[0], sizes[-1])

    cells: dict[str, str] = {}
    for name, db in dbs.items():
        growth = page_growth(db)
        pages = {k: v for k, v in growth.items() if k != "baseline"}
        worst = max(pages, key=lambda k: pages[k]["ratio"])
        ok = all(v["holds"] for v in pages.values())
        a, b = first_last[name]
        cells[name] = verdict(
            ok,
            f"worst {worst} {pages[worst]['ratio']:.2f}x from {_size_label(a)} to {_size_label(b)}",
        )
    label = f"Page p95 at the largest size within {PAGE_GROWTH_LIMIT:g}x of the smallest"
    rows.append((label, cells))

    cells = {}
    for name, db in dbs.items():
        largest = db["sizes"][first_last[name][1]]["pages"]
        ratios = {
            page: largest[page]["p95_ms"] / largest["baseline"]["p95_ms"]
            for page in DASHBOARDS
            if page in largest
        }
        if ratios:
            worst = max(ratios, key=lambda page: ratios[page])
            cells[name] = verdict(
                ratios[worst] <= DASHBOARD_LIMIT,
                f"worst {worst} {ratios[worst]:.2f}x at {_size_label(first_last[name][1])}",
            )
    if cells:
        rows.append(
            (
                f"Each dashboard's p95 within {DASHBOARD_LIMIT:g}x of the login page's at the "
                "largest size",
                cells,
            )
        )

    cells = {}
    for name, db in dbs.items():
        flat = queries_flat(db)
        grew = [k for k, v in flat.items() if not v["holds"]]
        cells[name] = verdict(not grew, "equal at every size" if not grew else ", ".join(grew))
    rows.append(("Statements per request do not grow with the data", cells))

    cells = {}
    for name, db in dbs.items():
        ratios = [
            (figures["ratio"], figures["items"])
            for size in db["sizes"].values()
            for figures in size["packs"].values()
        ]
        worst = max(ratios)
        cells[name] = verdict(worst[0] <= PACK_LIMIT, f"worst {worst[0]:.2f}x, {worst[1]} items")
    rows.append((f"Evidence pack within {PACK_LIMIT:g}x of python-docx alone", cells))

    cells = {}
    for name, db in dbs.items():
        flat = bundle_flat(db)
        if flat is None:
            cells[name] = "not measured"
            continue
        cells[name] = verdict(
            flat["holds"],
            f"peak {flat['extra_mb']:+.1f} MB from {flat['small']} to {flat['large']} "
            f"enrolments of one bundle; allowed {flat['allowed_mb']:.1f}",
        )
    rows.append(("Audit bundle's peak memory stays flat as it grows", cells))

    cells = {}
    for name, db in dbs.items():
        uploads = [size["upload"] for size in db["sizes"].values()]
        worst = max(uploads, key=lambda u: u["worker_peak_growth_mb"])
        cells[name] = verdict(
            all(upload_holds(u) for u in uploads),
            f"worker peak grew at most {worst['worker_peak_growth_mb']:.1f} MB for "
            f"{worst['bytes'] / MB:.0f} MB",
        )
    rows.append(
        (f"Upload: worker's peak memory grows by under {UPLOAD_LIMIT:.0%} of the file", cells)
    )
    return rows


# --- Markdown ---------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(headers) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _n(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _size_label(size: str) -> str:
    return f"{int(size):,}"


def _machine(results: dict) -> list[str]:
    m = results["machine"]
    rows = [
        ["Cores (`nproc`)", str(m.get("nproc"))],
        ["CPU", str(m.get("cpu", "unknown"))],
        ["RAM", f"{m.get('ram_gb')} GB"],
        ["OS", str(m.get("platform"))],
        ["Python", str(m.get("python"))],
        ["SQLite", str(m.get("sqlite"))],
        ["PostgreSQL", str(m.get("postgresql", "not measured"))],
        [
            "Load average (1, 5, 15 min) at start / end",
            f"{results.get('load_average_start')} / {results.get('load_average_end')}",
        ],
    ]
    return _table(["", ""], rows, "ll")


def _method(results: dict) -> list[str]:
    o = results["options"]
    sizes = ", ".join(f"{s:,}" for s in o["sizes"])
    return [
        "## Method",
        "",
        f"One run of `python -m tests.benchmarks.run` (`make bench`) measures everything below "
        f"on each database in turn. A synthetic cohort is built with the generator "
        f"(`flask demo generate`) in steps, to {sizes} learners; each learner is enrolled in "
        f"three units. The first step has {o['first_items']} evidence items per enrolment, later "
        f"steps {o['items']} (generating is most of the run's time). Two more learners are "
        f"generated on their own with {' and '.join(map(str, o['pack_items']))} items for the "
        f"evidence packs. The pages measured belong to people of the first step (the learner "
        f"whose enrolment has the most items, the assessor the generator names as having the "
        f"longest queue and that assessor's waiting submission with the most items), so each "
        f"page shows the same thing at every size and only the data around it grows.",
        "",
        "Every figure has a baseline measured in the same run, minutes apart, so that ratios "
        "hold on a noisy machine even when absolute times do not:",
        "",
        f"- **Pages**: the app runs under gunicorn with `gunicorn.conf.py` ({o['workers']} gthread "
        f"workers, 4 threads each) on a free port, with `PORTFOLIO_ENV=benchmark` instead of "
        f"`production` (production marks the session cookie Secure, which a plain-http client "
        f"never sends back; nothing else differs) and `SECRET_KEY` set. A Python load driver "
        f"runs {o['concurrency']} threads, each with its own keep-alive `http.client` "
        f"connection, for {o['duration']:g} s per page after two warm-up requests each; clients "
        f"log in through the real login form with its CSRF token, as the generated learner or "
        f"assessor. The baseline is `GET /login` as an anonymous client (a template and no "
        f"query). Latencies are of requests that finished within the window. Statements per "
        f"request are counted in-process through the Flask test client, against the same "
        f"database, with a SQLAlchemy `before_cursor_execute` listener (second request of each "
        f"page; the first warms up); the same client then times {o.get('timed', 10)} requests "
        f"one at a time (median; in brackets the mean time between `before_` and "
        f"`after_cursor_execute`), which follows the work a page does for its data without the "
        f"noise of everything else the machine is doing. Nothing changes while a page is "
        f"measured, so the dashboards show what each look costs while nothing about the person "
        f"changes: the admin's figures are kept for `DASHBOARD_CACHE_SECONDS`, and each "
        f"enrolment's progress until its next audit event (the first look after a change reads "
        f"that enrolment's progress again, three or four statements more).",
        "- **Evidence pack**: seconds to load the enrolment and build and save the `.docx` (as "
        "`flask exports pack` does, into memory), median of 3 (2 for the large one). The floor "
        "reads that pack back with python-docx and times a plain script writing the same "
        "paragraphs (with their styles), tables (cell by cell, `add_row`) and pictures into a "
        "new document, in memory, with no database.",
        "- **Audit bundle**: built by `write_bundle` (as the export page's background job "
        "does) in a fresh child process (`tests/benchmarks/bundle_memory.py`) from decided "
        "enrolments. A one-enrolment bundle is built first, so imports and caches are in place; "
        "then the process's VmHWM is reset to its RSS (`5 > /proc/self/clear_refs`) and the "
        "bundle is built: the peak's growth is what the bundle needed, taken when the last pack "
        "and file were written (before the matrices and the register) and at the end. The "
        "seconds are split into building Word documents (packs and matrices, python-docx) and "
        "loading the packs' data; the rest is files, hashing and the ZIP. MB/s is the members' "
        "total size over the time taken; the baseline is `zip -0 -q -r` storing the same files, "
        "extracted from the bundle.",
        f"- **Upload**: a {o['upload_mb']} MB file (a PDF header and random bytes) sent as the "
        "page's upload script sends it (`POST /enrolments/<id>/uploads`, multipart, CSRF "
        "header) by a logged-in learner, through gunicorn (`MAX_UPLOAD_MB` raised for the run). "
        "Before it, every worker's VmHWM is reset to its current RSS (`5 > "
        "/proc/<pid>/clear_refs`); the growth of VmHWM of the worker that handled it is the "
        "memory the upload took. The baseline is the same bytes over a loopback TCP socket "
        "into a file in the evidence folder, synced, with no app.",
        "- **PostgreSQL** runs in a throwaway cluster as CI starts one (`initdb` into a "
        "temporary folder, `pg_ctl` on a free port, `fsync=off` and `full_page_writes=off`, "
        "so generating the data is quicker; no figure here waits on PostgreSQL's fsync), "
        "stopped and deleted at the end.",
        "",
    ]


def _data(results: dict) -> list[str]:
    lines = ["## Data", ""]
    for name, db in results["databases"].items():
        rows = []
        for size, figures in db["sizes"].items():
            c = figures["counts"]
            rows.append(
                [
                    _size_label(size),
                    f"{c['learners']:,}",
                    f"{c['enrolments']:,}",
                    f"{c['evidence items']:,}",
                    f"{c['evidence files']:,}",
                    f"{c['audit events']:,}",
                ]
            )
        generated = sum(g["seconds"] for g in db["generation"])
        lines.append(
            f"{DATABASE_TITLES[name]} (generating took {generated:.0f} s of the "
            f"{db['seconds']:.0f} s spent on this database):"
        )
        lines.append("")
        lines += _table(
            ["Size", "Learners", "Enrolments", "Evidence items", "Files", "Audit events"], rows
        )
        s = db["subjects"]
        lines.append(
            f"Pages shown: enrolment {s['portfolio_enrolment']} ({s['portfolio_items']} items) of "
            f"`{s['learner_email']}`; `{s['assessor_email']}` with {s['queue_waiting']} "
            f"submissions waiting, reviewing enrolment {s['review_enrolment']} "
            f"({s['review_items']} submitted items)."
        )
        lines.append("")
    return lines


def _pages(results: dict) -> list[str]:
    lines = ["## 1. Pages under load", ""]
    for name, db in results["databases"].items():
        lines += [f"### {DATABASE_TITLES[name]}", ""]
        rows = []
        for size, figures in db["sizes"].items():
            base = figures["pages"]["baseline"]["p95_ms"]
            for page, load in figures["pages"].items():
                rows.append(
                    [
                        PAGE_TITLES[page],
                        _size_label(size),
                        f"{load['requests']:,}",
                        _n(load["per_second"]),
                        _n(load["p50_ms"]),
                        _n(load["p95_ms"]),
                        "1.00" if page == "baseline" else f"{load['p95_ms'] / base:.2f}",
                        str(figures["queries"][page]),
                        f"{_n(figures['inprocess'][page]['median_ms'])} "
                        f"({_n(figures['inprocess'][page]['database_ms'])})",
                    ]
                )
        lines += _table(
            [
                "Page",
                "Learners",
                "Requests",
                "Requests/s",
                "p50 ms",
                "p95 ms",
                "p95 / baseline p95",
                "Statements per request",
                "One at a time, ms (in the database)",
            ],
            rows,
            "llrrrrrrr",
        )
        sizes = list(db["sizes"])
        growth = page_growth(db)
        flat = queries_flat(db)
        rows = []
        for page, g in growth.items():
            rows.append(
                [
                    PAGE_TITLES[page],
                    _n(g["first"]),
                    _n(g["last"]),
                    f"{g['ratio']:.2f}x",
                    f"{g['relative']:.2f}x",
                    f"{g['alone']:.2f}x",
                    " → ".join(map(str, flat[page]["counts"])),
                    "—"
                    if page == "baseline"
                    else ("holds" if g["holds"] and flat[page]["holds"] else "**missed**"),
                ]
            )
        lines += [
            f"Growth from {_size_label(sizes[0])} to {_size_label(sizes[-1])} learners "
            f"(target: p95 within {PAGE_GROWTH_LIMIT:g}x, statements equal):",
            "",
        ]
        lines += _table(
            [
                "Page",
                f"p95 ms at {_size_label(sizes[0])}",
                f"p95 ms at {_size_label(sizes[-1])}",
                "Ratio",
                "Ratio over baseline's",
                "One at a time",
                "Statements",
                "Target",
            ],
            rows,
            "lrrrrrrl",
        )
    return lines


def _packs(results: dict) -> list[str]:
    lines = [
        "## 2. Evidence pack",
        "",
        f"Target: within {PACK_LIMIT:g}x of python-docx writing the same content alone.",
        "",
    ]
    for name, db in results["databases"].items():
        rows = []
        for size, figures in db["sizes"].items():
            for pack in figures["packs"].values():
                rows.append(
                    [
                        _size_label(size),
                        str(pack["items"]),
                        f"{pack['paragraphs']:,} / {pack['tables']} ({pack['table_rows']:,} rows)"
                        f" / {pack['pictures']}",
                        _n(pack["pack_bytes"] / 1024, 0),
                        f"{pack['pack_seconds']:.2f}",
                        f"{pack['floor_seconds']:.2f}",
                        f"{pack['ratio']:.2f}x",
                        "holds" if pack["ratio"] <= PACK_LIMIT else "**missed**",
                    ]
                )
        lines += [f"### {DATABASE_TITLES[name]}", ""]
        lines += _table(
            [
                "Learners",
                "Items",
                "Paragraphs / tables / pictures",
                "KB",
                "Pack s",
                "Floor s",
                "Ratio",
                "Target",
            ],
            rows,
            "lrlrrrrl",
        )
    return lines


def _bundles(results: dict) -> list[str]:
    lines = [
        "## 3. Audit bundle",
        "",
        "Target: peak memory stays flat as the bundle grows: while the large bundle is built, "
        "its peak grows by less than "
        f"{BUNDLE_FLAT_MB:g} MB (or a tenth of what its content grows, whichever is more) from "
        "the first tenth of its enrolments to the last. Measured at the largest cohort.",
        "",
    ]
    for name, db in results["databases"].items():
        rows = []
        for count, b in sorted(db.get("bundles", {}).items(), key=lambda kv: int(kv[0])):
            rows.append(
                [
                    count,
                    f"{b['members']:,}",
                    _n(b["content_bytes"] / MB),
                    _n(b["bytes"] / MB),
                    f"{b['seconds']:.1f} ({b['documents_seconds']:.1f} + {b['data_seconds']:.1f})",
                    _n(b["mb_per_s"], 2),
                    _n(b["zip_mb_per_s"]) if "zip_mb_per_s" in b else "n/a",
                    _n(b["rss_before_mb"]),
                    _n(b["peak_mb"]),
                    f"{b['grew_packs_mb']:+.1f}",
                    f"{b['grew_mb']:+.1f}",
                ]
            )
        flat = bundle_flat(db)
        lines += [f"### {DATABASE_TITLES[name]}", ""]
        lines += _table(
            [
                "Enrolments",
                "Files",
                "Content MB",
                "ZIP MB",
                "Seconds (Word documents + loading data)",
                "MB/s",
                "`zip -0` MB/s",
                "RSS before (MB)",
                "Peak RSS (MB)",
                "Peak growth, packs and files (MB)",
                "Peak growth, whole bundle (MB)",
            ],
            rows,
        )
        large = max(db.get("bundles", {"0": {}}).items(), key=lambda kv: int(kv[0]))[1]
        if large.get("steps"):
            lines += [
                f"Peak growth while the {large['enrolments']}-enrolment bundle was built, "
                "after each tenth of its enrolments (MB): "
                + ", ".join(f"{int(done)}: {grew:+.1f}" for done, grew in large["steps"])
                + ".",
                "",
            ]
        if flat:
            lines += [
                f"Peak memory {flat['extra_mb']:+.1f} MB from {flat['small']} to {flat['large']} "
                f"enrolments of the bundle, while its content grew "
                f"{flat['bundle_grew_mb']:.1f} MB: "
                + ("holds." if flat["holds"] else "**missed**."),
                "",
            ]
    return lines


def _uploads(results: dict) -> list[str]:
    lines = [
        "## 4. Upload",
        "",
        f"Target: the worker's peak memory grows by under {UPLOAD_LIMIT:.0%} of the file's size "
        f"(or {UPLOAD_LIMIT_MB:g} MB for a small file).",
        "",
    ]
    for name, db in results["databases"].items():
        rows = []
        for size, figures in db["sizes"].items():
            u, copy = figures["upload"], figures["loopback"]
            rows.append(
                [
                    _size_label(size),
                    _n(u["bytes"] / MB),
                    f"{u['seconds']:.2f}",
                    _n(u["mb_per_s"]),
                    _n(copy["mb_per_s"]),
                    f"{u['mb_per_s'] / copy['mb_per_s']:.2f}",
                    _n(u["worker_rss_before_mb"]),
                    _n(u["worker_peak_growth_mb"]),
                    "holds" if upload_holds(u) else "**missed**",
                ]
            )
        lines += [f"### {DATABASE_TITLES[name]}", ""]
        lines += _table(
            [
                "Learners",
                "MB",
                "Seconds",
                "MB/s",
                "Loopback copy MB/s",
                "Upload / copy",
                "Worker RSS before (MB)",
                "Worker peak growth (MB)",
                "Target",
            ],
            rows,
            "lrrrrrrrl",
        )
    return lines


def _object_store(results: dict) -> list[str]:
    lines = [
        "## 5. S3-compatible store and job queue",
        "",
        "SeaweedFS and Redis on this machine, started by the benchmark. Each transfer ran in a "
        "fresh child process with its peak memory reset first: the app's store (hashing as it "
        "streams, 8 MB parts, then a server-side copy to the content key) against boto3 alone "
        "(`upload_fileobj`, `get_object`) with the same client and server. Target: memory "
        "flat: the app's upload holds at most a few of its 8 MB parts, whatever the file's size.",
        "",
    ]
    transfers = results.get("object_store")
    if not transfers:
        return [*lines, "Not measured (see the notes at the top).", ""]
    rows = []
    for label, app, plain in (
        ("Upload", "app_upload", "plain_upload"),
        ("Read", "app_read", "plain_read"),
    ):
        a, b = transfers[app], transfers[plain]
        rows.append(
            [
                label,
                _n(a["bytes"] / MB),
                _n(a["mb_per_s"]),
                _n(b["mb_per_s"]),
                f"{a['mb_per_s'] / b['mb_per_s']:.2f}",
                f"{a['peak_growth_mb']:+.1f}",
                f"{b['peak_growth_mb']:+.1f}",
            ]
        )
    lines += _table(
        [
            "Transfer",
            "MB",
            "App MB/s",
            "boto3 alone MB/s",
            "App / boto3",
            "App peak growth (MB)",
            "boto3 peak growth (MB)",
        ],
        rows,
    )
    upload = transfers["app_upload"]
    allowed = S3_PARTS_LIMIT * S3_PART_MB
    lines += [
        f"The app's upload to S3 grew its peak by {upload['peak_growth_mb']:+.1f} MB for "
        f"{upload['bytes'] / MB:.0f} MB (allowed {allowed} MB, {S3_PARTS_LIMIT} of its "
        f"{S3_PART_MB} MB parts, whatever the file's size): "
        + ("holds." if upload["peak_growth_mb"] <= allowed else "**missed**."),
        "",
    ]
    rows = []
    for name, db in results["databases"].items():
        b = db.get("bundle_s3")
        if b:
            rows.append(
                [
                    DATABASE_TITLES[name],
                    str(b["enrolments"]),
                    f"{b['evidence_objects']:,}",
                    _n(b["evidence_bytes"] / MB),
                    f"{b['seconds']:.1f}",
                    _n(b["evidence_mb_per_s"], 2),
                    _n(b["plain_read_mb_per_s"]),
                    f"{b['grew_mb']:+.1f}",
                ]
            )
    if rows:
        lines += [
            "Audit bundle with its evidence in S3 (the bundle's files copied there first), "
            "beside reading the same objects with boto3 one after another:",
            "",
        ]
        lines += _table(
            [
                "Database",
                "Enrolments",
                "Objects",
                "Evidence MB",
                "Bundle seconds",
                "Evidence MB/s in the bundle",
                "boto3 read MB/s",
                "Peak growth (MB)",
            ],
            rows,
        )
    rows = [
        [
            DATABASE_TITLES[name],
            f"{q['jobs']:,}",
            _n(q["enqueued_per_second"], 0),
            _n(q["worked_per_second"], 0),
        ]
        for name, db in results["databases"].items()
        if (q := db.get("queue"))
    ]
    if rows:
        lines += [
            "Job queue (RQ on Redis): trivial jobs enqueued by the app, then worked in burst by "
            "`flask jobs worker`'s worker class in one process (each job: dequeue, heartbeat, "
            "run in the app context, result):",
            "",
        ]
        lines += _table(["Database", "Jobs", "Enqueued per second", "Worked per second"], rows)
    return lines


def _unit_import(results: dict) -> list[str]:
    figures = results.get("unit_import")
    if not figures:
        return []
    published = figures["published"]
    lines = [
        "## 6. Unit import",
        "",
        "Each text read as the admin page reads an upload (the page's text, then parsed, "
        "checked and written as a unit file), at two sizes, the second four times the first "
        "(a quarter of the import's limit and the limit), its size in bytes of the page (a "
        "Word file's document part unpacked, the part that grows with its text). A shape read "
        "in linear time keeps its rate as it grows; one read in quadratic time falls behind by "
        "the factor its size grew. Baseline: the "
        f"{published['texts']} published unit texts the parser is tested on "
        f"({published['bytes']:,.0f} bytes), read at "
        f"{published['per_second']:,.0f} bytes per second. Target: each shape keeps "
        f"{UNIT_IMPORT_RATE_KEPT:.0%} of its rate or more.",
        "",
    ]
    rows = []
    for shape, measured in figures["shapes"].items():
        small, large = measured["runs"]
        kept = large["per_second"] / small["per_second"]
        rows.append(
            [
                shape,
                f"{small['bytes']:,}",
                f"{small['per_second']:,.0f}",
                f"{large['bytes']:,}",
                f"{large['seconds']:.1f}",
                f"{large['per_second']:,.0f}",
                f"{kept:.2f} " + ("holds" if kept >= UNIT_IMPORT_RATE_KEPT else "**missed**"),
            ]
        )
    lines += _table(
        [
            "Text",
            "Bytes",
            "Per second",
            "Bytes",
            "Seconds",
            "Per second",
            "Rate kept",
        ],
        rows,
    )
    return lines


def render(results: dict) -> str:
    dbs = results["databases"]
    names = list(dbs)
    minutes, seconds = divmod(round(results["seconds"]), 60)
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['started'][:10]} by `make bench` (`python -m tests.benchmarks.run`), "
        f"which took {minutes} min {seconds:02d} s end to end, generating the data included. "
        "Run it again to replace this file; the figures vary from run to run on a shared "
        "machine, the ratios much less.",
        "",
    ]
    for note in results.get("notes", []):
        lines += [f"> {note}", ""]
    lines += ["## Targets", ""]
    lines += _table(
        ["Target", *(DATABASE_TITLES[n] for n in names)],
        [[label, *(cells.get(n, "") for n in names)] for label, cells in targets(results)],
        "l" * (len(names) + 1),
    )
    lines += ["## Machine", ""]
    lines += _machine(results)
    lines += _method(results)
    lines += _data(results)
    lines += _pages(results)
    lines += _packs(results)
    lines += _bundles(results)
    lines += _uploads(results)
    lines += _object_store(results)
    lines += _unit_import(results)
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: dict, path: Path) -> None:
    path.write_text(render(results))
