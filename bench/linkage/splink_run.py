"""Runs Splink (DuckDB) on one benchmark data set and writes predicted pairs as CSV.

usage: splink_run.py febrl3|febrl4|people DATA_DIR OUT.csv default|capped CONFIG.toml
Throwaway tooling for the linkage benchmark; run by run.sh inside its own venv.

The comparisons and the blocking rules for predictions are read from the same Lantern TOML that
`lantern link` uses, so both tools compare the same columns and score the same candidate pairs.
Each Lantern kind maps to Splink's nearest standard comparison with Splink's own default levels
(names: NameComparison, codes and dates: Levenshtein 1/2, addresses and business names:
Jaro-Winkler 0.9/0.7, phones and exact fields: exact match), term-frequency adjustments where the
TOML asks for them. Values get the cleaning Lantern does before comparing: trimmed, lower-cased,
dates as YYYYMMDD, phones as their last 10 digits. Everything else is Splink's default; "capped"
only caps the pairs EM samples (max_pairs=2e5).
"""
import re
import sys
import tomllib

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

name, data, out, mode, config = sys.argv[1:6]
max_pairs = 2e5 if mode == "capped" else None
with open(config, "rb") as f:
    cfg = tomllib.load(f)


def clean_phone(p):
    if not isinstance(p, str):
        return None
    d = re.sub(r"\D", "", p)
    return d[-10:] if len(d) >= 6 else None


def clean_text(s):
    if not isinstance(s, str):
        return None
    t = " ".join(s.lower().split())
    return t or None


DATE = re.compile(r"^\s*(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})\s*$|^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")


def clean_date(s):
    if not isinstance(s, str):
        return None
    m = DATE.match(s)
    if not m:
        return clean_text(s)
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(5), m.group(4))
    return f"{y}{int(mo):02d}{int(d):02d}"


def comparison(field):
    col, kind, tf = field["column"], field["kind"], field.get("tf", False)
    if kind == "name":
        c = cl.NameComparison(col)
    elif kind in ("code", "date", "age"):
        c = cl.LevenshteinAtThresholds(col, [1, 2])
    elif kind in ("address", "business"):
        c = cl.JaroWinklerAtThresholds(col, [0.9, 0.7])
    else:
        c = cl.ExactMatch(col)
    return c.configure(term_frequency_adjustments=True) if tf else c


def rule(terms):
    parts = []
    for t in terms:
        m = re.fullmatch(r"(\w+)\[\.\.(\d+)\]", t)
        if m:
            parts.append(f"substr(l.{m[1]},1,{m[2]}) = substr(r.{m[1]},1,{m[2]})")
        else:
            parts.append(f"l.{t} = r.{t}")
    return " and ".join(parts)


def load(path):
    df = pd.read_csv(path, dtype=str).drop(columns=["cluster"])
    for f in cfg["field"]:
        clean = {"phone": clean_phone, "date": clean_date}.get(f["kind"], clean_text)
        df[f["column"]] = df[f["column"]].map(clean)
    return df


if name == "febrl3":
    dfs = [load(f"{data}/febrl3.csv")]
    link_type = "dedupe_only"
    em_rules = [block_on("date_of_birth"), block_on("given_name", "surname")]
elif name == "febrl4":
    dfs = [load(f"{data}/febrl4a.csv"), load(f"{data}/febrl4b.csv")]
    link_type = "link_only"
    em_rules = [block_on("date_of_birth"), block_on("given_name", "surname")]
else:
    dfs = [load(f"{data}/people.csv")]
    link_type = "dedupe_only"
    em_rules = [block_on("dob"), block_on("first_name", "surname")]
uid = "rec_id"

settings = SettingsCreator(
    link_type=link_type,
    unique_id_column_name=uid,
    comparisons=[comparison(f) for f in cfg["field"]],
    blocking_rules_to_generate_predictions=[rule(b["on"]) for b in cfg["blocking"]],
    retain_intermediate_calculation_columns=False,
    retain_matching_columns=False,
)
db = DuckDBAPI()
linker = Linker([db.register(d) for d in dfs], settings)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
for r in em_rules:
    linker.training.estimate_parameters_using_expectation_maximisation(r, max_pairs=max_pairs)
pred = linker.inference.predict(threshold_match_probability=cfg.get("threshold", 0.9))
df = pred.as_pandas_dataframe()
df = df[[f"{uid}_l", f"{uid}_r", "match_probability"]]
df.columns = ["id_l", "id_r", "match_probability"]
df.to_csv(out, index=False)
