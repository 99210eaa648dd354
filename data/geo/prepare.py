"""Throwaway: turns us-atlas's states-albers-10m.json (and Puerto Rico from states-10m.json) into
us-states-albers.tsv. Run: python3 prepare.py PATH_TO_UNPACKED_us-atlas_PACKAGE > us-states-albers.tsv
(get the package with `npm pack us-atlas@3.0.1` and untar it)."""
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

pkg = sys.argv[1]
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
