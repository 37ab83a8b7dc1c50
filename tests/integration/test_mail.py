"""E-mail against a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL: what each
message holds, idempotent queuing, a server that goes down, a worker killed mid-batch, two workers."""
from __future__ import annotations

import logging
import time
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from expo_app.admin.operations import change_scoring_state, reissue_badge
from expo_app.extensions import db
from expo_app.links import judge_sign_in_url
from expo_app.mail import worker
from expo_app.mail.messages import qr_png
from expo_app.mail.operations import queue_judge_invitations
from expo_app.models import Event, Judge, OutboxMessage, utcnow
from tests.smtp_server import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "MAIL_URL": smtp.url(), "MAIL_FROM": "MLOps Expo <expo@uni.example.edu>", "MAIL_RATE": 0,
            "MAIL_MAX_ATTEMPTS": 3, "MAIL_BACKOFF_S": 30, "MAIL_TIMEOUT_S": 5}


def _invite(runner, *extra):
    return runner.invoke(args=["mail", "invite-judges", *extra])


def _send(runner):
    return runner.invoke(args=["mail", "send", "--once"])


def _judges(app, demo) -> dict[str, dict]:
    """Every demo judge's e-mail -> name, current link and token."""
    with app.app_context():
        judges = [db.session.get(Judge, judge_id) for judge_id in demo["judges"]]
        return {j.email: {"name": j.name, "url": judge_sign_in_url(j), "id": j.id} for j in judges}


def _rows(app) -> list[dict]:
    with app.app_context():
        return [{"to": r.to_address, "kind": r.kind, "status": r.status, "attempts": r.attempts,
                 "last_error": r.last_error, "version": r.version}
                for r in db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def _parts(message):
    """The MIME tree as (content type, children) for the structure check."""
    if message.is_multipart():
        return (message.get_content_type(), [_parts(part) for part in message.iter_parts()])
    return message.get_content_type()


def test_each_judge_gets_their_own_link_in_text_html_and_qr_code(app, demo, runner, smtp):
    result = _invite(runner)
    assert result.exit_code == 0, result.output
    assert "Judge invitations for MLOps Innovation Expo (demo): 6 messages queued." in result.output
    assert smtp.messages == []  # the request (here the command) only queues
    result = _send(runner)
    assert result.exit_code == 0, result.output
    assert "6 sent, 0 failed, 0 to try again later." in result.output
    judges = _judges(app, demo)
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.messages) == sorted(judges)
    for message in smtp.messages:
        assert _parts(message) == ("multipart/alternative", [
            "text/plain", ("multipart/related", ["text/html", "image/png"])])
        me = judges[message["To"].addresses[0].addr_spec]
        assert message["To"].addresses[0].display_name == me["name"]
        assert message["From"] == "MLOps Expo <expo@uni.example.edu>"
        assert message["Subject"] == "You are invited to judge at MLOps Innovation Expo (demo)"
        assert message["Message-ID"].startswith("<expo-mail-") and message["Message-ID"].endswith("@uni.example.edu>")
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        image = next(part for part in message.walk() if part.get_content_type() == "image/png")
        assert me["url"] in text and f'href="{me["url"]}"' in html
        assert "10 December 2026" in text and "Curry Student Center Ballroom" in html
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html and "http" not in html.split(f'src="cid:{cid}"')[0].rsplit("<img", 1)[-1]
        assert image.get_content() == qr_png(me["url"])  # the QR code is of this judge's own link
        for other in judges.values():  # nobody else's link, anywhere in the message
            if other is not me:
                assert other["url"].rsplit("/", 1)[1] not in message.as_string()
    rows = _rows(app)
    assert {(r["status"], r["attempts"], r["last_error"]) for r in rows} == {("sent", 1, "")}


def test_the_outbox_holds_no_link_and_the_log_shows_none(app, demo, runner, smtp, caplog):
    _invite(runner)
    with caplog.at_level(logging.DEBUG):
        assert _send(runner).exit_code == 0
    tokens = [j["url"].rsplit("/", 1)[1] for j in _judges(app, demo).values()]
    ours = [record for record in caplog.records if not record.name.startswith("mail.log")]  # not the test server's
    logged = "\n".join(record.getMessage() + repr(vars(record)) for record in ours)
    assert "mail" in logged and not any(token in logged for token in tokens)
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                assert not any(token in repr(tuple(row)) for token in tokens)


