#!/usr/bin/env python3
"""Makes the opinion-analysis fixtures (issue 15) with numpy and scikit-learn.

Run from this folder:  pip install numpy scikit-learn && python3 generate.py
Each fixture is a vote matrix with planted camps and what numpy / scikit-learn compute from it.
The Swift tests read the JSON files; they never run Python.
"""
import json
import numpy as np
from sklearn.decomposition import PCA
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

Z90 = 1.2815515655446004
CHOICE = {1: "agree", -1: "disagree", 0: "pass"}


def planted(name, seed, participants, statements, camps, groups, missing, few, noise):
    """Votes of `camps` camps with opposite leanings; configured groups correlate with camps."""
    rng = np.random.RandomState(seed)
    leaning = rng.choice([-1, 1], size=(camps, statements))
    leaning[:, 0] = 1  # one statement everyone agrees on: the consensus
    camp = np.sort(rng.randint(0, camps, size=participants))
    votes = []
    rows = []
    for i in range(participants):
        row = []
        for j in range(statements):
            r = rng.rand()
            if r < missing:
                row.append(None)
            elif r < missing + noise:
                row.append(int(rng.choice([-1, 0, 1])))
            else:
                row.append(int(leaning[camp[i], j]))
        if i < few:  # a few who voted on too little to count
            row = [row[0] if row[0] is not None else 1] + [None] * (statements - 1)
        rows.append(row)
        group = groups[(camp[i] + (1 if rng.rand() < 0.2 else 0)) % len(groups)] if groups else None
        if groups and rng.rand() < 0.1:
            group = None
        votes.append({"id": "p%d" % i, "group": group, "votes": [None if v is None else CHOICE[v] for v in row]})
    return {"name": name, "statements": [{"id": "s%d" % (j + 1), "text": "Stelling %d" % (j + 1)} for j in range(statements)],
            "configured_groups": groups, "participants": votes}, rows


def expected(fixture, rows):
    s = len(fixture["statements"])
    minimum = max(1, min(3, s))
    keep = [i for i, r in enumerate(rows) if sum(v is not None for v in r) >= minimum]
    m = np.array([[np.nan if v is None else float(v) for v in rows[i]] for i in keep])
    means = np.array([np.nanmean(c) if not np.all(np.isnan(c)) else 0.0 for c in m.T])
    imputed = np.where(np.isnan(m), means, m)
    centred = imputed - imputed.mean(axis=0)
    pca = PCA(n_components=2, svd_solver="full").fit(imputed)
    components = pca.components_.copy()
    for c in components:  # the sign rule: the largest absolute loading is positive
        if c[np.argmax(np.abs(c))] < 0:
            c *= -1
    projection = centred @ components.T
    n = len(keep)
    out = {"analysed": [fixture["participants"][i]["id"] for i in keep], "minimum_votes": minimum,
           "x": projection[:, 0].tolist(), "y": projection[:, 1].tolist(),
           "explained_variance": pca.explained_variance_ratio_.tolist()}
    labels = None
    if n >= 10:
        best = None
        for k in range(2, 6):
            if k >= n:
                continue
            km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(projection)
            score = silhouette_score(projection, km.labels_)
            if best is None or score > best[0]:
                best = (score, k, km.labels_)
        labels = best[2]
        # Camps in order of size, then centre x, then centre y (as the Swift code names them).
        ids = sorted(set(labels.tolist()), key=lambda c: (-np.sum(labels == c), projection[labels == c, 0].mean(),
                                                           projection[labels == c, 1].mean()))
        rank = {c: r for r, c in enumerate(ids)}
        labels = np.array([rank[c] for c in labels])
        out["labels"] = labels.tolist()
        out["silhouette"] = float(silhouette_score(projection, labels))
    out.update(figures(fixture, keep, imputed, labels))
    return out


