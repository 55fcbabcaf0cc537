"""Feature and parameter search for `fraud-detector train --search`: from one wide point-in-time
export (every candidate feature), picks the features and LightGBM's main parameters by average
precision on the validation days, then trains and writes the model as train.py does, with the
search recorded in its card.

Time-respecting throughout: every fit is on the fit period [train_from, train_until -
validation_days), every choice is by average precision on [train_until - validation_days,
train_until), and the test period is only scored at the end (the card's metrics).

Features: gain-based backward pruning with a re-fit each round (on every fraud of the fit period
and a share of its legitimate payments, `prune_negatives`). One fit on every candidate,
then each round drops the features the last fit gave no gain and at least `drop` of the rest,
lowest total gain first, and fits again, down to `min_features`. Of the rounds, the smallest set
whose validation AP is within `tolerance` of the best round's is kept. About 15 fits for 180
candidates, against thousands for forward selection (a fit per candidate per step).

Parameters: a coordinate search on the chosen features, each stage trying its values with the
best of the stages before. One fit per setting gives the validation AP at every checkpoint of
n_estimators (the booster predicts with its first k trees), so the number of trees costs no fit.
"""

import argparse
import csv
import math
import sys
import time

import lightgbm
import numpy as np
from sklearn.metrics import average_precision_score

from train import KEY_COLUMNS, PARAMS, add_arguments, fit_and_write, periods, write_card

# Stage by stage, from the shipped model's parameters (train.py PARAMS: 31 leaves, 0.05, 50 per leaf).
PARAM_STAGES = [
    {"num_leaves": [31, 15, 63], "learning_rate": [0.05, 0.1]},
    {"min_child_samples": [20, 200]},
]
TREE_CHECKPOINTS = [100, 200, 300, 500]
# Pruning fits: half the trees at twice the learning rate, about the same fit in half the time.
PRUNING_PARAMS = {"learning_rate": 0.1}
# One thread per fit: on a shared 2-core machine, LightGBM's two OpenMP threads wait on each
# other whenever one is descheduled (measured under load: 23 s wall and 15 s CPU with 2 threads
# against 9 s and 2.7 s with 1, for the same 37,000 × 187 fit).
SEARCH_JOBS = {"n_jobs": 1}


def read_wide(path):
    """The CSV as feature names, a float32 matrix, labels, event times (ms) and card keys. The
    matrix is parsed by numpy (a wide export is about 1 GB: Python floats would take minutes)."""
    keys, labels = [], []

    def rows(f):
        for line in f:
            head = line.rstrip("\n").split(",", len(KEY_COLUMNS))
            if '"' in line:  # a quoted id with a comma in it: rare, so parsed the slow way
                head = next(csv.reader([line]))
                head = head[: len(KEY_COLUMNS)] + [",".join(head[len(KEY_COLUMNS) :])]
            values, label = head[-1].rsplit(",", 1)
            keys.append((head[2] or head[1], head[3]))
            labels.append(1 if label == "1" else 0)
            yield values

    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
        names = header[len(KEY_COLUMNS) : -1]
        x = np.loadtxt(rows(f), delimiter=",", dtype=np.float32, ndmin=2)
    cards = np.asarray([k[0] for k in keys])
    times = np.asarray([k[1].rstrip("Z") for k in keys], dtype="datetime64[ms]").astype(np.int64).astype(np.float64)
    return names, x.reshape(len(labels), len(names)), np.asarray(labels), times, cards


def prune_by_gain(always, removable, fit_eval, min_features, drop):
    """Backward pruning. `fit_eval(columns)` fits on them and returns (validation AP, {name:
    gain}). Each step records the features it removed and the validation AP after the re-fit."""
    kept = list(removable)
    removed = []
    steps = []
    while True:
        ap, gains = fit_eval(list(always) + kept)
        steps.append({"features": len(always) + len(kept), "removed": removed, "validationAveragePrecision": round(float(ap), 6), "kept": list(kept)})
        spare = len(always) + len(kept) - min_features
        if spare <= 0 or not kept:
            return steps
        # Lowest gain first; ties (zero gain above all) by name, so the same data prune the same way.
        ranked = sorted(kept, key=lambda n: (gains.get(n, 0.0), n))
        unused = sum(1 for n in kept if gains.get(n, 0.0) <= 0.0)
        count = min(spare, len(kept), max(unused, math.ceil(len(kept) * drop), 1))
        removed = ranked[:count]
        gone = set(removed)
        kept = [n for n in kept if n not in gone]


def choose_step(steps, tolerance):
    """The step with the fewest features whose validation AP is within `tolerance` of the best."""
    best = max(s["validationAveragePrecision"] for s in steps)
    eligible = [s for s in steps if s["validationAveragePrecision"] >= best - tolerance]
    return min(eligible, key=lambda s: (s["features"], -s["validationAveragePrecision"]))


def search_params(base, stages, fit_curve, checkpoints):
    """Coordinate search. `fit_curve(params)` fits up to max(checkpoints) trees and returns the
    validation AP at each checkpoint. Returns the best params (n_estimators included) and every
    trial; ties go to fewer trees (cheaper to serve), then to the earlier trial."""
    best = {**base}
    trials = []
    top = None
    for stage in stages:
        for setting in grid(stage):
            params = {**best, **setting, "n_estimators": max(checkpoints)}
            curve = fit_curve(params)
            for trees, ap in zip(checkpoints, curve):
                trial = {**{k: params[k] for k in sorted({k for s in stages for k in s})}, "n_estimators": trees, "validationAveragePrecision": round(float(ap), 6)}
                trials.append(trial)
                if top is None or trial["validationAveragePrecision"] > top["validationAveragePrecision"]:
                    top = trial
        best = {**best, **{k: top[k] for k in top if k != "validationAveragePrecision"}}
    return best, top, trials


