"""Compares RideDesk's NLU pipeline with three baselines on one evaluation file.

Usage (``make bench-nlu``)::

    .venv/bin/python -m bench.nlu_compare [--eval tests/nlu/heldout.yml] [--out results/bench]

``--eval`` may be repeated: the systems are then trained once and scored on every file,
and each file's results go to ``<out>/<file stem>/``.

``--seeds N`` (``make bench-nlu SEEDS=3``) trains each DIET system N times with the seeds
42, 43, ... and reports the mean with the lowest and highest run: on a file of about a
hundred messages two trainings that differ only in their seed can be 0.05-0.1 macro-F1
apart, so one training is not enough to rank two pipelines. (c) is deterministic and is
trained once.

One run trains every system on ``data/nlu/*.yml`` (NLU only, ``domain.yml`` for the
retrieval intents) and scores it on the evaluation file (Rasa NLU YAML):

(a) ``ridedesk``      the ``pipeline:`` of the root ``config.yml``, read at run time;
(b) ``whitespace``    ``bench/pipelines/b_whitespace_diet.yml``: whitespace tokens,
                      word counts, DIET, FallbackClassifier;
(c) ``jieba_tfidf``   jieba (+ ``data/dictionary/userdict.txt``) + scikit-learn TF-IDF +
                      LogisticRegression, no Rasa; ``nlu_fallback`` below the threshold;
(d) ``char_ngrams``   ``bench/pipelines/d_char_ngram_diet.yml``: char 1-4 n-grams, DIET,
                      FallbackClassifier.

DIET's ``epochs`` and the FallbackClassifier's ``threshold``/``ambiguity_threshold`` of
(b) and (d), and (c)'s threshold, are taken from (a) at run time.

Scoring follows ``shared/eval/README.md``: six classes, the five core intents and
``other`` for everything else (``faq/...``, ``nlu_fallback``, any other intent).
Prints one markdown table and writes ``<out>/nlu_compare.json`` and one confusion-matrix
PNG per system to ``<out>``.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
PIPELINES = Path(__file__).resolve().parent / "pipelines"

CORE_INTENTS = ("report_bike_fault", "deposit_refund", "parking_issue", "order_issue", "request_human")
OTHER = "other"
CLASSES: Tuple[str, ...] = CORE_INTENTS + (OTHER,)
FALLBACK_INTENT = "nlu_fallback"
# Rasa's defaults, used only if config.yml has no DIETClassifier / FallbackClassifier.
RASA_DEFAULT_EPOCHS = 300
RASA_DEFAULT_THRESHOLD = 0.3
WARMUP_TEXT = "你好"
FIRST_SEED = 42  # the seed of config.yml and the shipped baselines


# --------------------------------------------------------------------------- scoring


def to_six(intent: Optional[str]) -> str:
    """Maps any intent name (gold or predicted) to one of the six scored classes."""
    return intent if intent in CORE_INTENTS else OTHER


@dataclass
class SystemResult:
    key: str
    name: str
    n: int = 0
    accuracy: Optional[float] = None
    macro_f1: Optional[float] = None
    per_class_f1: Dict[str, float] = field(default_factory=dict)
    fallback_rate: Optional[float] = None
    median_parse_ms: Optional[float] = None
    train_s: Optional[float] = None
    confusion_matrix: List[List[int]] = field(default_factory=list)  # rows gold, cols predicted, CLASSES order
    figure: Optional[str] = None
    error: Optional[str] = None
    # One entry per training when a system was trained with several seeds; the figures
    # above are then means (confusion matrix: the sum over the runs).
    runs: List[Dict[str, Any]] = field(default_factory=list)


def score(
    key: str,
    name: str,
    gold: Sequence[Optional[str]],
    predicted: Sequence[Optional[str]],
    parse_ms: Sequence[float] = (),
    train_s: Optional[float] = None,
) -> SystemResult:
    """Scores raw intent names (gold and predicted, before the six-class mapping)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    if len(gold) != len(predicted) or not gold:
        raise ValueError(f"need as many predictions as gold labels (>0), got {len(predicted)} for {len(gold)}")
    y_true = [to_six(g) for g in gold]
    y_pred = [to_six(p) for p in predicted]
    labels = list(CLASSES)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return SystemResult(
        key=key,
        name=name,
        n=len(gold),
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        per_class_f1={c: float(f) for c, f in zip(labels, per_class)},
        fallback_rate=sum(p == FALLBACK_INTENT for p in predicted) / len(predicted),
        median_parse_ms=float(statistics.median(parse_ms)) if parse_ms else None,
        train_s=train_s,
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    )


