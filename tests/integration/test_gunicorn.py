"""The app as production runs it: gunicorn with gunicorn.conf.py, two workers, the production config.

Metrics must add up over workers, a killed worker must be replaced without losing the count, and
the log must be JSON lines without tokens. One server for the module (a few seconds to start).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(base: str, path: str, headers=None) -> tuple[int, dict, str]:
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {**os.environ, "EXPO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(40),
           "DATABASE_URL": f"sqlite:///{folder / 'expo.sqlite'}", "EXPO_INSTANCE_PATH": str(folder),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SESSION_COOKIE_SECURE": "0",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    env.pop("REDIS_URL", None)
    subprocess.run([str(Path(sys.executable).with_name("expo")), "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    log = open(folder / "gunicorn.log", "w+")
    process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(base, "/readyz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            log.seek(0)
            pytest.fail("gunicorn did not start:\n" + log.read()[-3000:])
        time.sleep(0.2)
    yield {"base": base, "process": process, "log": folder / "gunicorn.log"}
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def _workers(master_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def _count(text: str, endpoint: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("expo_http_requests_total{") and f'endpoint="{endpoint}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_add_up_over_workers_and_survive_a_killed_worker(server):
    base = server["base"]
    before = _count(_get(base, "/metrics")[2], "platform.healthz")
    for _ in range(40):
        assert _get(base, "/healthz")[0] == 200
    # Whichever worker answers /metrics, the count is the whole server's.
    counts = {_count(_get(base, "/metrics")[2], "platform.healthz") for _ in range(6)}
    assert counts == {before + 40}
    workers = _workers(server["process"].pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(set(_workers(server["process"].pid)) - {workers[0]}) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _get(base, "/healthz")[0] == 200
    # The dead worker's counts stay in the sum (counters are not lost with it).
    assert _count(_get(base, "/metrics")[2], "platform.healthz") == before + 41


def test_the_production_config_is_what_gunicorn_serves(server):
    status, headers, _body = _get(server["base"], "/healthz")
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert len(headers["X-Request-ID"]) == 32


def test_the_log_is_json_lines_with_tokens_redacted(server):
    _get(server["base"], "/j/1-1-averysecrettokenvalue", headers={"X-Request-ID": "probe-1"})
    time.sleep(0.5)
    lines = [json.loads(line) for line in server["log"].read_text().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("logger") == "expo.access" and entry.get("request_id") == "probe-1"]
    assert access and access[0]["path"] == "/j/[redacted]" and access[0]["status"] == 404
    assert "averysecrettokenvalue" not in server["log"].read_text()
    assert not [line for line in server["log"].read_text().splitlines() if line.strip() and not line.startswith("{")]
