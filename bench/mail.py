"""E-mail throughput: queue N judge invitations, deliver them to a local SMTP server (aiosmtpd on
127.0.0.1), and check that each arrived exactly once.

    .venv/bin/python bench/mail.py                      # 600 messages, SQLite in a temporary folder
    .venv/bin/python bench/mail.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail
    .venv/bin/python bench/mail.py --rate 10            # at the default MAIL_RATE

The invitation is the heaviest message (text, HTML and a PNG QR code of the judge's link). The
worker runs in this process's main thread, the SMTP server in another thread: the worker's own
CPU time is measured apart from the process's. With --database the tables are created there and
dropped at the end: give it an empty database of its own, never one that holds an expo.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import click  # noqa: E402

from tests.smtp_server import SmtpServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: SQLite in a temporary folder)")
    parser.add_argument("--rate", type=float, default=0, help="MAIL_RATE, messages a second (0: no limit)")
    parser.add_argument("--batch", type=int, default=20, help="MAIL_BATCH")
    parser.add_argument("--goal", type=float, default=30.0, help="seconds the whole delivery may take")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="expo-bench-mail-")
    os.environ["EXPO_INSTANCE_PATH"] = folder
    from expo_app import create_app
    from expo_app.admin.operations import change_scoring_state, create_event
    from expo_app.extensions import db
    from expo_app.mail import worker
    from expo_app.mail.operations import queue_judge_invitations
    from expo_app.models import Judge

    server = SmtpServer().start()
    url = args.database or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": "https://expo.example.org",
                      "MAIL_URL": server.url(), "MAIL_FROM": "Bench <bench@example.org>", "MAIL_RATE": args.rate,
                      "MAIL_BATCH": args.batch})
    try:
        with app.app_context():
            db.create_all()
            event = create_event("Bench Expo")
            change_scoring_state(event, "open")
            db.session.add_all(Judge(event=event, name=f"Judge {i:04d}", email=f"judge{i:04d}@bench.example.org",
                                     affiliation="Bench") for i in range(args.messages))
            db.session.commit()
            started = time.perf_counter()
            queued = queue_judge_invitations(event).queued
            db.session.commit()
            queue_s = time.perf_counter() - started
            print(f"Queued {queued} invitations in {queue_s:.2f} s ({db.engine.dialect.name}).")

            cpu_before, thread_before = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
            started = time.perf_counter()
            with click.progressbar(length=queued, label="Delivering", show_pos=True, show_percent=True,
                                   file=sys.stderr) as bar:
                report = worker.run(once=True, progress=lambda r: bar.update(r.tried - bar.pos))
            elapsed = time.perf_counter() - started
            cpu_after, thread_after = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
            db.session.remove()
            deadline = time.monotonic() + 5
            while len(server.messages) < report.sent and time.monotonic() < deadline:
                time.sleep(0.05)
            addresses = [m["To"].addresses[0].addr_spec for m in server.messages]
            process_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
            worker_cpu = thread_after - thread_before
            print(f"Delivered {report.sent} of {queued} in {elapsed:.2f} s: {report.sent / elapsed:.1f} messages/s "
                  f"(MAIL_RATE {args.rate:g}, batch {args.batch}), {report.failed} failed, {report.retrying} to retry.")
            print(f"Received by the SMTP server: {len(addresses)}, distinct recipients {len(set(addresses))}.")
            print(f"CPU: worker {worker_cpu:.2f} s ({worker_cpu / report.sent * 1000:.1f} ms a message, "
                  f"{worker_cpu / elapsed:.2f} cores), whole process with the SMTP server {process_cpu:.2f} s "
                  f"({process_cpu / elapsed:.2f} cores); the machine has {os.cpu_count()} cores.")
            ok = report.sent == queued == len(addresses) == len(set(addresses)) and elapsed <= args.goal
            print(("MET" if ok else "NOT MET") + f": all {queued} exactly once within {args.goal:g} s.")
            if args.database:
                db.drop_all()
            return 0 if ok else 1
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    threading.current_thread().name = "worker"
    raise SystemExit(main())
