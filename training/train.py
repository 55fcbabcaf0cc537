"""Trains the fraud model on point-in-time features (the CSV `fraud-detector features export`
writes) and writes what serving needs: the ONNX model, its trees for explanations, and its card.

Run by `fraud-detector train`, which builds the CSV with the serving feature code and installs
this script's environment (requirements.txt). Time-based splits, in event time:
  fit        [train_from, train_until - validation_days)
  validation [train_until - validation_days, train_until)   the thresholds are chosen here
  test       [test_from, test_until)                          the card's metrics
"""

import argparse
import csv
import hashlib
import json
import sys
from datetime import datetime, timezone

import lightgbm
import numpy as np
import onnx
import onnxmltools
import onnxruntime
from onnxmltools.convert.common.data_types import FloatTensorType
from sklearn.metrics import average_precision_score, roc_auc_score

KEY_COLUMNS = ["transactionId", "accountId", "cardId", "eventTime"]
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "n_estimators": 300,
    "num_leaves": 31,
    "max_depth": 6,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 2,
    "verbose": -1,
}


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp() * 1000


def read_rows(path):
    """The CSV as feature names, a float32 matrix, labels, event times (ms), and card keys."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        names = header[len(KEY_COLUMNS) : -1]
        matrix, labels, times, cards = [], [], [], []
        for row in reader:
            matrix.append([float(v) for v in row[len(KEY_COLUMNS) : -1]])
            labels.append(1 if row[-1] == "1" else 0)
            times.append(parse_time(row[3]))
            cards.append(row[2] or row[1])
    return names, np.asarray(matrix, dtype=np.float32), np.asarray(labels), np.asarray(times), np.asarray(cards)


def card_precision_at_k(scores, labels, times, cards, k=100):
    """The handbook's card precision@k: per day, the k cards with the highest score that day,
    cards already caught on an earlier day left out; the share of them with a fraud that day,
    averaged over the days."""
    days = np.floor(times / 86_400_000).astype(np.int64)
    caught = set()
    precisions = []
    for day in np.unique(days):
        on_day = days == day
        best = {}
        for card, score, label in zip(cards[on_day], scores[on_day], labels[on_day]):
            if card in caught:
                continue
            s, l = best.get(card, (-1.0, 0))
            best[card] = (max(s, float(score)), max(l, int(label)))
        top = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:k]
        precisions.append(sum(l for _, (_, l) in top) / k)
        caught.update(card for card, (_, l) in top if l == 1)
    return float(np.mean(precisions)) if precisions else None


def metrics(scores, labels, times, cards):
    both = len(np.unique(labels)) == 2
    return {
        "rows": int(len(labels)),
        "frauds": int(labels.sum()),
        "aucRoc": round(float(roc_auc_score(labels, scores)), 6) if both else None,
        "averagePrecision": round(float(average_precision_score(labels, scores)), 6) if both else None,
        "cardPrecisionAt100": round(card_precision_at_k(scores, labels, times, cards), 6) if len(labels) else None,
    }


def threshold_for(scores, labels, precision):
    """The lowest score at which the flagged share is at least `precision` fraud; 1.0 when none is."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order])
    flagged = np.arange(1, len(order) + 1)
    ok = np.nonzero(hits / flagged >= precision)[0]
    if len(ok) == 0 or hits[ok[-1]] == 0:
        return 1.0
    return round(float(scores[order][ok[-1]]), 6)


def export_trees(booster):
    """Each tree as flat arrays (nodes in order, leaves after them) for explanations in serving:
    a path's change in value, split by split, is that split feature's contribution."""
    trees = []
    for info in booster.dump_model()["tree_info"]:
        nodes = {"feature": [], "threshold": [], "left": [], "right": [], "defaultLeft": [], "value": []}

        def add(node):
            at = len(nodes["value"])
            for key in nodes:
                nodes[key].append(None)
            if "leaf_value" in node:
                nodes["feature"][at] = -1
                nodes["value"][at] = node["leaf_value"]
                nodes["threshold"][at] = 0
                nodes["left"][at] = nodes["right"][at] = -1
                nodes["defaultLeft"][at] = True
                return at
            if node["decision_type"] != "<=":
                sys.exit(f"unsupported split {node['decision_type']}")
            nodes["feature"][at] = node["split_feature"]
            nodes["threshold"][at] = node["threshold"]
            nodes["value"][at] = node["internal_value"]
            nodes["defaultLeft"][at] = bool(node["default_left"])
            nodes["left"][at] = add(node["left_child"])
            nodes["right"][at] = add(node["right_child"])
            return at

        add(info["tree_structure"])
        trees.append(nodes)
    return trees


