#!/usr/bin/env python3
"""`implicit` (ALS and BPR) and LightFM on the split `vitrine eval recommender` scores.

`vitrine eval recommender --dataset {retail,ml100k} --export-split DIR` writes the exact
training pairs as `DIR/train.tsv` (user, item, weight; a weight is a purchase count on Online
Retail and 1 on MovieLens) and the test pairs as `DIR/test.tsv`. This script trains each
library on `train.tsv` only, on a small grid of settings like the one Vitrine's BPR was tuned
on, and writes every test user's top 20 (training items left out) as JSON:

    {"library": "implicit 0.7.2", "models": [{"name": "ALS (f = 128, ...)",
     "fit_seconds": 1.2, "epochs": 15, "lists": {"user": ["item", ...]}}]}

`vitrine eval recommender --peer-lists FILE` then scores those lists with the same metrics
code, beside its own models. `cargo xtask bench` runs all of it:

    vitrine eval recommender --dataset retail --export-split target/bench/retail
    python bench/recommender_peers.py --split target/bench/retail
    vitrine eval recommender --dataset retail --peer-lists target/bench/retail/implicit.json \\
        --peer-lists target/bench/retail/lightfm.json

LightFM is optional: when it does not import, the script says so and writes no LightFM file.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

TOP = 20


def read_pairs(path: Path):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows:
        sys.exit(f"{path} has no pairs: write it with `vitrine eval recommender --export-split`")
    return [(r["user"], r["item"], float(r["weight"])) for r in rows]


class Split:
    """The training matrix (users x items, summed weights) and the users to recommend for."""

    def __init__(self, folder: Path):
        train = read_pairs(folder / "train.tsv")
        test = read_pairs(folder / "test.tsv")
        self.users = sorted({u for u, _, _ in train})
        self.items = sorted({i for _, i, _ in train})
        user_index = {u: n for n, u in enumerate(self.users)}
        item_index = {i: n for n, i in enumerate(self.items)}
        rows = [user_index[u] for u, _, _ in train]
        cols = [item_index[i] for _, i, _ in train]
        weights = [w for _, _, w in train]
        shape = (len(self.users), len(self.items))
        self.matrix = sp.csr_matrix((weights, (rows, cols)), shape=shape, dtype=np.float32)
        # Test users with a training history; the others get no list from any peer, as a
        # personalised model has nothing to go on (Vitrine's fall back to popularity).
        self.test_users = sorted({user_index[u] for u, _, _ in test if u in user_index})

    def lists_from_scores(self, scores: np.ndarray) -> dict[str, list[str]]:
        """Top-TOP items of each test user from a full score matrix, training items left out."""
        lists = {}
        for u in self.test_users:
            row = np.array(scores[u], dtype=np.float64)
            row[self.matrix[u].indices] = -np.inf
            top = np.argpartition(-row, TOP)[:TOP]
            top = top[np.argsort(-row[top], kind="stable")]
            lists[self.users[u]] = [self.items[i] for i in top if np.isfinite(row[i])]
        return lists


def implicit_models(split: Split, threads: int):
    import implicit
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    grid = []
    for factors in (64, 128):
        for regularization in (0.01, 0.1):
            for alpha in (1.0, 10.0):
                name = f"ALS (f = {factors}, reg = {regularization}, alpha = {alpha:g})"
                model = AlternatingLeastSquares(
                    factors=factors,
                    regularization=regularization,
                    alpha=alpha,
                    iterations=15,
                    random_state=42,
                    num_threads=threads,
                )
                grid.append((name, model, 15))
    for factors in (64, 128):
        for learning_rate in (0.01, 0.05):
            name = f"BPR (f = {factors}, lr = {learning_rate})"
            model = BayesianPersonalizedRanking(
                factors=factors,
                learning_rate=learning_rate,
                regularization=0.01,
                iterations=200,
                random_state=42,
                num_threads=threads,
            )
            grid.append((name, model, 200))

    models = []
    users = np.array(split.test_users)
    for name, model, epochs in grid:
        started = time.perf_counter()
        model.fit(split.matrix, show_progress=False)
        fit_seconds = time.perf_counter() - started
        ids, _ = model.recommend(
            users, split.matrix[users], N=TOP, filter_already_liked_items=True
        )
        lists = {
            split.users[u]: [split.items[i] for i in row if i >= 0] for u, row in zip(users, ids)
        }
        print(f"implicit {name}: {fit_seconds:.1f} s", file=sys.stderr)
        models.append(
            {"name": name, "fit_seconds": fit_seconds, "epochs": epochs, "lists": lists}
        )
    return {"library": f"implicit {implicit.__version__}", "models": models}


def lightfm_models(split: Split, threads: int):
    import lightfm
    from lightfm import LightFM

    interactions = split.matrix.tocoo()
    models = []
    for loss in ("warp", "bpr"):
        for components in (64, 128):
            name = f"{loss.upper()} (f = {components})"
            model = LightFM(loss=loss, no_components=components, random_state=42)
            epochs = 30
            started = time.perf_counter()
            model.fit(interactions, epochs=epochs, num_threads=threads)
            fit_seconds = time.perf_counter() - started
            user_bias, user_vectors = model.get_user_representations()
            item_bias, item_vectors = model.get_item_representations()
            scores = user_vectors @ item_vectors.T + user_bias[:, None] + item_bias[None, :]
            print(f"LightFM {name}: {fit_seconds:.1f} s", file=sys.stderr)
            models.append(
                {
                    "name": name,
                    "fit_seconds": fit_seconds,
                    "epochs": epochs,
                    "lists": split.lists_from_scores(scores),
                }
            )
    return {"library": f"LightFM {lightfm.__version__}", "models": models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", type=Path, required=True, help="--export-split's folder")
    parser.add_argument("--threads", type=int, default=0, help="0: every core")
    args = parser.parse_args()

    split = Split(args.split)
    print(
        f"{len(split.users)} users, {len(split.items)} items, {split.matrix.nnz} pairs, "
        f"{len(split.test_users)} test users with a history",
        file=sys.stderr,
    )
    run = implicit_models(split, args.threads)
    (args.split / "implicit.json").write_text(json.dumps(run), encoding="utf-8")
    try:
        import lightfm  # noqa: F401
    except ImportError as error:
        print(f"LightFM is not installed ({error}); it is left out", file=sys.stderr)
        return
    run = lightfm_models(split, args.threads or 2)
    (args.split / "lightfm.json").write_text(json.dumps(run), encoding="utf-8")


if __name__ == "__main__":
    main()
