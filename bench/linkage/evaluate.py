"""Pair and cluster precision/recall/F1 of predicted pairs (CSV id_l,id_r) against truth columns.

usage: evaluate.py PAIRS.csv TRUTH.csv [TRUTH_B.csv]
Cluster metrics count every pair inside a predicted cluster (connected components of the pairs).
"""
import csv
import sys
from collections import defaultdict
from itertools import combinations

pairs_path, *truth_paths = sys.argv[1:]
link = len(truth_paths) == 2
truth = {}
for side, path in zip("ab", truth_paths):
    with open(path) as f:
        for row in csv.DictReader(f):
            truth[(side if link else "a", row["rec_id"])] = row["cluster"]


def key(side, rid):
    return (side, rid)


pred = set()
with open(pairs_path) as f:
    for row in csv.DictReader(f):
        a, b = row["id_l"], row["id_r"]
        if link:
            ka, kb = ("a", a), ("b", b)
            if ka not in truth:
                ka, kb = ("a", b), ("b", a)
        else:
            ka, kb = ("a", a), ("a", b)
        pred.add(tuple(sorted([ka, kb])))


def true_pairs():
    groups = defaultdict(list)
    for k, c in truth.items():
        groups[c].append(k)
    out = set()
    for members in groups.values():
        for x, y in combinations(sorted(members), 2):
            if link and x[0] == y[0]:
                continue
            out.add((x, y))
    return out


def prf(predicted, actual):
    tp = len(predicted & actual)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(actual) if actual else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


parent = {}


def find(x):
    while parent.get(x, x) != x:
        parent[x] = parent.get(parent[x], parent[x])
        x = parent[x]
    return x


for a, b in pred:
    ra, rb = find(a), find(b)
    if ra != rb:
        parent[ra] = rb
clusters = defaultdict(list)
for k in set(x for p in pred for x in p):
    clusters[find(k)].append(k)
cluster_pairs = set()
for members in clusters.values():
    for x, y in combinations(sorted(members), 2):
        if link and x[0] == y[0]:
            continue
        cluster_pairs.add((x, y))
actual = true_pairs()
pp, pr, pf = prf(pred, actual)
cp, cr, cf = prf(cluster_pairs, actual)
print(f"pair_p={pp:.4f} pair_r={pr:.4f} pair_f1={pf:.4f} cluster_p={cp:.4f} cluster_r={cr:.4f} cluster_f1={cf:.4f}")