def fit_and_write(args, names, x, y, t, cards, periods, params, refit=False):
    """Fits `params` on the fit period, writes the ONNX model and its trees, and returns the card
    (metrics of every period, thresholds chosen on the validation period). With `refit`, the
    model is fit on the validation period instead (the latest labelled days, once they have
    chosen the features and parameters): its thresholds are then chosen on its own fit rows."""
    fit, val, test = periods
    train_from, train_until = parse_time(args.train_from), parse_time(args.train_until)
    val_from = train_until - args.validation_days * 86_400_000
    test_from, test_until = parse_time(args.test_from), parse_time(args.test_until)
    model = lightgbm.LGBMClassifier(**params, random_state=args.seed)
    model.fit(x[val] if refit else x[fit], y[val] if refit else y[fit])
    # A fixed graph name (the converter draws a random one), so the same data give the same file.
    onx = onnxmltools.convert_lightgbm(model, name=args.name, initial_types=[("input", FloatTensorType([None, len(names)]))], zipmap=False)
    onnx.checker.check_model(onx)
    data = onx.SerializeToString()
    with open(args.out, "wb") as f:
        f.write(data)
    with open(args.trees, "w") as f:
        json.dump({"kind": "lightgbm-saabas", "features": names, "trees": export_trees(model.booster_)}, f, separators=(",", ":"))

    # Scored as serving scores: the ONNX model, on float32 features.
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    prob = session.run(["probabilities"], {"input": x})[0][:, 1].astype(np.float64)
    review = threshold_for(prob[val], y[val], 0.5)
    block = max(review, threshold_for(prob[val], y[val], 0.9))
    sha = hashlib.sha256(data).hexdigest()
    def iso(ms):
        return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    card = {
        "cardVersion": 1,
        "name": args.name,
        "version": f"{args.name}@{sha[:12]}",
        "file": args.out.split("/")[-1],
        "sha256": sha,
        "input": "input",
        "output": "probabilities",
        "features": names,
        "contributions": {"file": args.trees.split("/")[-1], "kind": "lightgbm-saabas"},
        "windows": {
            "fit": {"from": iso(train_from), "until": iso(val_from), **metrics(prob[fit], y[fit], t[fit], cards[fit])},
            "validation": {"from": iso(val_from), "until": iso(train_until), **metrics(prob[val], y[val], t[val], cards[val])},
            "test": {"from": iso(test_from), "until": iso(test_until), **metrics(prob[test], y[test], t[test], cards[test])},
        },
        "thresholds": {"review": review, "block": block, "chosenOn": "validation (the rows the model was fit on)" if refit else "validation", "rule": "lowest score with at least 50% (review) and 90% (block) of the flagged being fraud"},
        "training": {"library": f"lightgbm {lightgbm.__version__}", "converter": f"onnxmltools {onnxmltools.__version__}", "params": {**params, "random_state": args.seed}, "fitOn": "validation" if refit else "fit"},
    }
    return card


def add_arguments(ap):
    """The flags every training run takes: the CSV, the periods, the outputs and the seed."""
    ap.add_argument("--features", required=True)
    ap.add_argument("--train-from", required=True)
    ap.add_argument("--train-until", required=True)
    ap.add_argument("--validation-days", type=float, default=7)
    ap.add_argument("--test-from", required=True)
    ap.add_argument("--test-until", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--trees", required=True)
    ap.add_argument("--card", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--seed", type=int, default=7)


def periods(args, t, y):
    """The fit, validation and test rows (boolean masks); exits when one lacks rows or frauds."""
    train_from, train_until = parse_time(args.train_from), parse_time(args.train_until)
    val_from = train_until - args.validation_days * 86_400_000
    test_from, test_until = parse_time(args.test_from), parse_time(args.test_until)
    fit = (t >= train_from) & (t < val_from)
    val = (t >= val_from) & (t < train_until)
    test = (t >= test_from) & (t < test_until)
    for label, mask in (("fit", fit), ("validation", val), ("test", test)):
        if mask.sum() == 0 or y[mask].sum() == 0:
            sys.exit(f"the {label} period has {int(mask.sum())} transactions and {int(y[mask].sum())} frauds: it needs both")
    return fit, val, test


def write_card(args, card):
    with open(args.card, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(json.dumps({"version": card["version"], "test": card["windows"]["test"], "thresholds": card["thresholds"]}))


def main():
    ap = argparse.ArgumentParser()
    add_arguments(ap)
    ap.add_argument("--n-estimators", type=int, default=PARAMS["n_estimators"])
    args = ap.parse_args()
    names, x, y, t, cards = read_rows(args.features)
    params = {**PARAMS, "n_estimators": args.n_estimators}
    write_card(args, fit_and_write(args, names, x, y, t, cards, periods(args, t, y), params))


if __name__ == "__main__":
    main()