def figures(fixture, keep, imputed, labels):
    """Everything that depends on the partition, computed from the raw votes."""
    statements = fixture["statements"]
    groups = fixture["configured_groups"]
    people = [fixture["participants"][i] for i in keep]
    value = {"agree": 1, "disagree": -1, "pass": 0}
    votes = [[None if v is None else value[v] for v in p["votes"]] for p in people]
    g = 0 if labels is None else int(labels.max()) + 1

    def count(j, members):
        a = sum(1 for i in members if votes[i][j] == 1)
        d = sum(1 for i in members if votes[i][j] == -1)
        p = sum(1 for i in members if votes[i][j] == 0)
        return a, d, p

    everyone = range(len(people))
    camps = [[i for i in everyone if labels[i] == c] for c in range(g)]
    present = [name for name in groups if any(p["group"] == name for p in people)]
    by_configured = {name: [i for i in everyone if people[i]["group"] == name] for name in groups}
    rows = []
    for j, statement in enumerate(statements):
        a, d, p = count(j, everyone)
        row = {"id": statement["id"], "agree": a, "disagree": d, "pass": p, "voters": a + d + p,
               "divisiveness": None if a + d == 0 else 1 - abs(a - d) / (a + d)}
        row["group_consensus"] = None if g == 0 else float(np.prod([(count(j, m)[0] + 1) / (sum(count(j, m)) + 2) for m in camps]))
        row["configured_group_consensus"] = None if not present else float(
            np.prod([(count(j, by_configured[name])[0] + 1) / (sum(count(j, by_configured[name])) + 2) for name in present]))
        rows.append(row)
    opinion = []
    for c in range(g):
        inside = camps[c]
        outside = [i for i in everyone if labels[i] != c]
        candidates = []
        for j, statement in enumerate(statements):
            ai, di, pi = count(j, inside)
            ao, do, po = count(j, outside)
            vi, vo = ai + di + pi, ao + do + po
            for order, (direction, si, so) in enumerate([("agree", ai, ao), ("disagree", di, do)]):
                repness = ((si + 1) / (vi + 2)) / ((so + 1) / (vo + 2))
                z = 0.0
                if vi > 0 and vo > 0:
                    p1, p2, pooled = si / vi, so / vo, (si + so) / (vi + vo)
                    variance = pooled * (1 - pooled) * (1 / vi + 1 / vo)
                    if variance > 0:
                        z = (p1 - p2) / np.sqrt(variance)
                if z > Z90 and repness > 1:
                    candidates.append((-repness, -z, j, order,
                                       {"statement": statement["id"], "direction": direction, "repness": repness,
                                        "z": float(z), "share": si / vi}))
        candidates.sort(key=lambda t: t[:4])
        by_group = {}
        for name in groups:
            members = by_configured[name]
            n_in = sum(1 for i in members if labels[i] == c)
            by_group[name] = {"count": n_in, "share": None if not members else n_in / len(members)}
        opinion.append({"id": chr(65 + c), "size": len(inside), "by_group": by_group,
                        "representative": [t[4] for t in candidates[:3]]})
    return {"statements": rows, "opinion_groups": opinion}


def main():
    specs = [
        ("planted-three-camps", 15, 90, 12, 3, ["Gemeente", "Provincie", "Rijk"], 0.15, 4, 0.08),
        ("planted-two-camps", 7, 40, 8, 2, ["Gemeente", "Rijk"], 0.1, 2, 0.05),
        ("planted-four-camps", 21, 160, 20, 4, ["Gemeente", "Provincie", "Waterschap", "Rijk"], 0.2, 5, 0.1),
        ("too-few-for-camps", 3, 9, 5, 2, [], 0.1, 1, 0.1),
    ]
    for name, seed, n, s, camps, groups, missing, few, noise in specs:
        fixture, rows = planted(name, seed, n, s, camps, groups, missing, few, noise)
        fixture["expected"] = expected(fixture, rows)
        with open(name + ".json", "w") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        e = fixture["expected"]
        print(name, "analysed", len(e["analysed"]), "camps", len(e["opinion_groups"]), "silhouette", e.get("silhouette"))


if __name__ == "__main__":
    main()
