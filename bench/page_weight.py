"""What the judge's phone downloads for the scoring page: the HTML and every file it loads, gzipped.

Budget (issue 9): under 40 KB gzipped, with nothing from another host. The page measured is the
demo expo's scoring form (4 criteria, 5 described levels each) for a judge with a saved sheet, as
served to a signed-in judge. Files are gzipped at level 6 (what nginx and most servers use).

    python bench/page_weight.py
"""
from __future__ import annotations

import gzip
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET = 40 * 1024


def scoring_page_weight():
    """[(what, raw bytes, gzipped bytes)] for the scoring page and everything it loads, and any
    address on another host (must be none)."""
    from expo_app import create_app
    from expo_app.auth.operations import judge_token
    from expo_app.demo import seed_demo_event
    from expo_app.extensions import db

    folder = tempfile.mkdtemp(prefix="bench-weight-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/weight.sqlite", "WTF_CSRF_ENABLED": False,
                      "PUBLIC_BASE_URL": "https://expo.example.org", "SECRET_KEY": "bench-secret-" + "x" * 32})
    with app.app_context():
        db.create_all()
        event = seed_demo_event("bench@example.org", "a-long-password-123", with_scores=False)
        db.session.commit()
        judge, team = event.judges[0], sorted(event.teams, key=lambda t: t.table_number)[0]
        sign_in, page_url = f"/j/{judge_token(judge)}", f"/t/{team.code}"
        sheet = {f"criterion_{c.id}": str(c.scale_max) for c in event.criteria}
    client = app.test_client()
    client.post(sign_in)
    client.post(page_url, data={**sheet, "comment": "Clear demo; show the drift alert firing live next time."})
    html = client.get(page_url).get_data()
    rows = [("scoring page HTML", html)]
    text = html.decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', text)
    foreign = re.findall(r'(?:href|src)="((?:https?:)?//[^"]+)"', text)
    for path in assets:
        rows.append((path, client.get(path).get_data()))
    return [(what, len(body), len(gzip.compress(body, compresslevel=6))) for what, body in rows], foreign


def main() -> int:
    rows, foreign = scoring_page_weight()
    width = max(len(what) for what, _r, _g in rows)
    print(f"{'file':<{width}}  {'raw':>8}  {'gzip':>8}")
    for what, raw, packed in rows:
        print(f"{what:<{width}}  {raw:>8,}  {packed:>8,}")
    raw_total, gzip_total = sum(r for _w, r, _g in rows), sum(g for _w, _r, g in rows)
    print(f"{'total':<{width}}  {raw_total:>8,}  {gzip_total:>8,}")
    verdict = "PASS" if gzip_total < BUDGET and not foreign else "FAIL"
    print(f"{verdict}: {gzip_total / 1024:.1f} KB gzipped (budget {BUDGET // 1024} KB); "
          f"addresses on another host: {len(foreign)}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