def combine_runs(runs: Sequence[Tuple[Optional[int], SystemResult]]) -> SystemResult:
    """One result for several trainings of one system that differ only in their seed.

    Args:
        runs: ``(seed, result)`` pairs of the same system on the same evaluation file.

    Returns:
        Means of the figures, the summed confusion matrix and, in ``runs``, each seed's
        accuracy, macro-F1 and fallback rate. A single run is returned unchanged.
    """
    if not runs:
        raise ValueError("need at least one run")
    if len(runs) == 1:
        return runs[0][1]
    results = [r for _, r in runs]
    first = results[0]

    def mean(values: Sequence[Optional[float]]) -> Optional[float]:
        present = [v for v in values if v is not None]
        return statistics.fmean(present) if present else None

    size = len(first.confusion_matrix)
    return SystemResult(
        key=first.key,
        name=first.name,
        n=first.n,
        accuracy=mean([r.accuracy for r in results]),
        macro_f1=mean([r.macro_f1 for r in results]),
        per_class_f1={c: statistics.fmean(r.per_class_f1[c] for r in results) for c in first.per_class_f1},
        fallback_rate=mean([r.fallback_rate for r in results]),
        median_parse_ms=mean([r.median_parse_ms for r in results]),
        train_s=mean([r.train_s for r in results]),
        confusion_matrix=[[sum(r.confusion_matrix[i][j] for r in results) for j in range(size)] for i in range(size)],
        runs=[{"seed": seed, "accuracy": r.accuracy, "macro_f1": r.macro_f1, "fallback_rate": r.fallback_rate}
              for seed, r in runs],
    )


SHORT = {"report_bike_fault": "fault", "deposit_refund": "deposit", "parking_issue": "parking",
         "order_issue": "order", "request_human": "human", OTHER: "other"}


