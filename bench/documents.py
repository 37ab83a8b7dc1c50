"""Printed matter: pages per second and peak memory, against a page-at-a-time baseline.

For events of 20 and 200 teams (3 members each, a judge per 4 teams) this renders the table
placards, the judge badges and the participation certificates (600 at 200 teams) twice:

- `batch`: what the app does (expo_app.documents): one document per batch, laid out in chunks of
  50 with the fonts and the parsed print stylesheet shared across the process;
- `naive`: one `HTML(...).write_pdf()` per page with its stylesheet parsed each time, the way a
  first attempt would write it.

Every case runs in a fresh process, so "peak MB" is that process's own peak resident memory
(Python, WeasyPrint, the data and the PDF), not the parent's. Goals on the 2-core machine:
600 participation certificates in under 20 s, 200 placards in under 8 s, peak under 500 MB.

    python bench/documents.py            # everything (a few minutes)
    python bench/documents.py --quick    # 20 teams only
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("placards", "badges", "participation")
GOALS = {("participation", 200): 20.0, ("placards", 200): 8.0}
MEMORY_GOAL_MB = 500


def _seed(teams: int):
    """An in-memory event with `teams` teams of 3 and a judge per 4 teams; returns (app, event id)."""
    from expo_app import create_app
    from expo_app.admin.operations import create_event, save_judge, save_team
    from expo_app.extensions import db

    folder = tempfile.mkdtemp(prefix="bench-docs-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                      "PUBLIC_BASE_URL": "https://expo.example.org", "SECRET_KEY": "bench-secret-" + "x" * 32})
    with app.app_context():
        db.create_all()
        event = create_event("MLOps Innovation Expo 2026")
        event.instructor_name, event.instructor_title = "Dr. Ada Lovelace", "Instructor, Graduate MLOps"
        for table in range(1, teams + 1):
            save_team(event, None, name=f"Team {table:03d} Drift Busters", table_number=table,
                      project=f"Real-time drift detection and retraining pipeline number {table}",
                      members=[(f"Student {table}-{i} Okafor-Łukasiewicz", f"s{table}.{i}@students.example.edu")
                               for i in range(3)])
        for number in range(max(1, teams // 4)):
            save_judge(event, None, name=f"Judge {number} Hopper", email=f"judge{number}@example.com",
                       affiliation="Google Cloud")
        db.session.commit()
        return app, event.id


def _naive(batch) -> float:
    """One HTML(...).write_pdf() per page, parsing the stylesheet every time."""
    from flask import render_template
    from weasyprint import CSS, HTML

    from expo_app.documents.render import PAPER_SIZES, PRINT_CSS, STATIC_BASE, StaticOnlyFetcher

    width, height = PAPER_SIZES[batch.paper]
    page_css = f"@page {{ size: {width} {height}; }}\n@page landscape {{ size: {height} {width}; }}\n"
    per_page = batch.kind.per_page
    started = time.perf_counter()
    for start in range(0, len(batch.items), per_page):
        fetcher = StaticOnlyFetcher()
        html = render_template(batch.kind.template, paper=batch.paper,
                               **{**batch.context(), "items": batch.items[start:start + per_page]})
        HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher).write_pdf(
            stylesheets=[CSS(url=STATIC_BASE + PRINT_CSS, url_fetcher=fetcher), CSS(string=page_css)])
    return time.perf_counter() - started


def run_case(kind: str, teams: int, mode: str) -> dict:
    from expo_app.documents.batches import build_batch
    from expo_app.documents.store import render_batch
    from expo_app.extensions import db
    from expo_app.models import Event

    app, event_id = _seed(teams)
    with app.app_context():
        batch = build_batch(db.session.get(Event, event_id), kind)
        db.session.commit()
        if mode == "batch":
            result = render_batch(batch)
            seconds, pages, size = result.seconds, result.pages, len(result.pdf)
        else:
            seconds, pages, size = _naive(batch), batch.pages, 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "teams": teams, "mode": mode, "pages": pages, "seconds": seconds, "peak_mb": peak_mb,
            "pdf_kb": size / 1024}


def _in_child(kind: str, teams: int, mode: str) -> dict:
    env = {**os.environ, "EXPO_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-docs-instance-")}
    out = subprocess.run([sys.executable, __file__, "--case", kind, str(teams), mode], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 teams only")
    parser.add_argument("--no-naive", action="store_true", help="skip the page-at-a-time baseline")
    parser.add_argument("--case", nargs=3, metavar=("KIND", "TEAMS", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, teams, mode = args.case
        print(json.dumps(run_case(kind, int(teams), mode)))
        return 0

    sizes = (20,) if args.quick else (20, 200)
    print(f"{'document':<15}{'teams':>6}{'pages':>7} | {'batch s':>8}{'pages/s':>9}{'peak MB':>9}{'PDF KB':>8} |"
          f" {'naive s':>8}{'pages/s':>9}{'peak MB':>9} | {'speed-up':>8}")
    failures = []
    for teams in sizes:
        for kind in KINDS:
            fast = _in_child(kind, teams, "batch")
            slow = None if args.no_naive else _in_child(kind, teams, "naive")
            line = (f"{kind:<15}{teams:>6}{fast['pages']:>7} | {fast['seconds']:>8.2f}"
                    f"{fast['pages'] / fast['seconds']:>9.1f}{fast['peak_mb']:>9.0f}{fast['pdf_kb']:>8.0f} |")
            if slow:
                line += (f" {slow['seconds']:>8.2f}{slow['pages'] / slow['seconds']:>9.1f}{slow['peak_mb']:>9.0f} |"
                         f" {slow['seconds'] / fast['seconds']:>7.1f}x")
            print(line, flush=True)
            goal = GOALS.get((kind, teams))
            if goal is not None and fast["seconds"] >= goal:
                failures.append(f"{kind} at {teams} teams took {fast['seconds']:.1f} s (goal < {goal:.0f} s)")
            if fast["peak_mb"] >= MEMORY_GOAL_MB:
                failures.append(f"{kind} at {teams} teams peaked at {fast['peak_mb']:.0f} MB (goal < {MEMORY_GOAL_MB} MB)")
            for (goal_kind, goal_teams), limit in GOALS.items():
                if (goal_kind, goal_teams) == (kind, teams) and fast["seconds"] < limit:
                    print(f"  PASS {fast['pages']} {kind} in {fast['seconds']:.1f} s (goal < {limit:.0f} s)")
    if failures:
        for failure in failures:
            print("FAIL", failure)
        return 1
    print(f"PASS every batch under {MEMORY_GOAL_MB} MB peak" + ("" if args.quick else "; both speed goals met"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
