"""The dashboard questions of the insights benchmark, as request paths of GET /api/v1/insights/summary.

Deterministic: a mix of what the dashboard asks (headline totals, each breakdown) under the filters an
analyst uses (a year or a quarter, a state, a form). Usage: questions.py N > questions.txt
"""
import random
import sys
from urllib.parse import urlencode

GROUPS = [None, "month", "state", "form", "typology", "channel", "signaler_type", "outcome", "case_status"]
STATES = ["CA", "TX", "FL", "NY", "GA", "OH", "NV", "WA", "IL", "MI"]
FORMS = ["sex", "labor", "sex_and_labor", "not_specified"]
RANGES = [(None, None), ("2023-01", "2023-12"), ("2024-01", "2024-12"), ("2025-01", "2025-12"),
          ("2024-04", "2024-06"), ("2025-07", "2025-09"), ("2023-06", None), (None, "2024-03")]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    r = random.Random(2026)
    for _ in range(n):
        q = []
        frm, to = r.choice(RANGES)
        if frm:
            q.append(("from", frm))
        if to:
            q.append(("to", to))
        if r.random() < 0.35:
            q.append(("state", r.choice(STATES)))
        if r.random() < 0.25:
            q.append(("form", r.choice(FORMS)))
        g = r.choice(GROUPS)
        if g:
            q.append(("group_by", g))
        print("/api/v1/insights/summary" + ("?" + urlencode(q) if q else ""))


if __name__ == "__main__":
    main()