def markdown_table(results: Sequence[SystemResult]) -> str:
    """One row per system; F1 columns use short class names (fault = report_bike_fault...)."""

    def num(value: Optional[float], fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    def spread(r: SystemResult, figure: str) -> str:
        """The mean, and with several seeds the lowest and highest run: 0.612 (0.55-0.66)."""
        cell = num(getattr(r, figure), ".3f")
        if len(r.runs) > 1:
            values = [run[figure] for run in r.runs]
            cell += f" ({min(values):.2f}-{max(values):.2f})"
        return cell

    head = ["system", "accuracy", "macro-F1"] + [f"F1 {SHORT[c]}" for c in CLASSES] + [
        "fallback", "parse ms (median)", "train s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in results:
        if r.error:
            cells = [r.name, f"FAILED: {r.error}"] + [""] * (len(head) - 2)
        else:
            name = r.name + (f", mean of {len(r.runs)} seeds" if len(r.runs) > 1 else "")
            cells = [name, spread(r, "accuracy"), spread(r, "macro_f1")]
            cells += [num(r.per_class_f1.get(c), ".3f") for c in CLASSES]
            cells += [num(r.fallback_rate, ".1%"), num(r.median_parse_ms, ".1f"), num(r.train_s, ".0f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_confusion(result: SystemResult, path: Path) -> Path:
    """Writes the six-class confusion matrix of ``result`` as a PNG (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = result.confusion_matrix
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(CLASSES)), labels=list(CLASSES), rotation=35, ha="right")
    ax.set_yticks(range(len(CLASSES)), labels=list(CLASSES))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    top = max((max(row) for row in cm), default=0)
    for i, row in enumerate(cm):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center",
                    color="white" if top and count > top / 2 else "black")
    runs = f", {len(result.runs)} seeds summed" if len(result.runs) > 1 else ""
    ax.set_title(f"{result.name}\naccuracy {result.accuracy:.3f}, macro-F1 {result.macro_f1:.3f}, n={result.n}{runs}")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ------------------------------------------------------------------- (c) scikit-learn


def predict_with_fallback(probabilities: Sequence[Sequence[float]], classes: Sequence[str], threshold: float) -> List[str]:
    """Top class per row, or ``nlu_fallback`` when its probability is below ``threshold``."""
    out = []
    for row in probabilities:
        best = max(range(len(row)), key=lambda i: row[i])
        out.append(classes[best] if row[best] >= threshold else FALLBACK_INTENT)
    return out


class JiebaTfidfClassifier:
    """(c): private jieba tokenizer + TfidfVectorizer + LogisticRegression, with fallback.

    Retrieval intents are collapsed (``faq/pricing`` -> ``faq``), as DIET sees them.
    Fixed hyper-parameters (never tuned on an evaluation file).
    """

    def __init__(self, threshold: float, userdict: Optional[Path] = None) -> None:
        import jieba

        self.threshold = threshold
        self._jieba = jieba.Tokenizer()  # private: the global jieba state is Rasa's JiebaTokenizer's
        if userdict is not None and userdict.is_file():
            self._jieba.load_userdict(str(userdict))
        self.vectorizer = None
        self.model = None

    def tokenize(self, text: str) -> List[str]:
        return [w for w in self._jieba.lcut(text) if w.strip()]

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> "JiebaTfidfClassifier":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = TfidfVectorizer(tokenizer=self.tokenize, token_pattern=None, lowercase=True,
                                          ngram_range=(1, 2), sublinear_tf=True)
        features = self.vectorizer.fit_transform(texts)
        self.model = LogisticRegression(C=10.0, max_iter=3000, random_state=42)
        self.model.fit(features, [i.split("/")[0] for i in intents])
        return self

    def predict(self, text: str) -> str:
        probabilities = self.model.predict_proba(self.vectorizer.transform([text]))
        return predict_with_fallback(probabilities, list(self.model.classes_), self.threshold)[0]


# ----------------------------------------------------------------- Rasa pipelines


def __getattr__(name: str) -> Any:
    """Builds ``AnyLanguageWhitespaceTokenizer`` on first use (lazy: importing Rasa takes
    seconds, and the pure scoring helpers above must not pay for it)."""
    if name == "AnyLanguageWhitespaceTokenizer":
        cls = _any_language_whitespace_tokenizer()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _any_language_whitespace_tokenizer() -> type:
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    @DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
    class AnyLanguageWhitespaceTokenizer(WhitespaceTokenizer):
        """Rasa's WhitespaceTokenizer without its refusal of zh/ja/th (see b_whitespace_diet.yml)."""

        @staticmethod
        def not_supported_languages() -> Optional[List[str]]:
            return None

    return AnyLanguageWhitespaceTokenizer


def _short_name(component: Dict[str, Any]) -> str:
    return str(component.get("name", "")).rsplit(".", 1)[-1]


def ridedesk_settings(config: Dict[str, Any]) -> Dict[str, Any]:
    """DIET epochs and fallback thresholds of RideDesk's pipeline (Rasa defaults if absent)."""
    pipeline = config.get("pipeline") or []
    diet = next((c for c in pipeline if _short_name(c) == "DIETClassifier"), {})
    fallback = next((c for c in pipeline if _short_name(c) == "FallbackClassifier"), {})
    settings = {
        "epochs": diet.get("epochs", RASA_DEFAULT_EPOCHS),
        "threshold": fallback.get("threshold", RASA_DEFAULT_THRESHOLD),
    }
    if "ambiguity_threshold" in fallback:
        settings["ambiguity_threshold"] = fallback["ambiguity_threshold"]
    return settings


def with_seed(config: Dict[str, Any], seed: int) -> Dict[str, Any]:
    """A copy of a Rasa config whose DIET and ResponseSelector train with ``seed``."""
    out = copy.deepcopy(config)
    for component in out.get("pipeline") or []:
        if _short_name(component) in {"DIETClassifier", "ResponseSelector"}:
            component["random_seed"] = seed
    return out


def seeded_configs(config: Dict[str, Any], runs: int) -> List[Tuple[Optional[int], Dict[str, Any]]]:
    """The configs to train for one system: ``(seed, config)`` pairs.

    One run trains the config as written, with its own seeds (a ``--config`` file that
    sets ``random_seed: 7`` is trained with 7); several runs use the seeds 42, 43, ...
    """
    if runs == 1:
        return [(None, config)]
    return [(FIRST_SEED + i, with_seed(config, FIRST_SEED + i)) for i in range(runs)]


def nlu_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """The NLU part of a Rasa config (recipe, language, assistant_id, pipeline)."""
    out = {"recipe": config.get("recipe", "default.v1"), "language": config.get("language", "zh")}
    if config.get("assistant_id"):
        out["assistant_id"] = config["assistant_id"]
    out["pipeline"] = copy.deepcopy(config.get("pipeline") or [])
    return out


def with_ridedesk_settings(config: Dict[str, Any], settings: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of a baseline config whose DIET/FallbackClassifier use RideDesk's settings."""
    out = nlu_config(config)
    for component in out["pipeline"]:
        if _short_name(component) == "DIETClassifier":
            component["epochs"] = settings["epochs"]
        elif _short_name(component) == "FallbackClassifier":
            component["threshold"] = settings["threshold"]
            if "ambiguity_threshold" in settings:
                component["ambiguity_threshold"] = settings["ambiguity_threshold"]
    return out


def load_examples(path: Path) -> Tuple[List[str], List[str]]:
    """Texts and full intent names (``faq/pricing``) of a Rasa NLU file or directory."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    texts, intents = [], []
    for message in data.intent_examples:
        texts.append(message.get(TEXT))
        intents.append(message.get(INTENT_RESPONSE_KEY) or message.get(INTENT))
    return texts, intents


async def _parse_all(agent: Any, text_lists: Sequence[Sequence[str]]) -> List[Tuple[List[Optional[str]], List[float]]]:
    await agent.parse_message(WARMUP_TEXT)  # first call builds TF functions
    out = []
    for texts in text_lists:
        predicted, times = [], []
        for text in texts:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            times.append((time.perf_counter() - start) * 1000)
            predicted.append((parsed.get("intent") or {}).get("name"))
        out.append((predicted, times))
    return out


def run_rasa(config: Dict[str, Any], work: Path, key: str,
             text_lists: Sequence[Sequence[str]]) -> Tuple[List[Tuple[List[Optional[str]], List[float]]], float]:
    """Trains an NLU-only Rasa model on data/nlu, then parses each list of texts one
    message at a time; returns (predictions, per-message ms) per list and training seconds."""
    import yaml
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config_path = work / f"{key}.config.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    start = time.perf_counter()
    model = train_nlu(config=str(config_path), nlu_data=str(REPO / "data" / "nlu"), output=str(work / "models"),
                      fixed_model_name=key, domain=str(REPO / "domain.yml"))
    train_s = time.perf_counter() - start
    if not model:
        raise RuntimeError("rasa.model_training.train_nlu returned no model")
    agent = Agent.load(model)
    parsed = asyncio.run(_parse_all(agent, text_lists))
    del agent
    gc.collect()
    return parsed, train_s


def run_sklearn(settings: Dict[str, Any],
                text_lists: Sequence[Sequence[str]]) -> Tuple[List[Tuple[List[str], List[float]]], float]:
    start = time.perf_counter()
    train_texts, train_intents = load_examples(REPO / "data" / "nlu")
    clf = JiebaTfidfClassifier(settings["threshold"], REPO / "data" / "dictionary" / "userdict.txt")
    clf.fit(train_texts, train_intents)
    train_s = time.perf_counter() - start
    clf.predict(WARMUP_TEXT)
    out = []
    for texts in text_lists:
        predicted, times = [], []
        for text in texts:
            t0 = time.perf_counter()
            predicted.append(clf.predict(text))
            times.append((time.perf_counter() - t0) * 1000)
        out.append((predicted, times))
    return out, train_s


def _quiet_rasa() -> None:
    import jieba
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)


def main(argv: Optional[Sequence[str]] = None) -> int:
    import yaml

    parser = argparse.ArgumentParser(prog="python -m bench.nlu_compare", description=__doc__.split("\n")[0])
    parser.add_argument("--eval", action="append", metavar="FILE",
                        help="Rasa NLU YAML file to score on (default tests/nlu/heldout.yml). May be repeated: "
                             "the systems are trained once and scored on each file, whose results then go "
                             "to <out>/<file stem>/")
    parser.add_argument("--out", default="results/bench", help="folder for nlu_compare.json and the PNGs")
    parser.add_argument("--systems", default="a,b,c,d",
                        help="comma-separated subset of a,b,c,d to run (default all four)")
    parser.add_argument("--config", default=str(REPO / "config.yml"),
                        help="the config whose NLU pipeline is system (a), to try a change before "
                             "it goes into config.yml (default config.yml)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="train each DIET system this many times (seeds 42, 43, ...) and report the "
                             "mean with the lowest and highest run (default 1)")
    args = parser.parse_args(argv)
    config_path = Path(args.config).resolve()
    wanted = {s.strip() for s in args.systems.split(",") if s.strip()}
    if not wanted or not wanted <= {"a", "b", "c", "d"}:
        print("--systems takes letters among a,b,c,d", file=sys.stderr)
        return 2
    if args.seeds < 1:
        print("--seeds takes a whole number of 1 or more", file=sys.stderr)
        return 2
    eval_paths = [Path(e).resolve() for e in (args.eval or [str(REPO / "tests" / "nlu" / "heldout.yml")])]
    out = Path(args.out).resolve()
    missing = [str(e) for e in eval_paths if not e.is_file()]
    if missing:
        print(f"evaluation file not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    out_dirs = [out] if len(eval_paths) == 1 else [out / e.stem for e in eval_paths]
    if len(set(out_dirs)) != len(out_dirs):
        print("evaluation files need distinct names (stems)", file=sys.stderr)
        return 2
    os.chdir(REPO)  # config.yml's paths (data/dictionary, data/entities) are relative to the repo
    sys.path.insert(0, str(REPO))
    started = time.perf_counter()

    ridedesk_config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    settings = ridedesk_settings(ridedesk_config)
    systems: List[Tuple[str, str, Optional[Dict[str, Any]]]] = [
        ("a_ridedesk", f"(a) RideDesk {config_path.name}", nlu_config(ridedesk_config)),
        ("b_whitespace", "(b) whitespace + CountVectors + DIET", with_ridedesk_settings(
            yaml.safe_load((PIPELINES / "b_whitespace_diet.yml").read_text(encoding="utf-8")), settings)),
        ("c_jieba_tfidf", "(c) jieba + TF-IDF + LogReg", None),
        ("d_char_ngrams", "(d) char 1-4 n-grams + DIET", with_ridedesk_settings(
            yaml.safe_load((PIPELINES / "d_char_ngram_diet.yml").read_text(encoding="utf-8")), settings)),
    ]
    systems = [system for system in systems if system[0][0] in wanted]
    for _, _, config in systems:
        if config is not None and ridedesk_config.get("assistant_id"):
            config.setdefault("assistant_id", ridedesk_config["assistant_id"])

    _quiet_rasa()
    evals = [load_examples(e) for e in eval_paths]
    for path, (texts, _) in zip(eval_paths, evals):
        print(f"eval {path}: {len(texts)} messages", flush=True)
    print(f"DIET epochs {settings['epochs']}, fallback threshold {settings['threshold']} (from config.yml)", flush=True)

    results: List[List[SystemResult]] = [[] for _ in eval_paths]  # per eval file, per system
    with tempfile.TemporaryDirectory(prefix="nlu_compare_") as tmp:
        work = Path(tmp)
        # No training cache: every run really trains (honest training times), and nothing
        # is written to the repository's .rasa/.
        os.environ["RASA_CACHE_DIRECTORY"] = str(work / "cache")
        os.environ["RASA_MAX_CACHE_SIZE"] = "0"
        for key, name, config in systems:
            print(f"== {name}: training", flush=True)
            text_lists = [texts for texts, _ in evals]
            try:
                per_seed: List[List[Tuple[Optional[int], SystemResult]]] = [[] for _ in eval_paths]
                # (c) is deterministic: one run whatever --seeds says.
                trainings = seeded_configs(config, args.seeds) if config is not None else [(None, None)]
                for seed, seeded in trainings:
                    if seeded is None:
                        parsed, train_s = run_sklearn(settings, text_lists)
                    else:
                        parsed, train_s = run_rasa(seeded, work, f"{key}_{seed or 'own'}", text_lists)
                    for (_, gold), (predicted, times), runs in zip(evals, parsed, per_seed):
                        runs.append((seed, score(key, name, gold, predicted, times, train_s)))
                    if len(trainings) > 1:
                        print(f"   seed {seed}: " + "; ".join(
                            f"{path.name} macro-F1 {runs[-1][1].macro_f1:.3f}" for path, runs in zip(eval_paths, per_seed)),
                            flush=True)
                scored = []
                for runs, out_dir in zip(per_seed, out_dirs):
                    result = combine_runs(runs)
                    result.figure = str(plot_confusion(result, out_dir / f"confusion_{key}.png"))
                    scored.append(result)
            except Exception as exc:  # one broken system must not hide the others
                traceback.print_exc()
                error = f"{type(exc).__name__}: {exc}"[:200]
                scored = [SystemResult(key=key, name=name, error=error) for _ in eval_paths]
            for path, result, per_eval in zip(eval_paths, scored, results):
                per_eval.append(result)
                if not result.error:
                    print(f"== {name} on {path.name}: accuracy {result.accuracy:.3f}, macro-F1 "
                          f"{result.macro_f1:.3f}, fallback {result.fallback_rate:.1%}, train {result.train_s:.0f} s",
                          flush=True)

    wall_s = time.perf_counter() - started
    for path, (texts, _), out_dir, per_eval in zip(eval_paths, evals, out_dirs, results):
        table = markdown_table(per_eval)
        out_dir.mkdir(parents=True, exist_ok=True)
        report = {
            "eval_file": str(path),
            "n_messages": len(texts),
            "classes": list(CLASSES),
            "ridedesk_settings": settings,
            "configs": {key: config for key, _, config in systems if config is not None},
            "systems": [asdict(r) for r in per_eval],
            "table_markdown": table,
            "figures": {r.key: r.figure for r in per_eval if r.figure},
            "eval_files_in_run": [str(e) for e in eval_paths],
            "seeds": args.seeds,
            "wall_s": round(wall_s, 1),
        }
        json_path = out_dir / "nlu_compare.json"
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

        print()
        print(f"NLU comparison on {path} ({len(texts)} messages; six classes; F1 columns: "
              + ", ".join(f"{SHORT[c]} = {c}" for c in CORE_INTENTS) + ")")
        print()
        print(table)
        print()
        for r in per_eval:
            if r.figure:
                print(f"confusion matrix {r.key}: {r.figure}")
        print(f"json: {json_path}")
    print(f"wall time {wall_s:.0f} s")
    return 1 if any(r.error for per_eval in results for r in per_eval) else 0


if __name__ == "__main__":
    # Run the imported module, not __main__, so the tokenizer Rasa registers and
    # serialises is bench.nlu_compare.AnyLanguageWhitespaceTokenizer.
    from bench.nlu_compare import main as _main

    sys.exit(_main())
