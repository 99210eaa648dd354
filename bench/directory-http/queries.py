"""Writes realistic directory searches, one JSON body per line, for the HTTP benchmark.

Reads the services at locations of a running server's HSDS API (NDJSON on stdin) and, like the in-process
benchmark, asks from a point within about 10 km of a real location, with a radius of 10 to 150 km, one or
two service types, one population, one language, open now. Deterministic for a given seed.

    python3 queries.py SEED COUNT < service_at_locations.ndjson > queries.ndjson
"""
import json
import random
import sys

TYPES = [
    "emergency_shelter", "long_term_housing", "legal_services", "immigration_legal", "medical_care",
    "mental_health_counseling", "substance_use_treatment", "case_management", "employment_training",
    "education", "basic_needs", "transportation", "interpretation", "child_welfare",
    "domestic_violence_services", "sexual_assault_services", "youth_services", "lgbtq_services",
    "labor_rights", "crisis_line", "financial_assistance", "repatriation",
]
POPULATIONS = ["adults", "minors", "women", "men", "foreign_nationals", "sex_trafficking_survivors",
               "labor_trafficking_survivors"]
LANGUAGES = ["en", "en", "en", "es", "es", "zh", "vi"]


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    points = []
    for line in sys.stdin:
        if not line.strip():
            continue
        loc = json.loads(line).get("location") or {}
        if loc.get("latitude") is not None and loc.get("longitude") is not None:
            points.append((loc["latitude"], loc["longitude"]))
    if not points:
        sys.exit("no located services in the input")
    for _ in range(count):
        lat, lng = rng.choice(points)
        q = {
            "lat": round(lat + rng.uniform(-0.09, 0.09), 5),
            "lng": round(lng + rng.uniform(-0.09, 0.09), 5),
            "radius_km": rng.choice([10, 25, 50, 80, 150]),
            "service_types": rng.sample(TYPES, 2 if rng.random() < 0.3 else 1),
            "populations": [rng.choice(POPULATIONS)],
            "languages": [rng.choice(LANGUAGES)],
            "open_now": True,
        }
        print(json.dumps(q))


if __name__ == "__main__":
    main()