def undersampled(labels, share, seed):
    """The rows a pruning fit uses: every fraud, and `share` of the others drawn with the seed.
    AP only ranks, so a model fit on fewer legitimate rows is compared fairly on the full
    validation period, at a fraction of the cost."""
    if share >= 1:
        return np.ones(len(labels), dtype=bool)
    rng = np.random.default_rng(seed)
    return (labels == 1) | (rng.random(len(labels)) < share)


def grid(stage):
    keys = list(stage)
    settings = [{}]
    for key in keys:
        settings = [{**s, key: v} for s in settings for v in stage[key]]
    return settings


def main():
    ap = argparse.ArgumentParser()
    add_arguments(ap)
    ap.add_argument("--always", required=True, help="comma-separated features every set keeps")
    ap.add_argument("--search-trees", type=int, default=150, help="trees of each pruning fit (at twice the default learning rate)")
    ap.add_argument("--min-features", type=int, default=6)
    ap.add_argument("--drop", type=float, default=0.3)
    ap.add_argument("--tolerance", type=float, default=0.002)
    ap.add_argument("--prune-negatives", type=float, default=0.25, help="share of the legitimate fit rows the pruning fits use (all frauds)")
    ap.add_argument("--no-param-search", action="store_true")
    ap.add_argument("--refit", action="store_true", help="fit the final model on the validation period (with the chosen features and parameters) instead of the fit period")
    args = ap.parse_args()

    started = time.monotonic()
    names, x, y, t, cards = read_wide(args.features)
    log(f"read {x.shape[0]} rows × {x.shape[1]} features in {time.monotonic() - started:.0f} s")
    fit, val, test = periods(args, t, y)
    column = {n: i for i, n in enumerate(names)}
    always = [n for n in args.always.split(",") if n]
    missing = [n for n in always if n not in column]
    if missing:
        raise SystemExit(f"not in the export: {', '.join(missing)}")
    xf, yf, xv, yv = x[fit], y[fit], x[val], y[val]
    keep = undersampled(yf, args.prune_negatives, args.seed)
    xp, yp = xf[keep], yf[keep]
    log(f"pruning fits on {len(yp)} of {len(yf)} fit rows (every fraud, {args.prune_negatives:.0%} of the rest)")

    def fit_eval(columns, params, rows=(xf, yf)):
        idx = [column[n] for n in columns]
        model = lightgbm.LGBMClassifier(**{**params, **SEARCH_JOBS}, random_state=args.seed)
        model.fit(rows[0][:, idx], rows[1])
        return model

    def pruning_fit(columns):
        t0 = time.monotonic()
        model = fit_eval(columns, {**PARAMS, **PRUNING_PARAMS, "n_estimators": args.search_trees}, (xp, yp))
        ap_val = average_precision_score(yv, model.predict_proba(xv[:, [column[n] for n in columns]])[:, 1])
        gains = dict(zip(columns, model.booster_.feature_importance("gain")))
        log(f"{len(columns)} features: validation AP {ap_val:.4f} ({time.monotonic() - t0:.0f} s)")
        return ap_val, gains

    removable = [n for n in names if n not in always]
    steps = prune_by_gain(always, removable, pruning_fit, args.min_features, args.drop)
    chosen = choose_step(steps, args.tolerance)
    selected = [n for n in names if n in set(always) | set(chosen["kept"])]
    log(f"selected {len(selected)} of {len(names)} features (validation AP {chosen['validationAveragePrecision']:.4f})")

    def curve(params):
        t0 = time.monotonic()
        model = fit_eval(selected, params)
        xs = xv[:, [column[n] for n in selected]]
        aps = [average_precision_score(yv, model.predict_proba(xs, num_iteration=k)[:, 1]) for k in TREE_CHECKPOINTS]
        log(f"{ {k: params[k] for k in ('num_leaves', 'learning_rate', 'min_child_samples')} }: validation AP by trees {[round(a, 4) for a in aps]} ({time.monotonic() - t0:.0f} s)")
        return aps

    params, top, trials = ({**PARAMS}, None, []) if args.no_param_search else search_params(PARAMS, PARAM_STAGES, curve, TREE_CHECKPOINTS)
    idx = [column[n] for n in selected]
    card = fit_and_write(args, selected, x[:, idx], y, t, cards, (fit, val, test), {**params, **SEARCH_JOBS}, refit=args.refit)
    card["search"] = {
        "method": "gain-based backward pruning with a re-fit each round, then a coordinate search over LightGBM parameters; every choice by average precision on the validation period",
        "candidates": names,
        "always": always,
        "selection": {
            "drop": args.drop,
            "minFeatures": args.min_features,
            "tolerance": args.tolerance,
            "fitParams": {**PRUNING_PARAMS, "n_estimators": args.search_trees},
            "fitRows": {"frauds": "all", "legitimateShare": args.prune_negatives, "rows": int(len(yp))},
            "steps": [{k: s[k] for k in ("features", "removed", "validationAveragePrecision")} for s in steps],
            "chosen": {"features": chosen["features"], "validationAveragePrecision": chosen["validationAveragePrecision"]},
            "selected": selected,
        },
        "params": {"stages": PARAM_STAGES, "treeCheckpoints": TREE_CHECKPOINTS, "trials": trials, "chosen": top},
        "validationAveragePrecision": card["windows"]["validation"]["averagePrecision"],
        "seconds": round(time.monotonic() - started, 1),
    }
    write_card(args, card)


def log(message):
    print(f"[search] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
