"""The insights benchmark's gap baseline: the gap questions answered by DuckDB over Parquet.

Usage: duckdb_gaps.py DATA_DIR GAP_QUESTIONS RUNS [--answers OUT.json]

The same analysis as GET /api/v1/insights/gaps (crates/server/src/pages/gaps.rs, ranked as
lantern_insights::gap::gaps), from the records `insights_data load` wrote (cases, their needs, potential
victims and risk factors) and the supply the bench hotline's directory offers (offers.csv: one row per
vetted service, place, service type and population, as the server counts them), converted to Parquet
first (not timed). Each question is one SQL query:
- a case's populations, as lantern_domain::population::populations_of derives them: each potential
  victim's gender (woman → women, man → men, transgender_nonconforming → transgender_nonbinary and
  lgbtq), age (under 18 → minors, else adults; the CTDC band when the age is unknown) and nationality
  (US → us_citizens, any other → foreign_nationals); the form (sex, labor, both → sex or labor
  trafficking survivors); the risk factors lgbtq and disability;
- its needs (each service type once), in its state (county null) and again in its county when known;
- cases per (state, county, service type, population) joined to the vetted services counted there;
- filtered like the API (state, form, service, population), ranked like gaps(): no resource first, then
  cases per resource (cases when none), then cases, descending; ties by state, county (null first),
  service type and population in the codes' order (codes.csv); the first `limit` rows and the total.
Prints one JSON line per run: median and p99 milliseconds per question.
"""
import os
import sys

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from duckdb_bench import TABLES, convert, run  # noqa: E402

# As the API's `limit` (crates/server/src/api/gaps.rs).
DEFAULT_LIMIT = 1000

GAP_TABLES = {
    "cases": TABLES["cases"],
    "case_needs": ("case_id BIGINT, service VARCHAR", "\\N"),
    # An unknown age is an empty field: read as NULL.
    "victims": ("case_id BIGINT, gender VARCHAR, age BIGINT, age_band VARCHAR, nationality VARCHAR", ""),
    "case_risks": ("case_id BIGINT, risk_factor VARCHAR", "\\N"),
    "offers": ("service_id VARCHAR, state VARCHAR, county VARCHAR, service VARCHAR, population VARCHAR", "\\N"),
}

AGE_BANDS = ["0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+"]
MINOR_BANDS = ["0-8", "9-17"]


def lit(values):
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def make_types(con, data):
    """ENUM types giving each code kind the order the gap analysis breaks ties in."""
    kinds = {}
    with open(os.path.join(data, "codes.csv")) as f:
        next(f)
        for line in f:
            kind, code, ord_ = line.rstrip("\n").split(",")
            kinds.setdefault(kind, []).append((int(ord_), code))
    for kind, codes in kinds.items():
        con.execute(f"DROP TYPE IF EXISTS {kind}_t")
        con.execute(f"CREATE TYPE {kind}_t AS ENUM ({lit([c for _, c in sorted(codes)])})")


def sql_for(params):
    """The query answering one gap question: rows (state, county, service, population, cases,
    resources, total)."""
    def eq(col, name):
        return f" AND {col} = '{params[name]}'" if name in params else ""
    limit = int(params.get("limit", DEFAULT_LIMIT))
    return f"""
WITH base AS (
  SELECT case_id, state, county, form FROM cases
  WHERE state IS NOT NULL AND state <> ''{eq('state', 'state')}{eq('form', 'form')}
), pops AS (
  SELECT case_id, CASE gender WHEN 'woman' THEN 'women' WHEN 'man' THEN 'men'
                  ELSE 'transgender_nonbinary' END AS population
    FROM victims WHERE gender IN ('woman', 'man', 'transgender_nonconforming')
  UNION ALL SELECT case_id, 'lgbtq' FROM victims WHERE gender = 'transgender_nonconforming'
  UNION ALL SELECT case_id,
      CASE WHEN age BETWEEN 0 AND 4294967295 THEN (CASE WHEN age < 18 THEN 'minors' ELSE 'adults' END)
           WHEN age_band IN ({lit(MINOR_BANDS)}) THEN 'minors' ELSE 'adults' END
    FROM victims WHERE age BETWEEN 0 AND 4294967295 OR age_band IN ({lit(AGE_BANDS)})
  UNION ALL SELECT case_id, CASE WHEN upper(trim(nationality)) = 'US' THEN 'us_citizens'
                            ELSE 'foreign_nationals' END
    FROM victims WHERE trim(nationality) <> ''
  UNION ALL SELECT case_id, 'sex_trafficking_survivors' FROM base WHERE form IN ('sex', 'sex_and_labor')
  UNION ALL SELECT case_id, 'labor_trafficking_survivors' FROM base WHERE form IN ('labor', 'sex_and_labor')
  UNION ALL SELECT case_id, CASE risk_factor WHEN 'lgbtq' THEN 'lgbtq' ELSE 'people_with_disabilities' END
    FROM case_risks WHERE risk_factor IN ('lgbtq', 'disability')
), case_pops AS (
  SELECT DISTINCT case_id, population FROM pops WHERE true{eq('population', 'population')}
), case_services AS (
  SELECT DISTINCT case_id, service FROM case_needs WHERE true{eq('service', 'service')}
), places AS (
  SELECT case_id, state, NULL::VARCHAR AS county FROM base
  UNION ALL SELECT case_id, state, county FROM base WHERE county <> ''
), need AS (
  SELECT state, county, service, population, count(*) AS cases
  FROM places JOIN case_services USING (case_id) JOIN case_pops USING (case_id)
  GROUP BY ALL
), supply AS (
  SELECT state, NULLIF(county, '') AS county, service, population, count(*) AS resources
  FROM offers GROUP BY ALL
), gap AS (
  SELECT n.state, n.county, n.service, n.population, n.cases, coalesce(s.resources, 0) AS resources
  FROM need n LEFT JOIN supply s
    ON s.state = n.state AND s.county IS NOT DISTINCT FROM n.county
   AND s.service = n.service AND s.population = n.population
)
SELECT state, county, service, population, cases, resources, count(*) OVER () AS total FROM gap
ORDER BY resources = 0 DESC,
         cases::DOUBLE / (CASE WHEN resources = 0 THEN 1 ELSE resources END) DESC,
         cases DESC, state::state_t, county NULLS FIRST, service::service_t, population::population_t
LIMIT {limit}"""


def answer(con, params):
    rows = con.execute(sql_for(params)).fetchall()
    total = rows[0][6] if rows else 0
    return {"total": total, "gaps": [
        {"state": r[0], "county": r[1], "service": r[2], "population": r[3], "cases": r[4],
         "resources": r[5]} for r in rows]}


def main():
    data, questions, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--answers" else None
    con = duckdb.connect()
    convert(con, data, GAP_TABLES)
    make_types(con, data)
    run(con, answer, questions, runs, out, {"tool": "duckdb", "what": "gaps"})


if __name__ == "__main__":
    main()
