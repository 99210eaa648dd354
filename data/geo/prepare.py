"""Throwaway: turns the npm package us-atlas 3.0.1 into the shipped map geometry.
Get the package with `npm pack us-atlas@3.0.1` and untar it, then run from this folder:
  python3 prepare.py PKG > us-states-albers.tsv
  python3 prepare.py --counties PKG ../census/county-population.tsv > us-counties-albers.tsv
The first turns states-albers-10m.json (and Puerto Rico from states-10m.json) into one path per state;
the second turns counties-albers-10m.json into one path per county (see SOURCE.md)."""
import json, sys, math

USPS = {"01":"AL","02":"AK","04":"AZ","05":"AR","06":"CA","08":"CO","09":"CT","10":"DE","11":"DC","12":"FL",
"13":"GA","15":"HI","16":"ID","17":"IL","18":"IN","19":"IA","20":"KS","21":"KY","22":"LA","23":"ME","24":"MD",
"25":"MA","26":"MI","27":"MN","28":"MS","29":"MO","30":"MT","31":"NE","32":"NV","33":"NH","34":"NJ","35":"NM",
"36":"NY","37":"NC","38":"ND","39":"OH","40":"OK","41":"OR","42":"PA","44":"RI","45":"SC","46":"SD","47":"TN",
"48":"TX","49":"UT","50":"VT","51":"VA","53":"WA","54":"WV","55":"WI","56":"WY","72":"PR"}

def decode(topo):
    sx, sy = topo["transform"]["scale"]; tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0; pts = []
        for dx, dy in arc:
            x += dx; y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs

def ring(arcs, idx):
    pts = []
    for i in idx:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts

def polys(g):
    if g["type"] == "Polygon":
        return [g["arcs"]]
    if g["type"] == "MultiPolygon":
        return g["arcs"]
    return []

def simplify(pts, tol):
    if len(pts) < 4:
        return pts
    keep = [False] * len(pts); keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        (x1, y1), (x2, y2) = pts[a], pts[b]
        dx, dy = x2 - x1, y2 - y1; n = math.hypot(dx, dy)
        best, bi = -1, -1
        for i in range(a + 1, b):
            x, y = pts[i]
            d = abs(dy * (x - x1) - dx * (y - y1)) / n if n else math.hypot(x - x1, y - y1)
            if d > best:
                best, bi = d, i
        if best > tol:
            keep[bi] = True; stack += [(a, bi), (bi, b)]
    return [p for p, k in zip(pts, keep) if k]

def path(rings):
    out = []
    for r in rings:
        r = simplify(r, 0.5)
        if len(r) < 4:
            continue
        out.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in r[:-1]) + "Z")
    return "".join(out)

def states(pkg):
    albers = json.load(open(f"{pkg}/states-albers-10m.json"))
    arcs = decode(albers)
    rows = {}
    for g in albers["objects"]["states"]["geometries"]:
        rings = [ring(arcs, r) for p in polys(g) for r in p]
        rows[USPS[g["id"]]] = (g["id"], g["properties"]["name"], path(rings))

    # Puerto Rico is not in the Albers USA layout: place it as an inset below Florida, projected
    # equirectangularly at the scale of the lower 48 (about 17.5 px per degree of longitude there).
    geo = json.load(open(f"{pkg}/states-10m.json"))
    garcs = decode(geo)
    for g in geo["objects"]["states"]["geometries"]:
        if g["id"] != "72":
            continue
        rings = [ring(garcs, r) for p in polys(g) for r in p]
        k = 22.0
        lon0, lat0 = -67.3, 18.55
        proj = [[(880 + (lon - lon0) * k * math.cos(math.radians(18.2)), 585 + (lat0 - lat) * k) for lon, lat in r] for r in rings]
        rows["PR"] = ("72", g["properties"]["name"], path(proj))

    print("# usps\tfips\tname\tsvg_path (975x610 viewport; see SOURCE.md)")
    for usps in sorted(rows):
        fips, name, d = rows[usps]
        print(f"{usps}\t{fips}\t{name}\t{d}")


def simplify_arcs(arcs, tol):
    """Simplifies every arc once, keeping its two ends, so two counties that share a border still
    share exactly the same points after simplification (no slivers or gaps between neighbours)."""
    return [simplify(a, tol) if len(a) > 2 else a for a in arcs]


def counties(pkg, census_tsv):
    topo = json.load(open(f"{pkg}/counties-albers-10m.json"))
    arcs = simplify_arcs(decode(topo), COUNTY_TOLERANCE)
    known = {}
    for line in open(census_tsv, encoding="utf-8"):
        if line.startswith("#"):
            continue
        fips = line.split("\t", 1)[0]
        known[fips] = True
    out = []
    for g in topo["objects"]["counties"]["geometries"]:
        fips = g["id"]
        if fips not in known:
            sys.exit(f"county {fips} ({g['properties']['name']}) has a shape but no Census population row")
        rings = [ring(arcs, r) for p in polys(g) for r in p]
        d = "".join(
            "M" + "L".join(f"{x:.2f},{y:.2f}" for x, y in dedup(r)[:-1]) + "Z"
            for r in rings
            if len(dedup(r)) >= 4
        )
        if not d:
            # Too small to have an area at 1:10,000,000 (us-atlas keeps it as a line): no shape.
            print(f"note: county {fips} ({g['properties']['name']}) has no area; left out", file=sys.stderr)
            continue
        out.append((fips, USPS[fips[:2]], d))
    missing = set(known) - {f for f, _, _ in out}
    print("# fips\tusps\tsvg_path (975x610 Albers USA viewport, as us-states-albers.tsv; see SOURCE.md)")
    for fips, usps, d in sorted(out):
        print(f"{fips}\t{usps}\t{d}")
    if missing:
        print(f"note: {len(missing)} Census counties have no shape: {sorted(missing)}", file=sys.stderr)


def dedup(r):
    """The ring's points rounded as written, with repeats dropped."""
    out = []
    for x, y in r:
        p = (round(x, 2), round(y, 2))
        if not out or out[-1] != p:
            out.append(p)
    return out


COUNTY_TOLERANCE = float(__import__("os").environ.get("TOL", "0.1"))

if sys.argv[1] == "--counties":
    counties(sys.argv[2], sys.argv[3])
else:
    states(sys.argv[1])