def test_inviting_twice_queues_nothing_new_unless_resend(app, demo, runner, smtp):
    _invite(runner)
    assert "0 messages queued; 6 already waiting to be sent." in _invite(runner).output  # a double click
    _send(runner)
    assert "0 messages queued; 6 already invited." in _invite(runner).output
    assert "0 sent" in _send(runner).output and len(smtp.messages) == 6
    assert "6 messages queued." in _invite(runner, "--resend").output
    _send(runner)
    assert len(smtp.messages) == 12
    assert sorted({m["Message-ID"] for m in smtp.messages}) == sorted(m["Message-ID"] for m in smtp.messages)


def test_a_reissued_badge_is_invited_again_with_the_new_link_saying_the_old_one_stopped(app, demo, runner, smtp):
    _invite(runner)
    _send(runner)
    before = _judges(app, demo)
    with app.app_context():
        judge = db.session.get(Judge, demo["judges"][2])
        reissue_badge(judge)  # queues the new invitation itself: the judge was invited by e-mail
        db.session.commit()
        address = judge.email
    assert "0 messages queued; 5 already invited; 1 already waiting to be sent." in _invite(runner).output
    _send(runner)
    newest = smtp.messages[-1]
    text = newest.get_body(("plain",)).get_content()
    assert newest["To"].addresses[0].addr_spec == address
    assert newest["Subject"] == "Your new judge link for MLOps Innovation Expo (demo)"
    assert _judges(app, demo)[address]["url"] in text and before[address]["url"] not in newest.as_string()
    assert "The link in an earlier e-mail, and on any badge printed before, no longer works" in text


def test_a_badge_reissued_while_its_invitation_waits_goes_out_once_with_the_current_link(app, demo, runner, smtp):
    _invite(runner)
    with app.app_context():
        judge = db.session.get(Judge, demo["judges"][0])
        reissue_badge(judge)
        db.session.commit()
        address = judge.email
    assert "0 messages queued; 6 already waiting to be sent." in _invite(runner).output
    _send(runner)
    mine = [m for m in smtp.messages if m["To"].addresses[0].addr_spec == address]
    assert len(mine) == 1 and _judges(app, demo)[address]["url"] in mine[0].get_body(("plain",)).get_content()
    assert {r["version"] for r in _rows(app) if r["to"] == address} == {2}


def test_a_withdrawn_badge_or_a_removed_judge_is_not_sent_and_says_why(app, demo, runner, smtp, client, auth):
    _invite(runner)
    with app.app_context():
        from expo_app.admin.operations import delete_judge, set_badge_withdrawn

        set_badge_withdrawn(db.session.get(Judge, demo["judges"][0]), True)
        delete_judge(db.session.get(Judge, demo["judges"][1]))
        db.session.commit()
    assert "4 sent, 2 failed" in _send(runner).output
    reasons = sorted(r["last_error"] for r in _rows(app) if r["status"] == "failed")
    assert reasons == ["the judge was removed: not sent",
                       "the judge's badge is withdrawn, so the link would not work: not sent"]
    assert "1 skipped: badge withdrawn" in _invite(runner).output


def test_a_refused_recipient_fails_at_once_with_the_servers_reason(app, demo, runner, smtp):
    judges = _judges(app, demo)
    refused = sorted(judges)[0]
    smtp.recorder.refuse.add(refused)
    _invite(runner)
    assert "5 sent, 1 failed, 0 to try again later." in _send(runner).output
    row = next(r for r in _rows(app) if r["to"] == refused)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"] == "the server refused the recipient: 550 5.1.1 No such user here"


