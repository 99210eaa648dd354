"""The gap questions of the insights benchmark, as request paths of GET /api/v1/insights/gaps.

Deterministic: the whole analysis, and the analysis under the filters an analyst uses (a state, a
service type, a population, a case form) alone and combined. Usage: gap_questions.py N > gap_questions.txt
"""
import random
import sys
from urllib.parse import urlencode

STATES = ["CA", "TX", "FL", "NY", "GA", "OH", "NV", "WA", "IL", "MI", "WY", "PR"]
SERVICES = ["emergency_shelter", "legal_services", "immigration_legal", "mental_health_counseling",
            "case_management", "medical_care", "long_term_housing", "interpretation", "youth_services"]
POPULATIONS = ["adults", "minors", "women", "men", "foreign_nationals", "us_citizens",
               "sex_trafficking_survivors", "labor_trafficking_survivors", "lgbtq"]
FORMS = ["sex", "labor", "sex_and_labor", "not_specified"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    r = random.Random(2027)
    for i in range(n):
        q = []
        # Every tenth question is the whole analysis, unfiltered.
        if i % 10:
            if r.random() < 0.45:
                q.append(("service", r.choice(SERVICES)))
            if r.random() < 0.35:
                q.append(("population", r.choice(POPULATIONS)))
            if r.random() < 0.3:
                q.append(("form", r.choice(FORMS)))
            if r.random() < 0.45:
                q.append(("state", r.choice(STATES)))
            if not q:
                kind, values = r.choice([("service", SERVICES), ("population", POPULATIONS),
                                         ("form", FORMS), ("state", STATES)])
                q.append((kind, r.choice(values)))
        print("/api/v1/insights/gaps" + ("?" + urlencode(q) if q else ""))


if __name__ == "__main__":
    main()
