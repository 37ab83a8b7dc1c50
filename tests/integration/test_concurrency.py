"""Simultaneous submissions of one judge's sheet (a double tap on two phones) give one score."""
import threading

from expo_app.extensions import db
from expo_app.models import Score, ScoreAudit
from tests.conftest import AuthActions, full_sheet, team_code


def submit_in_parallel(app, demo, data, copies=6):
    """Post the same sheet from `copies` phones of the same judge at the same moment; return statuses."""
    url = f"/t/{team_code(app, demo['teams'][0])}"
    clients = []
    for _ in range(copies):
        client = app.test_client()
        AuthActions(app, client).judge(demo["judges"][0])
        clients.append(client)
    start = threading.Barrier(len(clients))
    statuses = []

    def submit(client):
        start.wait()
        statuses.append(client.post(url, data=data).status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return statuses


def test_parallel_submissions_count_once(app, demo):
    statuses = submit_in_parallel(app, demo, full_sheet(app, demo["event"], 4, comment="same sheet"))
    assert statuses == [302] * 6
    with app.app_context():
        (score,) = db.session.query(Score).all()
        assert (score.revision, sorted(v.value for v in score.values)) == (1, [4, 4, 4, 4])
        assert [a.action for a in db.session.query(ScoreAudit)] == ["created"]


def test_parallel_revisions_count_once(app, demo):
    submit_in_parallel(app, demo, full_sheet(app, demo["event"], 4), copies=1)
    statuses = submit_in_parallel(app, demo, full_sheet(app, demo["event"], 5))
    assert statuses == [302] * 6
    with app.app_context():
        (score,) = db.session.query(Score).all()
        assert (score.revision, sorted(v.value for v in score.values)) == (2, [5, 5, 5, 5])
        assert [a.action for a in db.session.query(ScoreAudit).order_by(ScoreAudit.id)] == ["created", "updated"]
