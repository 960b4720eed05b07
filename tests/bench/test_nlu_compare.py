"""Pure parts of bench/nlu_compare.py: no training, no Rasa import."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import nlu_compare as nc


def test_six_class_mapping():
    for intent in nc.CORE_INTENTS:
        assert nc.to_six(intent) == intent
    for intent in ("faq", "faq/pricing", "nlu_fallback", "greet", "safety_issue", "complaint_suggestion", "", None):
        assert nc.to_six(intent) == "other"
    assert nc.CLASSES == ("report_bike_fault", "deposit_refund", "parking_issue", "order_issue", "request_human", "other")


def test_score_on_a_hand_made_prediction_list():
    gold = ["report_bike_fault", "report_bike_fault", "deposit_refund", "parking_issue", "faq/pricing", "greet"]
    pred = ["report_bike_fault", "nlu_fallback", "deposit_refund", "order_issue", "faq", "nlu_fallback"]
    r = nc.score("x", "X", gold, pred, parse_ms=[1.0, 2.0, 3.0, 10.0, 4.0, 5.0], train_s=12.5)

    # mapped: gold F F D P O O ; pred F O D Or O O  -> 4 of 6 right
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.per_class_f1["report_bike_fault"] == pytest.approx(2 / 3)  # P 1, R 1/2
    assert r.per_class_f1["deposit_refund"] == pytest.approx(1.0)
    assert r.per_class_f1["parking_issue"] == 0.0
    assert r.per_class_f1["order_issue"] == 0.0  # predicted once, never gold
    assert r.per_class_f1["request_human"] == 0.0  # absent from gold and predictions
    assert r.per_class_f1["other"] == pytest.approx(0.8)  # P 2/3, R 1
    # macro over the six fixed labels, absent ones count as 0
    assert r.macro_f1 == pytest.approx((2 / 3 + 1 + 0 + 0 + 0 + 0.8) / 6)
    assert r.fallback_rate == pytest.approx(2 / 6)
    assert r.median_parse_ms == pytest.approx(3.5)
    assert r.train_s == 12.5
    assert r.confusion_matrix[0] == [1, 0, 0, 0, 0, 1]  # report_bike_fault row
    assert r.confusion_matrix[2] == [0, 0, 0, 1, 0, 0]  # parking_issue predicted as order_issue
    assert r.confusion_matrix[5] == [0, 0, 0, 0, 0, 2]
    assert sum(map(sum, r.confusion_matrix)) == 6


def test_score_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        nc.score("x", "X", ["greet"], [])


def test_markdown_table_rows_and_failures():
    ok = nc.score("a", "(a) A", ["deposit_refund", "greet"], ["deposit_refund", "greet"], [2.0], 3.0)
    failed = nc.SystemResult(key="b", name="(b) B", error="RuntimeError: boom")
    lines = nc.markdown_table([ok, failed]).splitlines()
    assert len(lines) == 4
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:3] == ["system", "accuracy", "macro-F1"]
    assert len(header) == 3 + 6 + 3
    row = [c.strip() for c in lines[2].strip("|").split("|")]
    assert row[:3] == ["(a) A", "1.000", "0.333"]  # 2 of 6 classes present, both perfect
    assert row[-3:] == ["0.0%", "2.0", "3"]
    assert "FAILED: RuntimeError: boom" in lines[3]


@pytest.mark.parametrize(
    "probabilities, expected",
    [
        ([[0.5, 0.3, 0.2]], ["deposit_refund"]),
        ([[0.45, 0.35, 0.2]], ["deposit_refund"]),  # at the threshold: kept, like Rasa's FallbackClassifier
        ([[0.44, 0.36, 0.2]], ["nlu_fallback"]),
        ([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], ["faq", "nlu_fallback"]),
    ],
)
def test_fallback_threshold_for_sklearn(probabilities, expected):
    classes = ["deposit_refund", "greet", "faq"]
    assert nc.predict_with_fallback(probabilities, classes, 0.45) == expected


def test_baseline_configs_get_ridedesk_settings():
    ridedesk = {
        "recipe": "default.v1", "language": "zh", "assistant_id": "x",
        "pipeline": [
            {"name": "JiebaTokenizer"},
            {"name": "DIETClassifier", "epochs": 7},
            {"name": "FallbackClassifier", "threshold": 0.6, "ambiguity_threshold": 0.05},
        ],
        "policies": [{"name": "RulePolicy"}],
    }
    settings = nc.ridedesk_settings(ridedesk)
    assert settings == {"epochs": 7, "threshold": 0.6, "ambiguity_threshold": 0.05}
    assert "policies" not in nc.nlu_config(ridedesk)

    baseline = {"recipe": "default.v1", "language": "zh", "pipeline": [
        {"name": "bench.nlu_compare.AnyLanguageWhitespaceTokenizer"},
        {"name": "DIETClassifier", "epochs": 80, "random_seed": 42},
        {"name": "FallbackClassifier", "threshold": 0.45}]}
    synced = nc.with_ridedesk_settings(baseline, settings)
    assert synced["pipeline"][1] == {"name": "DIETClassifier", "epochs": 7, "random_seed": 42}
    assert synced["pipeline"][2] == {"name": "FallbackClassifier", "threshold": 0.6, "ambiguity_threshold": 0.05}
    assert baseline["pipeline"][1]["epochs"] == 80  # input untouched

    assert nc.ridedesk_settings({"pipeline": [{"name": "JiebaTokenizer"}]}) == {"epochs": 300, "threshold": 0.3}


def test_shipped_pipelines_are_zh_default_recipe():
    import yaml

    for name in ("b_whitespace_diet.yml", "d_char_ngram_diet.yml"):
        config = yaml.safe_load((nc.PIPELINES / name).read_text(encoding="utf-8"))
        assert config["language"] == "zh" and config["recipe"] == "default.v1"
        names = [c["name"] for c in config["pipeline"]]
        assert names[0] == "bench.nlu_compare.AnyLanguageWhitespaceTokenizer"
        assert names[-2:] == ["DIETClassifier", "FallbackClassifier"]
        assert config["pipeline"][-2]["random_seed"] == 42


def test_confusion_png_and_json_are_written(tmp_path):
    r = nc.score("a", "(a) A", ["deposit_refund", "request_human"], ["deposit_refund", "nlu_fallback"])
    png = nc.plot_confusion(r, tmp_path / "cm.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(json.dumps(nc.asdict(r)))["confusion_matrix"][4] == [0, 0, 0, 0, 0, 1]


def test_sklearn_baseline_falls_back_below_the_threshold():
    texts = ["车锁坏了", "刹车失灵", "退押金", "押金怎么还没到账", "你好", "早上好", "多少钱"]
    intents = ["report_bike_fault", "report_bike_fault", "deposit_refund", "deposit_refund", "greet", "greet",
               "faq/pricing"]
    clf = nc.JiebaTfidfClassifier(threshold=0.0).fit(texts, intents)
    assert sorted(clf.model.classes_) == ["deposit_refund", "faq", "greet", "report_bike_fault"]  # faq/* collapsed
    assert clf.predict("押金退不了") == "deposit_refund"
    clf.threshold = 1.0
    assert clf.predict("押金退不了") == "nlu_fallback"


def test_importing_does_not_import_rasa():
    code = "import sys, bench.nlu_compare; print('rasa' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=nc.REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("systems", ["", "a,e", "x"])
def test_unknown_systems_are_refused_before_any_training(systems, capsys):
    assert nc.main(["--systems", systems]) == 2
    assert "--systems" in capsys.readouterr().err


def test_runs_with_several_seeds_are_averaged_and_their_spread_kept():
    gold = ["deposit_refund", "deposit_refund", "order_issue", "greet"]
    one = nc.score("a", "(a) A", gold, ["deposit_refund", "deposit_refund", "order_issue", "greet"], [1.0], 10.0)
    two = nc.score("a", "(a) A", gold, ["deposit_refund", "nlu_fallback", "deposit_refund", "greet"], [3.0], 30.0)

    combined = nc.combine_runs([(42, one), (43, two)])

    assert combined.accuracy == pytest.approx((1.0 + 0.5) / 2)
    assert combined.macro_f1 == pytest.approx((one.macro_f1 + two.macro_f1) / 2)
    assert combined.per_class_f1["deposit_refund"] == pytest.approx((1.0 + 0.5) / 2)
    assert combined.fallback_rate == pytest.approx(0.125)
    assert combined.train_s == pytest.approx(20.0)
    assert sum(map(sum, combined.confusion_matrix)) == 8  # both runs' messages
    assert combined.confusion_matrix[3][1] == 1  # order_issue read as deposit_refund once
    assert [(r["seed"], r["accuracy"]) for r in combined.runs] == [(42, 1.0), (43, 0.5)]

    row = [c.strip() for c in nc.markdown_table([combined]).splitlines()[2].strip("|").split("|")]
    assert row[0] == "(a) A, mean of 2 seeds"
    assert row[1] == "0.750 (0.50-1.00)"


def test_a_single_run_is_reported_as_it_is():
    r = nc.score("c", "(c) C", ["greet"], ["greet"])
    assert nc.combine_runs([(42, r)]) is r
    assert "seeds" not in nc.markdown_table([r])
    with pytest.raises(ValueError):
        nc.combine_runs([])


def test_with_seed_sets_every_trained_classifier_and_copies():
    config = {"pipeline": [{"name": "JiebaTokenizer"}, {"name": "DIETClassifier", "random_seed": 42},
                           {"name": "ResponseSelector"}, {"name": "FallbackClassifier"}]}
    seeded = nc.with_seed(config, 43)
    assert [c.get("random_seed") for c in seeded["pipeline"]] == [None, 43, 43, None]
    assert config["pipeline"][1]["random_seed"] == 42 and "random_seed" not in config["pipeline"][2]


@pytest.mark.parametrize("seeds", ["0", "-2"])
def test_seeds_below_one_are_refused_before_any_training(seeds, capsys):
    assert nc.main(["--seeds", seeds]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_one_run_keeps_the_configs_own_seed_and_several_runs_get_42_43():
    config = {"pipeline": [{"name": "DIETClassifier", "random_seed": 7}]}
    assert nc.seeded_configs(config, 1) == [(None, config)]  # a --config with seed 7 trains with 7
    runs = nc.seeded_configs(config, 3)
    assert [seed for seed, _ in runs] == [42, 43, 44]
    assert [c["pipeline"][0]["random_seed"] for _, c in runs] == [42, 43, 44]
