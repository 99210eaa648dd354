#!/bin/sh
# Throwaway preparation of zips.tsv.gz from the PyPI package `zipcodes` (MIT). Run from this folder.
# Creates its own venv in a temp dir; writes zips.tsv.gz (zip, lat, lng, city, state, county, timezone).
set -eu
VERSION=3.0.0
TMP=$(mktemp -d)
python3 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install -q "zipcodes==$VERSION"
"$TMP/venv/bin/python" - <<'PY' | gzip -9n > zips.tsv.gz
import zipcodes
rows = sorted(zipcodes.list_all(), key=lambda z: z["zip_code"])
print("zip\tlat\tlng\tcity\tstate\tcounty\ttimezone")
for z in rows:
    if not z.get("active") or not z.get("lat") or not z.get("long"):
        continue
    fields = [z["zip_code"], z["lat"], z["long"], z["city"], z["state"], z["county"] or "", z["timezone"] or ""]
    print("\t".join(f.replace("\t", " ") for f in fields))
PY
rm -rf "$TMP"
