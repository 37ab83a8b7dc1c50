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


METRICS_TOKEN = secrets.token_urlsafe(24)
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
STALE_COUNT = 1234


def _stale_metrics(folder: Path) -> None:
    """What a server killed before this one would leave: its workers' files, with counts in them."""
    code = ("from prometheus_client import Counter; "
            "Counter('expo_http_requests_total', 'x', ['method', 'endpoint', 'status'])"
            f".labels('GET', 'stale.endpoint', '200').inc({STALE_COUNT})")
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
                   check=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {**os.environ, "EXPO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(40),
           "DATABASE_URL": f"sqlite:///{folder / 'expo.sqlite'}", "EXPO_INSTANCE_PATH": str(folder),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SESSION_COOKIE_SECURE": "0",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"), "METRICS_TOKEN": METRICS_TOKEN}
    env.pop("REDIS_URL", None)
    env.pop("METRICS_PUBLIC", None)
    subprocess.run([str(Path(sys.executable).with_name("expo")), "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    (folder / "metrics").mkdir(exist_ok=True)  # `expo init-db` has written its own files there already
    _stale_metrics(folder / "metrics")
    stale = sorted(path.name for path in (folder / "metrics").iterdir())
    assert stale and all(name.endswith(".db") for name in stale)
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
    yield {"base": base, "process": process, "log": folder / "gunicorn.log", "port": port,
           "metrics_dir": folder / "metrics", "stale": stale}
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
    before = _count(_get(base, "/metrics", SCRAPE)[2], "platform.healthz")
    for _ in range(40):
        assert _get(base, "/healthz")[0] == 200
    # Whichever worker answers /metrics, the count is the whole server's.
    counts = {_count(_get(base, "/metrics", SCRAPE)[2], "platform.healthz") for _ in range(6)}
    assert counts == {before + 40}
    workers = _workers(server["process"].pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(set(_workers(server["process"].pid)) - {workers[0]}) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _get(base, "/healthz")[0] == 200
    # The dead worker's counts stay in the sum (counters are not lost with it).
    assert _count(_get(base, "/metrics", SCRAPE)[2], "platform.healthz") == before + 41


def test_stale_metrics_files_are_removed_when_the_server_starts(server):
    """Files a killed server left in PROMETHEUS_MULTIPROC_DIR were summed into /metrics (issue 16)."""
    present = {path.name for path in server["metrics_dir"].iterdir()}
    assert not present & set(server["stale"])
    text = _get(server["base"], "/metrics", SCRAPE)[2]
    assert "stale.endpoint" not in text and _count(text, "stale.endpoint") == 0
    assert f"Prometheus multiprocess folder {server['metrics_dir']}: {len(server['stale'])} stale file(s) removed" \
        in server["log"].read_text()


def test_metrics_need_the_token_in_production(server):
    status, _headers, body = _get(server["base"], "/metrics")
    assert status == 403 and "expo_http_requests_total" not in body
    assert _get(server["base"], "/metrics", {"Authorization": "Bearer wrong"})[0] == 403
    status, _headers, body = _get(server["base"], "/metrics", SCRAPE)
    assert status == 200 and "expo_documents_pending 0" in body


def test_the_default_metrics_folder_is_the_same_at_every_start(tmp_path):
    """Without PROMETHEUS_MULTIPROC_DIR, one folder per listening address, not a new one per start."""
    code = "import runpy, os; runpy.run_path('gunicorn.conf.py'); print(os.environ['PROMETHEUS_MULTIPROC_DIR'])"
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(TMPDIR=str(tmp_path), GUNICORN_BIND="0.0.0.0:8000")
    folders = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                              text=True).stdout.strip() for _ in range(2)}
    assert folders == {str(tmp_path / f"expo-metrics-{os.getuid()}-0-0-0-0-8000")}
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"expo-metrics-{os.getuid()}-0-0-0-0-8000"]
    assert (tmp_path / f"expo-metrics-{os.getuid()}-0-0-0-0-8000").stat().st_mode & 0o777 == 0o700


def test_the_production_config_is_what_gunicorn_serves(server):
    status, headers, _body = _get(server["base"], "/healthz")
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert len(headers["X-Request-ID"]) == 32


def _raw(port: int, request_line: str) -> bytes:
    """A request as a client may send it, unparsed (urllib would normalise or refuse it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request_line.encode() + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_the_log_is_json_lines_with_tokens_redacted(server):
    _get(server["base"], "/j/1-1-averysecrettokenvalue", headers={"X-Request-ID": "probe-1"})
    secret = "Zq8_-Xw2" * 4
    variants = [f"/j//k3mxq9rtw2hz8vna-1-{secret}", f"/J/k3mxq9rtw2hz8vna-1-{secret}",
                f"/t/../j/7-1-{secret}", "/v//123-QWERTYUPASDFGHJK", f"/f/k3mxq9rtw2hz8vna-2-{secret}",
                f"/admin/login?next=%2Fj%2F7-1-{secret}"]
    for i, path in enumerate(variants):
        assert _raw(server["port"], f"GET {path} HTTP/1.1\r\nX-Request-ID: variant-{i}").startswith(b"HTTP/1.1 ")
    # A malformed request line: gunicorn itself logs it ("Invalid request from ip=…").
    assert _raw(server["port"], f"GET /j/9-1-{secret} HTTP/1.1 trailing-junk").startswith(b"HTTP/1.1 400")
    time.sleep(0.5)
    text = server["log"].read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("logger") == "expo.access" and entry.get("request_id") == "probe-1"]
    assert access and access[0]["path"] == "/j/[redacted]" and access[0]["status"] == 404
    paths = {entry["request_id"]: entry["path"] for entry in lines
             if entry.get("logger") == "expo.access" and str(entry.get("request_id")).startswith("variant-")}
    assert paths == {"variant-0": "/j//[redacted]", "variant-1": "/J/[redacted]", "variant-2": "/t/../j/[redacted]",
                     "variant-3": "/v//[redacted]", "variant-4": "/f/[redacted]", "variant-5": "/admin/login"}
    assert [entry["message"] for entry in lines if entry.get("logger") == "gunicorn.error"
            and "Invalid request" in entry["message"]]
    assert "averysecrettokenvalue" not in text
    assert secret not in text and "QWERTYUPASDFGHJK" not in text
    assert not [line for line in server["log"].read_text().splitlines() if line.strip() and not line.startswith("{")]
