"""Tests of search.py's selection logic, run by test/unit/training-search.test.ts with the
training venv's python: `python training/test_search.py` (exit 0 when every test passes)."""

import os
import subprocess
import sys
import tempfile

import numpy as np

from search import choose_step, grid, prune_by_gain, read_wide, search_params

HERE = os.path.dirname(os.path.abspath(__file__))


def test_pruning_drops_the_lowest_gain_first_and_records_every_step():
    gains = {"a": 50.0, "b": 20.0, "c": 5.0, "d": 1.0, "n1": 0.0, "n2": 0.0, "n3": 0.0}
    fits = []

    def fit_eval(columns):
        fits.append(list(columns))
        # AP: the sum of the kept gains' share, so losing a useful feature costs AP.
        return sum(gains.get(c, 0.0) for c in columns) / 100.0, {c: gains.get(c, 0.0) for c in columns}

    steps = prune_by_gain(["fixed"], ["n1", "a", "n2", "b", "c", "n3", "d"], fit_eval, min_features=2, drop=0.3)
    # Round 1 drops every unused feature at once (3 of 7, more than 30%), then the weakest each round.
    assert [s["removed"] for s in steps] == [[], ["n1", "n2", "n3"], ["d", "c"], ["b"]], steps
    assert [s["features"] for s in steps] == [8, 5, 3, 2]
    assert steps[-1]["kept"] == ["a"]
    assert fits[0][0] == "fixed" and all(f[0] == "fixed" for f in fits), "the fixed features are in every fit"
    assert [s["validationAveragePrecision"] for s in steps] == [0.76, 0.76, 0.7, 0.5]


def test_choice_is_the_smallest_set_within_tolerance_of_the_best():
    steps = [
        {"features": 40, "validationAveragePrecision": 0.70},
        {"features": 20, "validationAveragePrecision": 0.712},
        {"features": 10, "validationAveragePrecision": 0.7105},
        {"features": 5, "validationAveragePrecision": 0.69},
    ]
    assert choose_step(steps, 0.002)["features"] == 10
    assert choose_step(steps, 0.0)["features"] == 20
    assert choose_step(steps, 0.05)["features"] == 5


