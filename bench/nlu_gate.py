"""Regression gate on the held-out NLU file: fails when understanding gets worse.

Reads the intent report that ``rasa test nlu`` wrote and compares accuracy and macro-F1
with the floors in ``tests/nlu/gate.yml``. Raise the floors when the model gets better;
never lower them to make a data change pass.

Usage: ``python -m bench.nlu_gate results/nlu``
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

GATE_FILE = Path(__file__).resolve().parent.parent / "tests" / "nlu" / "gate.yml"


def main(results_dir: str) -> int:
    """Prints the held-out figures and returns a non-zero exit code below the floors."""
    report = json.loads((Path(results_dir) / "intent_report.json").read_text(encoding="utf-8"))
    floors = yaml.safe_load(GATE_FILE.read_text(encoding="utf-8"))
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"held-out intents: accuracy {accuracy:.3f} (floor {floors['accuracy']}), macro-F1 {macro_f1:.3f} (floor {floors['macro_f1']})")
    weak = sorted(
        (name, row["f1-score"]) for name, row in report.items()
        if isinstance(row, dict) and "f1-score" in row and name not in {"macro avg", "weighted avg", "micro avg"} and row["f1-score"] < floors["per_intent_f1"]
    )
    for name, f1 in weak:
        print(f"  below the per-intent floor {floors['per_intent_f1']}: {name} F1 {f1:.3f}")
    ok = accuracy >= floors["accuracy"] and macro_f1 >= floors["macro_f1"] and not weak
    print("NLU gate: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/nlu"))
