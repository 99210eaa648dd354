"""Runs Splink (DuckDB) on one benchmark data set and writes predicted pairs as CSV.

usage: splink_run.py febrl3|febrl4|people DATA_DIR OUT.csv default|capped
Throwaway tooling for the linkage benchmark; run by run.sh inside its own venv.
"""
import re
import sys

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

name, data, out, mode = sys.argv[1:5]
max_pairs = 2e5 if mode == "capped" else None


def clean_phone(p):
    d = re.sub(r"\D", "", str(p))
    return d[-10:] if len(d) >= 6 else None


if name.startswith("febrl"):
    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
        cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.LevenshteinAtThresholds("street_number", [1, 2]),
        cl.LevenshteinAtThresholds("postcode", [1, 2]),
        cl.NameComparison("suburb"),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
    ]
    rules = [
        block_on("given_name", "surname"),
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("postcode", "street_number"),
    ]
    em_rules = [block_on("date_of_birth"), block_on("given_name", "surname")]
    if name == "febrl3":
        dfs = [pd.read_csv(f"{data}/febrl3.csv", dtype=str).drop(columns=["cluster"])]
        link_type = "dedupe_only"
    else:
        dfs = [
            pd.read_csv(f"{data}/febrl4a.csv", dtype=str).drop(columns=["cluster"]),
            pd.read_csv(f"{data}/febrl4b.csv", dtype=str).drop(columns=["cluster"]),
        ]
        link_type = "link_only"
    uid = "rec_id"
else:
    df = pd.read_csv(f"{data}/people.csv", dtype=str).drop(columns=["cluster"])
    df["phone"] = df["phone"].map(clean_phone)
    dfs = [df]
    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.LevenshteinAtThresholds("dob", [1, 2]),
        cl.ExactMatch("phone"),
        cl.JaroWinklerAtThresholds("address", [0.9, 0.7]),
        cl.NameComparison("city"),
        cl.LevenshteinAtThresholds("postcode", [1, 2]),
    ]
    rules = [
        block_on("surname", "dob"),
        block_on("phone"),
        block_on("postcode", "dob"),
        block_on("first_name", "surname", "postcode"),
        "substr(l.first_name,1,3) = substr(r.first_name,1,3) and substr(l.surname,1,3) = substr(r.surname,1,3) and l.dob = r.dob",
    ]
    em_rules = [block_on("dob"), block_on("first_name", "surname")]
    link_type = "dedupe_only"
    uid = "rec_id"

settings = SettingsCreator(
    link_type=link_type,
    unique_id_column_name=uid,
    comparisons=comparisons,
    blocking_rules_to_generate_predictions=rules,
    retain_intermediate_calculation_columns=False,
    retain_matching_columns=False,
)
db = DuckDBAPI()
linker = Linker([db.register(d) for d in dfs], settings)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
for r in em_rules:
    linker.training.estimate_parameters_using_expectation_maximisation(r, max_pairs=max_pairs)
pred = linker.inference.predict(threshold_match_probability=0.9)
df = pred.as_pandas_dataframe()
df = df[[f"{uid}_l", f"{uid}_r", "match_probability"]]
df.columns = ["id_l", "id_r", "match_probability"]
df.to_csv(out, index=False)
