"""The demo expo that `expo seed-demo` creates: enough to try every page on a fresh install."""
from __future__ import annotations

import random
from datetime import date

from .admin.operations import change_scoring_state, create_event, save_judge, save_team
from .auth.operations import create_or_reset_admin
from .judging.operations import SheetInput, judge_actor, submit_score
from .models import Event

DEMO_TEAMS = [
    ("Drift Busters", "Real-time data drift detection for a card-fraud model"),
    ("Pipeline Pilots", "Reproducible retraining pipeline on Vertex AI with TFX"),
    ("Feature Forge", "A feature store with point-in-time correct training data"),
    ("Canary Crew", "Canary and shadow deployments for a recommender on GKE"),
    ("Latency Llamas", "Serving an LLM classifier under 50 ms p99 with autoscaling"),
    ("MLflow Mavericks", "Experiment tracking and model registry for clinical NLP"),
    ("Airflow Architects", "Daily batch scoring for retail demand with data validation"),
    ("Kube Kittens", "Kubernetes-native hyperparameter search on spot instances"),
    ("Monitor Lizards", "Prometheus and Grafana monitoring of model quality and cost"),
    ("Bias Bouncers", "Fairness checks as a CI gate for a loan-approval model"),
    ("Edge Runners", "On-device model updates with federated evaluation"),
    ("Data Detectives", "Great Expectations data contracts for a streaming pipeline"),
]
DEMO_FIRST = ["Aisha", "Ben", "Chen", "Dana", "Emeka", "Fatima", "Gabriel", "Hana", "Ivan", "Jia", "Kofi", "Lena",
              "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yusuf"]
DEMO_LAST = ["Okafor", "Smith", "Wang", "Levi", "Mensah", "Haddad", "Silva", "Sato", "Petrov", "Li", "Boateng",
             "Fischer", "Garcia", "Khan", "Ali", "Patel", "Murphy", "Lopez", "Nguyen", "Reddy"]
# (name, affiliation, leniency in scale points): some judges are lenient, some harsh.
DEMO_JUDGES = [
    ("Katherine Johnson", "Google Cloud", +0.8),
    ("Edsger Dijkstra", "Faculty", -0.9),
    ("Grace Hopper", "Google Cloud", 0.0),
    ("Alan Kay", "Industry guest", +0.4),
    ("Frances Allen", "Faculty", -0.3),
    ("Ken Thompson", "Industry guest", +0.1),
]


def seed_demo_event(admin_email: str, admin_password: str, with_scores: bool = False, seed: int = 7) -> Event:
    """Create the demo admin and the demo expo (open for scoring); optionally let the judges score."""
    rng = random.Random(seed)
    create_or_reset_admin(admin_email, admin_password)
    event = create_event("MLOps Innovation Expo (demo)", held_on=date(2026, 12, 10),
                         venue="Curry Student Center Ballroom", judges_per_team=3)
    event.instructor_name, event.instructor_title = "Prof. Jordan Rivera", "Instructor, Graduate MLOps course"
    people = iter(rng.sample([(f, l) for f in DEMO_FIRST for l in DEMO_LAST], 4 * len(DEMO_TEAMS)))
    for table, (name, project) in enumerate(DEMO_TEAMS, start=1):
        members = []
        for _ in range(rng.choice([2, 3, 3, 4])):
            first, last = next(people)
            members.append((f"{first} {last}", f"{first}.{last}@students.example.edu".lower()))
        save_team(event, None, name=name, project=project, table_number=table, members=members)
    for name, affiliation, _leniency in DEMO_JUDGES:
        save_judge(event, None, name=name, email=name.lower().replace(" ", ".") + "@judges.example.com",
                   affiliation=affiliation)
    change_scoring_state(event, "open")
    if with_scores:
        _fill_scores(event, rng)
    return event


def _fill_scores(event: Event, rng: random.Random) -> None:
    """Each judge scores a band of neighbouring tables, as judges walking the hall do."""
    quality = {team.id: rng.uniform(2.0, 4.6) for team in event.teams}
    leniency = {name: lean for name, _a, lean in DEMO_JUDGES}
    teams = event.teams
    for index, judge in enumerate(event.judges):
        start = (index * len(teams)) // len(event.judges)
        for offset in range(7):
            team = teams[(start + offset) % len(teams)]
            if rng.random() < 0.04:
                submit_score(judge, team, SheetInput(values={}, absent=True), judge_actor(judge))
                continue
            values = {}
            for criterion in event.criteria:
                raw = quality[team.id] + leniency[judge.name] + rng.gauss(0, 0.6)
                values[criterion.id] = max(criterion.scale_min, min(criterion.scale_max, round(raw)))
            comment = rng.choice(["Clear demo and a solid pipeline.", "Great monitoring dashboards!",
                                  "Show the retraining trigger live next time.", "",
                                  "Explain how you would scale beyond one region."])
            submit_score(judge, team, SheetInput(values=values, comment=comment), judge_actor(judge))
