"""The insights benchmark's baseline: the same dashboard questions answered by DuckDB over Parquet.

Usage: duckdb_bench.py DATA_DIR QUESTIONS RUNS [--answers OUT.json]

DATA_DIR holds the CSV written by `insights_data load`; they are converted to Parquet first (not timed).
Each question is answered from the records with one aggregate query per table it needs, exactly the
metrics the API answers (see crates/server/src/dashboard.rs, `keyed_by`): contacts and substantive
contacts from contacts, cases and potential victims from cases, typology mentions from case_typologies.
Referrals are absent from the synthetic data on both sides. The month column is precomputed in the data
(DuckDB does not have to derive it from the timestamp), which favours DuckDB.
Prints one JSON line per run: median and p99 milliseconds per question (all its queries).
"""
import json
import os
import statistics
import sys
import time
from urllib.parse import parse_qsl, urlparse

import duckdb

CONTACT_DIMS = {"month", "state", "channel", "signaler_type", "outcome"}
CASE_DIMS = {"month", "state", "form", "typology", "case_status"}


# Each table of the loader's CSV: its columns and types, and the string read as NULL.
TABLES = {
    "contacts": ("occurred_at_us BIGINT, month VARCHAR, state VARCHAR, channel VARCHAR, "
                 "signaler_type VARCHAR, category VARCHAR, outcome VARCHAR, substantive BOOLEAN", "\\N"),
    "cases": ("case_id BIGINT, opened_at_us BIGINT, month VARCHAR, state VARCHAR, form VARCHAR, "
              "case_status VARCHAR, typology VARCHAR, victims BIGINT, county VARCHAR", "\\N"),
    "case_typologies": ("case_id BIGINT, month VARCHAR, state VARCHAR, form VARCHAR, case_status VARCHAR, "
                        "typology VARCHAR", "\\N"),
}


def convert(con, data, tables=TABLES):
    """Each table's CSV to Parquet (once; not timed), and a view of the Parquet file."""
    for name, (cols, nullstr) in tables.items():
        pq = os.path.join(data, name + ".parquet")
        if not os.path.exists(pq):
            types = "{" + ", ".join(
                f"'{c.split()[0]}': '{c.split()[1]}'" for c in cols.split(", ")) + "}"
            con.execute(
                f"COPY (SELECT * FROM read_csv('{os.path.join(data, name + '.csv')}', header=true, "
                f"columns={types}, nullstr='{nullstr}')) TO '{pq}' (FORMAT parquet)")
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{pq}')")


def sql_for(params):
    """The queries answering one question: [(table, metrics, sql)]."""
    g = params.get("group_by")
    out = []
    for table, dims, metrics in [
        ("contacts", CONTACT_DIMS, [("contacts", "count(*)"),
                                    ("substantive_contacts", "count(*) FILTER (WHERE substantive)")]),
        ("cases", CASE_DIMS, [("cases", "count(*)"), ("potential_victims", "sum(victims)")]),
        ("case_typologies", CASE_DIMS, [("case_typologies", "count(*)")]),
    ]:
        if g and g not in dims:
            continue
        if "form" in params and "form" not in dims:
            continue
        where = []
        if "from" in params:
            where.append(f"month >= '{params['from']}'")
        if "to" in params:
            where.append(f"month <= '{params['to']}'")
        if "state" in params:
            where.append(f"state = '{params['state']}'")
        if "form" in params:
            where.append(f"form = '{params['form']}'")
        sel = ", ".join(f"{e} AS {m}" for m, e in metrics)
        w = (" WHERE " + " AND ".join(where)) if where else ""
        if g:
            sql = f"SELECT {g} AS k, {sel} FROM {table}{w} GROUP BY {g} ORDER BY {g}"
        else:
            sql = f"SELECT '' AS k, {sel} FROM {table}{w}"
        out.append((table, [m for m, _ in metrics], sql))
    return out


def answer(con, params):
    rows = {}
    for _, metrics, sql in sql_for(params):
        for rec in con.execute(sql).fetchall():
            k, vals = rec[0], rec[1:]
            d = rows.setdefault(k, {})
            for m, v in zip(metrics, vals):
                d[m] = int(v or 0)
    return rows


def run(con, answer, questions, runs, out, tag):
    """Answers every question once for `out` (when given), then times `runs` runs of them: one JSON
    line per run, with `tag`'s fields."""
    qs = [dict(parse_qsl(urlparse(line.strip()).query)) for line in open(questions) if line.strip()]
    for q in qs[:10]:  # warm the file cache and DuckDB's metadata
        answer(con, q)
    if out:
        with open(out, "w") as f:
            json.dump([answer(con, q) for q in qs], f)
    for n in range(1, runs + 1):
        times = []
        start = time.perf_counter()
        for q in qs:
            t = time.perf_counter()
            answer(con, q)
            times.append((time.perf_counter() - t) * 1000)
        total = time.perf_counter() - start
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(json.dumps({**tag, "run": n, "questions": len(times), "seconds": round(total, 3),
                          "p50_ms": round(statistics.median(times), 2), "p99_ms": round(p99, 2),
                          "max_ms": round(times[-1], 2), "threads": con.execute(
                              "SELECT current_setting('threads')").fetchone()[0]}))


def main():
    data, questions, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--answers" else None
    con = duckdb.connect()
    convert(con, data)
    run(con, answer, questions, runs, out, {"tool": "duckdb"})


if __name__ == "__main__":
    main()