def test_server_down_queued_failed_with_the_reason_then_delivered_once_it_returns(app, demo, runner, smtp):
    smtp.stop()
    _invite(runner)
    result = _send(runner)
    assert result.exit_code == 1 and "0 sent, 0 failed, 6 to try again later." in result.output
    assert f"cannot reach the mail server 127.0.0.1:{smtp.port}: connection refused" in result.output
    rows = _rows(app)
    assert {(r["status"], r["attempts"]) for r in rows} == {("queued", 1)}
    assert {r["last_error"] for r in rows} == {f"cannot reach the mail server 127.0.0.1:{smtp.port}: connection refused"}
    with app.app_context():  # the backoff: the next try is 27-33 s away (MAIL_BACKOFF_S 30, ±10 %)
        waits = [(r.next_attempt_at - utcnow()).total_seconds() for r in db.session.execute(
            db.select(OutboxMessage)).scalars()]
        assert all(20 < wait <= 33 for wait in waits)
        assert worker.claim_batch("probe", 10) == []  # not due yet: the worker's loop leaves them
    _send(runner)
    _send(runner)  # MAIL_MAX_ATTEMPTS = 3
    rows = _rows(app)
    assert {(r["status"], r["attempts"]) for r in rows} == {("failed", 3)}
    assert rows[0]["last_error"] == f"gave up after 3 attempts: cannot reach the mail server 127.0.0.1:{smtp.port}: connection refused"
    smtp.start()
    assert "0 sent" in _send(runner).output  # failed for good: only the organiser queues them again
    with app.app_context():
        from expo_app.mail.operations import retry_failed

        assert retry_failed(db.session.get(Event, demo["event"])) == 6
        db.session.commit()
    assert "6 sent, 0 failed" in _send(runner).output
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.messages) == sorted(_judges(app, demo))
    assert {(r["status"], r["last_error"]) for r in _rows(app)} == {("sent", "")}
    assert "0 sent" in _send(runner).output and len(smtp.messages) == 6  # nothing doubled


def test_a_server_back_before_the_last_attempt_gets_the_queued_messages(app, demo, runner, smtp):
    smtp.stop()
    _invite(runner)
    _send(runner)
    smtp.start()
    assert "6 sent" in _send(runner).output
    assert {(r["status"], r["attempts"]) for r in _rows(app)} == {("sent", 2)}
    assert len(smtp.messages) == 6


def test_a_worker_killed_mid_batch_leaves_its_messages_to_the_next_worker_after_the_lease(app, demo, runner, smtp):
    _invite(runner)
    with app.app_context():
        dead = worker.claim_batch("a-worker-that-died", 3)  # claimed, then the process was killed
    assert len(dead) == 3
    assert "3 sent" in _send(runner).output  # the others; the dead worker's claims hold for their lease
    with app.app_context():
        held = db.session.execute(db.select(OutboxMessage.id).where(OutboxMessage.status == "sending")).scalars().all()
        assert sorted(held) == dead
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(dead))  # the lease runs out
                           .values(claimed_at=utcnow() - timedelta(seconds=app.config["MAIL_LEASE_S"] + 1)))
        db.session.commit()
    assert "3 sent" in _send(runner).output
    rows = _rows(app)
    assert sorted(r["attempts"] for r in rows) == [1, 1, 1, 2, 2, 2] and {r["status"] for r in rows} == {"sent"}
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.messages) == sorted(_judges(app, demo))


def test_a_worker_whose_lease_ran_out_does_not_send_what_another_took_over(app, demo, smtp):
    with app.app_context():
        queue_judge_invitations(db.session.get(Event, demo["event"]))
        db.session.commit()
        slow = worker.claim_batch("slow-worker", 10)
        taken = worker.claim_batch("second-worker", 10, lease_s=-1)  # the slow one's lease ran out
        assert taken == slow
        report = worker.Report()
        transport = worker.make_transport(app)
        assert worker.deliver_one(slow[0], "slow-worker", transport, report) == "dropped"
        assert worker.renew("slow-worker", slow) == []
        transport.close()
    assert smtp.messages == []


def _many_judges(app, demo, count):
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for i in range(count):
            db.session.add(Judge(event=event, name=f"Guest Judge {i:02d}", email=f"guest{i:02d}@judges.example.com"))
        queue_judge_invitations(event)
        db.session.commit()


def test_two_workers_at_once_never_send_a_message_twice(app, demo, smtp):
    _many_judges(app, demo, 34)
    app.config["MAIL_BATCH"] = 4
    reports, errors = [], []

    def work():
        try:
            with app.app_context():
                reports.append(worker.run(once=True))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    addresses = [m["To"].addresses[0].addr_spec for m in smtp.messages]
    assert len(addresses) == 40 and len(set(addresses)) == 40
    assert sum(r.sent for r in reports) == 40
    assert {(r["status"], r["attempts"]) for r in _rows(app)} == {("sent", 1)}


# --- team members: the feedback is out, then the certificates ----------------------------------

@pytest.fixture
def scored(app, demo):
    """Judges 0-2 scored teams 0-2; scoring closed (feedback is released after the expo)."""
    from expo_app.judging.operations import SheetInput, submit_score
    from expo_app.models import Team

    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j in range(3):
            for t in range(3):
                submit_score(db.session.get(Judge, demo["judges"][j]), db.session.get(Team, demo["teams"][t]),
                             SheetInput(values={c.id: 5 - t for c in event.criteria}, comment=f"Well done {t}"), "test")
        change_scoring_state(event, "closed")
        db.session.commit()
    return demo