def test_parameter_search_is_coordinate_wise_and_prefers_fewer_trees_on_ties():
    stages = [{"num_leaves": [31, 15], "learning_rate": [0.05, 0.1]}, {"min_child_samples": [50, 20]}]
    seen = []

    def curve(params):
        seen.append((params["num_leaves"], params["learning_rate"], params["min_child_samples"]))
        best = params["num_leaves"] == 15 and params["learning_rate"] == 0.1
        bonus = 0.01 if params["min_child_samples"] == 20 else 0.0
        return [0.5, 0.6 + bonus, 0.6 + bonus] if best else [0.4, 0.45, 0.5]

    params, top, trials = search_params({"num_leaves": 31, "learning_rate": 0.05, "min_child_samples": 50}, stages, curve, [100, 200, 300])
    assert seen[:4] == [(31, 0.05, 50), (31, 0.1, 50), (15, 0.05, 50), (15, 0.1, 50)]
    # The second stage starts from the first's best.
    assert seen[4:] == [(15, 0.1, 50), (15, 0.1, 20)]
    assert (params["num_leaves"], params["learning_rate"], params["min_child_samples"], params["n_estimators"]) == (15, 0.1, 20, 200)
    assert top["validationAveragePrecision"] == 0.61
    assert len(trials) == 6 * 3
    assert grid({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]


def test_reading_a_wide_export():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f.csv")
        with open(path, "w") as f:
            f.write("transactionId,accountId,cardId,eventTime,event.amount,x.y_1d,label\n")
            f.write("t1,a1,c1,2026-01-01T00:00:00.000Z,12.5,3,1\n")
            f.write('"t,2",a2,,2026-01-02T00:00:00.000Z,7,0,\n')
        names, x, y, t, cards = read_wide(path)
        assert names == ["event.amount", "x.y_1d"]
        assert x.dtype == np.float32 and x.tolist() == [[12.5, 3.0], [7.0, 0.0]]
        assert y.tolist() == [1, 0]
        assert t.tolist() == [1767225600000.0, 1767312000000.0]
        assert cards.tolist() == ["c1", "a2"], "a card-less row is keyed by its account"


def small_search(extra):
    """search.py end to end on 6,000 synthetic rows (fraud depends on two of eight features):
    fit on days 0-18, validation 18-24, test 24-31. Returns the card."""
    rng = np.random.default_rng(3)
    n = 6000
    start = 1767225600000
    times = start + np.sort(rng.integers(0, 30 * 86_400_000, n))
    signal = rng.normal(size=(n, 2))
    noise = rng.normal(size=(n, 6))
    logit = 2.5 * signal[:, 0] + 2.0 * signal[:, 1] - 4.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    names = ["event.amount", "sig.a_1d", "noise.a_1d", "noise.b_1d", "sig.b_7d", "noise.c_1d", "noise.d_1d", "noise.e_1d"]
    cols = np.column_stack([noise[:, 0], signal[:, 0], noise[:, 1], noise[:, 2], signal[:, 1], noise[:, 3], noise[:, 4], noise[:, 5]])
    with tempfile.TemporaryDirectory() as d:
        csv = os.path.join(d, "f.csv")
        with open(csv, "w") as f:
            f.write(",".join(["transactionId", "accountId", "cardId", "eventTime", *names, "label"]) + "\n")
            for i in range(n):
                iso = np.datetime64(int(times[i]), "ms").astype(str) + "Z"
                f.write(",".join([f"t{i}", f"a{i % 300}", f"c{i % 300}", iso, *(f"{v:.5f}" for v in cols[i]), str(y[i])]) + "\n")
        day = lambda k: (np.datetime64(int(start + k * 86_400_000), "ms").astype(str) + "Z")
        args = ["--features", csv, "--train-from", day(0), "--train-until", day(24), "--validation-days", "6", "--test-from", day(24), "--test-until", day(31)]
        args += ["--out", os.path.join(d, "m.onnx"), "--trees", os.path.join(d, "m.trees.json"), "--card", os.path.join(d, "m.card.json"), "--name", "m"]
        args += ["--always", "event.amount", "--min-features", "2", "--search-trees", "30", "--tolerance", "0.01", "--no-param-search", *extra]
        run = subprocess.run([sys.executable, os.path.join(HERE, "search.py"), *args], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        import json

        with open(os.path.join(d, "m.card.json")) as f:
            return json.load(f)


def test_a_small_search_keeps_the_signal_and_drops_the_noise():
    card = small_search([])
    assert card["features"] == ["event.amount", "sig.a_1d", "sig.b_7d"], card["search"]["selection"]["steps"]
    search = card["search"]
    assert search["candidates"] == ["event.amount", "sig.a_1d", "noise.a_1d", "noise.b_1d", "sig.b_7d", "noise.c_1d", "noise.d_1d", "noise.e_1d"]
    assert search["selection"]["steps"][0]["features"] == 8
    assert search["selection"]["chosen"]["features"] == 3
    assert card["windows"]["test"]["averagePrecision"] > 0.5
    assert card["training"]["fitOn"] == "fit"


def test_refit_fits_the_final_model_on_the_validation_days():
    """--refit: the same choice, then the model is fit on the validation days. Its trees are then
    scored on their own rows there (so it does much better on them than on the fit days, the
    other way round from a model fit on the fit days), and the card says so."""
    plain, refit = small_search([]), small_search(["--refit"])
    assert refit["features"] == plain["features"]
    assert refit["search"]["selection"]["steps"] == plain["search"]["selection"]["steps"], "the choice does not depend on --refit"
    assert refit["training"]["fitOn"] == "validation"
    assert refit["thresholds"]["chosenOn"].startswith("validation (the rows the model was fit on")
    assert refit["sha256"] != plain["sha256"]
    w, p = refit["windows"], plain["windows"]
    assert w["validation"]["averagePrecision"] > w["fit"]["averagePrecision"], w
    assert p["fit"]["averagePrecision"] > p["validation"]["averagePrecision"], p
    assert w["test"]["averagePrecision"] > 0.5


if __name__ == "__main__":
    failed = 0
    for name, test in [(k, v) for k, v in globals().items() if k.startswith("test_")]:
        try:
            test()
            print(f"ok {name}")
        except AssertionError as err:
            failed += 1
            print(f"FAILED {name}: {err}")
    sys.exit(1 if failed else 0)
