"""Checks that Lantern's gap API and DuckDB give the same gaps to every gap question, in the same order.

Usage: compare_gaps.py ADDR TOKEN GAP_QUESTIONS DUCKDB_GAP_ANSWERS.json

Both sides break every tie (state, county, service type, population), so the order is total and the
lists must be equal row for row. On a difference it says whether the same rows came in another order
and whether Lantern's order keeps to the rank key, then exits 1.
"""
import json
import sys
import urllib.request

FIELDS = ("state", "county", "service", "population", "cases", "resources")


def rank_key(g):
    """Lantern's rank, smaller first: no resource first, then cases per resource, then cases."""
    per = g["cases"] / g["resources"] if g["resources"] else float(g["cases"])
    return (g["resources"] != 0, -per, -g["cases"])


def main():
    addr, token, questions, answers = sys.argv[1:5]
    paths = [line.strip() for line in open(questions) if line.strip()]
    expected = json.load(open(answers))
    if len(expected) != len(paths):
        sys.exit(f"{answers} holds {len(expected)} answers for {len(paths)} questions")
    bad = rows = 0
    for path, exp in zip(paths, expected):
        req = urllib.request.Request(f"http://{addr}{path}", headers={"Authorization": f"Bearer {token}"})
        got = json.load(urllib.request.urlopen(req))
        mine = [tuple(g[f] for f in FIELDS) for g in got["gaps"]]
        theirs = [tuple(g[f] for f in FIELDS) for g in exp["gaps"]]
        rows += len(mine)
        if mine != theirs or got.get("total") != exp["total"]:
            bad += 1
            if bad <= 5:
                keys = [rank_key(g) for g in got["gaps"]]
                ordered = all(a <= b for a, b in zip(keys, keys[1:]))
                print(f"DIFFERENT {path}: lantern {len(mine)} of {got.get('total')}, "
                      f"duckdb {len(theirs)} of {exp['total']}; same rows in any order: "
                      f"{sorted(mine, key=repr) == sorted(theirs, key=repr)}; lantern's order ranked: {ordered}")
                for i, (a, b) in enumerate(zip(mine, theirs)):
                    if a != b:
                        print(f"  first difference at row {i}:\n    lantern {a}\n    duckdb  {b}")
                        break
    print(json.dumps({"what": "gaps", "questions": len(paths), "same_answers": len(paths) - bad,
                      "rows_compared": rows}))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