def _members(app, demo) -> dict[str, dict]:
    from expo_app.links import feedback_url
    from expo_app.models import Team

    with app.app_context():
        return {m.email: {"name": m.name, "team": t.name, "url": feedback_url(t), "member_id": m.id}
                for t in (db.session.get(Team, team_id) for team_id in demo["teams"]) for m in t.members}


def _release(app, demo):
    from expo_app.results.feedback import release_feedback

    with app.app_context():
        release_feedback(db.session.get(Event, demo["event"]))
        db.session.commit()


def _finalise(app, demo):
    from expo_app.results.operations import accept_suggestions, finalise_awards
    from expo_app.results.queries import award_suggestions

    with app.app_context():
        event = db.session.get(Event, demo["event"])
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "admin: test")
        db.session.flush()
        finalise_awards(event, "admin: test", award_suggestions(event))
        db.session.commit()


def test_team_notices_are_refused_before_the_release(app, scored, runner, smtp):
    result = runner.invoke(args=["mail", "teams"])
    assert result.exit_code == 1
    assert "The feedback is not released yet: release it on the Feedback page first" in result.output
    assert _rows(app) == []


def test_every_member_gets_their_own_teams_feedback_link_then_their_certificates(app, scored, runner, smtp, client):
    _release(app, scored)
    members = _members(app, scored)
    result = runner.invoke(args=["mail", "teams"])
    assert f"Team notices for MLOps Innovation Expo (demo): {len(members)} messages queued." in result.output
    assert f"{len(members)} sent" in _send(runner).output
    for message in smtp.messages:
        me = members[message["To"].addresses[0].addr_spec]
        text = message.get_body(("plain",)).get_content()
        assert _parts(message) == ("multipart/alternative", ["text/plain", ("multipart/related", ["text/html"])]) \
            or _parts(message) == ("multipart/alternative", ["text/plain", "text/html"])
        assert message["Subject"] == f"{me['team']}: your feedback from MLOps Innovation Expo (demo) is ready"
        assert me["url"] in text and f'href="{me["url"]}"' in message.get_body(("html",)).get_content()
        assert "certificate" not in text.lower()  # the awards are not final yet
        for other in {m["url"] for m in members.values()} - {me["url"]}:
            assert other not in message.as_string()
        assert client.get(me["url"].removeprefix("https://expo.example.org")).status_code == 200
    assert "0 messages queued" in runner.invoke(args=["mail", "teams"]).output  # told already

    _finalise(app, scored)
    result = runner.invoke(args=["mail", "teams"])
    assert f"{len(members)} messages queued" in result.output and "certificates issued so that their links work" in result.output
    smtp.recorder.messages.clear()
    assert f"{len(members)} sent" in _send(runner).output
    anonymous = app.test_client()
    for number, message in enumerate(smtp.messages):
        me = members[message["To"].addresses[0].addr_spec]
        text = message.get_body(("plain",)).get_content()
        assert message["Subject"] == "Your certificate from MLOps Innovation Expo (demo)"
        pdf = [line.split(": ", 1)[1] for line in text.splitlines() if "/certificates/" in line]
        verify = [line.split(" at ", 1)[1] for line in text.splitlines() if "/v/" in line]
        assert pdf and len(pdf) == len(verify)
        for url in pdf:
            assert url.startswith(me["url"] + "/certificates/")
            if number < 2:  # rendering every PDF would take long; the links are all made alike
                assert anonymous.get(url.removeprefix("https://expo.example.org")).mimetype == "application/pdf"
        for url in verify:
            page = anonymous.get(url.removeprefix("https://expo.example.org")).get_data(as_text=True)
            assert "Valid certificate" in page and me["name"] in page
    assert "0 messages queued" in runner.invoke(args=["mail", "teams"]).output


