"""Benchmark RiderEntityExtractor on tests/nlu/entities_eval.yml.

Trains the component through its real create → train → persist → load cycle
(in a temporary LocalModelStorage), runs it on every evaluation message and
prints precision / recall / F1 per entity type, plus per-message latency.

Usage::

    .venv/bin/python bench/entities.py [--eval-file PATH] [--errors] [--min 0.97]

Exits 1 when ``--min`` is given and a precision or recall is below it.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    """Runs the benchmark and prints the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-file", type=Path, default=ROOT / "tests" / "nlu" / "entities_eval.yml")
    parser.add_argument("--errors", action="store_true", help="list every wrong or missing entity")
    parser.add_argument("--min", type=float, default=None, help="fail below this precision/recall")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    os.chdir(ROOT)  # data/entities and data/dictionary are read relative to the project
    from ridedesk.nlu.evaluation import evaluate, load_eval_set, trained_extractor

    types, examples = load_eval_set(args.eval_file)
    component = trained_extractor()
    evaluate(component, examples[:5], types)  # warm-up
    report = evaluate(component, examples, types)

    print(f"RiderEntityExtractor on {args.eval_file.name}: {len(examples)} messages")
    print(f"{'entity':<15}{'support':>8}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}{'f1':>7}")
    failed = False
    total_tp = total_fp = total_fn = 0
    for entity, score in report.scores.items():
        support = score.tp + score.fn
        total_tp, total_fp, total_fn = total_tp + score.tp, total_fp + score.fp, total_fn + score.fn
        print(
            f"{entity:<15}{support:>8}{score.tp:>5}{score.fp:>5}{score.fn:>5}"
            f"{score.precision:>11.3f}{score.recall:>8.3f}{score.f1:>7.3f}"
        )
        if args.min is not None and min(score.precision, score.recall) < args.min:
            failed = True
    micro_p = total_tp / (total_tp + total_fp) if total_tp + total_fp else 1.0
    micro_r = total_tp / (total_tp + total_fn) if total_tp + total_fn else 1.0
    micro_f = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    print(f"{'micro':<15}{total_tp + total_fn:>8}{total_tp:>5}{total_fp:>5}{total_fn:>5}"
          f"{micro_p:>11.3f}{micro_r:>8.3f}{micro_f:>7.3f}")
    latencies = sorted(report.latencies_ms)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"latency per message: mean {statistics.mean(latencies):.2f} ms, p95 {p95:.2f} ms, "
          f"max {latencies[-1]:.2f} ms")
    if args.errors or failed:
        for error in report.errors:
            kind = "FP" if error["fp"] else "FN"
            print(f"  {kind} {error['entity']}={error['value']!r}: {error['text']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