def test_a_notice_queued_after_the_awards_carries_the_certificates_in_one_message(app, scored, runner, smtp):
    _release(app, scored)
    _finalise(app, scored)
    members = _members(app, scored)
    runner.invoke(args=["mail", "teams"])
    _send(runner)
    assert len(smtp.messages) == len(members)
    assert all("Participation: https://" in m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert "0 messages queued" in runner.invoke(args=["mail", "teams"]).output
    with app.app_context():
        assert {r.includes_certificates for r in db.session.execute(db.select(OutboxMessage)).scalars()} == {True}


def test_names_are_escaped_in_html_and_kept_on_one_line_in_text(app, demo, runner, smtp):
    with app.app_context():
        judge = db.session.get(Judge, demo["judges"][0])
        judge.name = 'Ada <b>"Bold"</b> & Co\nhttps://evil.example/j/fake Click here'
        event = db.session.get(Event, demo["event"])
        event.name = "Expo <script>alert(1)</script>"
        db.session.commit()
        address = judge.email
    _invite(runner)
    _send(runner)
    message = next(m for m in smtp.messages if m["To"].addresses[0].addr_spec == address)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<b>" not in html and "<script>" not in html
    assert "Ada &lt;b&gt;&#34;Bold&#34;&lt;/b&gt; &amp; Co https://evil.example/j/fake Click here" in html
    assert "Dear Ada <b>\"Bold\"</b> & Co https://evil.example/j/fake Click here," in text  # one line, as typed
    assert message["Subject"] == "You are invited to judge at Expo <script>alert(1)</script>"
    assert message["To"].addresses[0].display_name.startswith('Ada <b>"Bold"</b> & Co https://evil')


def test_without_mail_url_messages_are_eml_files_in_the_instance_folder(app, demo, runner, smtp):
    import os
    from pathlib import Path

    app.config["MAIL_URL"] = None
    _invite(runner)
    result = _send(runner)
    assert "6 sent" in result.output and smtp.messages == []
    folder = Path(app.instance_path) / "mail"
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 6 and oct(folder.stat().st_mode & 0o777) == "0o700"
    assert {oct(os.stat(f).st_mode & 0o777) for f in files} == {"0o600"}
    from email import message_from_bytes, policy

    judges = _judges(app, demo)
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert judges[message["To"].addresses[0].addr_spec]["url"] in message.get_body(("plain",)).get_content()
    for path in files:
        path.unlink()


def test_status_prints_csv_of_every_message(app, demo, runner, smtp):
    judges = _judges(app, demo)
    refused = sorted(judges)[1]
    smtp.recorder.refuse.add(refused)
    _invite(runner)
    _send(runner)
    result = runner.invoke(args=["mail", "status"])
    lines = result.stdout.splitlines()
    assert lines[0] == "to,kind,status,attempts,last_error" and len(lines) == 7
    assert f"{refused},judge_invitation,failed,1,the server refused the recipient: 550 5.1.1 No such user here" in lines
    assert f"{sorted(judges)[0]},judge_invitation,sent,1," in lines


# --- TLS and login ----------------------------------------------------------------------------

@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for localhost, trusted through SSL_CERT_FILE."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_starttls_and_login_deliver_and_the_password_shows_nowhere(app, demo, runner, certificate, monkeypatch, caplog):
    import ssl

    from tests.smtp_server import accept_login

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    secure = SmtpServer(hostname="localhost", tls_context=context, require_starttls=True,
                        authenticator=accept_login("expo", "s3cret-pass:word"), auth_require_tls=True,
                        auth_exclude_mechanism=["LOGIN"]).start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        app.config["MAIL_URL"] = f"smtp://expo:s3cret-pass%3Aword@localhost:{secure.port}"
        _invite(runner)
        with caplog.at_level(logging.INFO):
            result = _send(runner)
        assert "6 sent" in result.output, result.output
        assert f"Sending to smtp://expo@localhost:{secure.port} (STARTTLS)" in result.output
        assert len(secure.messages) == 6
        app.config["MAIL_URL"] = f"smtp://expo:wrong@localhost:{secure.port}"
        _invite(runner, "--resend")
        result = _send(runner)
        assert result.exit_code == 1 and "localhost refused the login of expo (check MAIL_URL): 535" in result.output
        assert "wrong" not in result.output and "s3cret" not in result.output
        assert not any("s3cret" in r.getMessage() or "wrong" in r.getMessage() for r in caplog.records)
        assert {r["last_error"][:45] for r in _rows(app) if r["status"] == "queued"} == {
            "localhost refused the login of expo (check MA"}
    finally:
        secure.stop()


def test_a_server_without_starttls_is_refused_not_sent_in_the_clear(app, demo, runner, smtp):
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{smtp.port}"  # STARTTLS asked for; the server has none
    _invite(runner)
    result = _send(runner)
    assert result.exit_code == 1 and smtp.messages == []
    assert f"127.0.0.1:{smtp.port} does not offer STARTTLS; MAIL_URL asks for it" in result.output


@pytest.mark.parametrize("url, problem", [
    ("http://mail.example.org", "MAIL_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), not http://."),
    ("smtp://user:pw@mail.example.org:1025?tls=none", "tls=none would send the password in the clear"),
    ("smtp://mail.example.org?tls=maybe", "tls= is starttls (the default) or none."),
    ("smtps://", "MAIL_URL names no host"),
])
def test_a_mail_url_that_cannot_work_stops_the_worker_with_the_reason(app, runner, url, problem):
    app.config["MAIL_URL"] = url
    result = _send(runner)
    assert result.exit_code == 1 and problem in result.output and "pw" not in result.output.replace(problem, "")


def test_production_refuses_to_run_the_worker_without_mail_url(app, runner):
    app.config.update(MAIL_URL=None, ENV_NAME="production")
    result = _send(runner)
    assert result.exit_code == 1 and "MAIL_URL is not set: in production the worker needs an SMTP server" in result.output


# --- two worker processes ----------------------------------------------------------------------

def test_two_worker_processes_at_once_send_each_message_once(app, demo, smtp, tmp_path):
    """`expo mail send --once` twice at the same moment, as two pods would run it."""
    import os
    import subprocess
    import sys

    _many_judges(app, demo, 54)
    env = {**os.environ, "EXPO_ENV": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "PUBLIC_BASE_URL": "https://expo.example.org",
           "MAIL_URL": smtp.url(), "MAIL_FROM": "expo@uni.example.edu", "MAIL_RATE": "0", "MAIL_BATCH": "3",
           "EXPO_INSTANCE_PATH": str(tmp_path)}
    expo = os.path.join(os.path.dirname(sys.executable), "expo")
    workers = [subprocess.Popen([expo, "mail", "send", "--once"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    sent = [int(out.split(" sent")[0].split()[-1]) for out, _err in outputs]
    assert sum(sent) == 60
    addresses = [m["To"].addresses[0].addr_spec for m in smtp.messages]
    assert len(addresses) == 60 and len(set(addresses)) == 60
    assert {(r["status"], r["attempts"]) for r in _rows(app)} == {("sent", 1)}


def test_the_running_worker_delivers_what_is_queued_while_it_runs_and_stops_when_told(app, demo, smtp):
    app.config.update(MAIL_POLL_S=0.05, MAIL_RATE=50)
    stop = threading.Event()
    reports = []

    def work():
        with app.app_context():
            reports.append(worker.run(once=False, stop=stop))
            db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    try:
        with app.app_context():
            queue_judge_invitations(db.session.get(Event, demo["event"]))
            db.session.commit()
        deadline = time.monotonic() + 20
        while len(smtp.messages) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive() and reports[0].sent == 6 and len(smtp.messages) == 6


def test_the_rate_limit_spaces_the_messages(app, demo, smtp):
    app.config["MAIL_RATE"] = 20  # 6 messages: at least 5 gaps of 50 ms
    with app.app_context():
        queue_judge_invitations(db.session.get(Event, demo["event"]))
        db.session.commit()
        started = time.monotonic()
        assert worker.run(once=True).sent == 6
        assert time.monotonic() - started >= 0.25


def test_reissuing_the_badge_of_a_judge_never_e_mailed_queues_nothing(app, demo, smtp):
    with app.app_context():
        reissue_badge(db.session.get(Judge, demo["judges"][0]))
        db.session.commit()
    assert _rows(app) == []


def test_a_reissued_feedback_link_reaches_the_members_told_by_e_mail(app, scored, runner, smtp):
    from expo_app.admin.operations import reissue_feedback_link
    from expo_app.links import feedback_url
    from expo_app.models import Team

    _release(app, scored)
    runner.invoke(args=["mail", "teams"])
    _send(runner)
    with app.app_context():
        team = db.session.get(Team, scored["teams"][0])
        old_url = feedback_url(team)
        reissue_feedback_link(team)
        db.session.commit()
        new_url, size = feedback_url(team), len(team.members)
    before = len(smtp.messages)
    assert f"{size} sent" in _send(runner).output
    fresh = smtp.messages[before:]
    assert len(fresh) == size
    for message in fresh:
        text = message.get_body(("plain",)).get_content()
        assert new_url in text and old_url not in message.as_string()
        assert "This link replaces your team's earlier one" in text
    assert "0 messages queued" in runner.invoke(args=["mail", "teams"]).output
