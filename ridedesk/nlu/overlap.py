"""Checks that training examples do not copy or closely paraphrase evaluation messages.

An evaluation file only measures understanding if none of its messages (or a near
copy) is in ``data/nlu``. Two texts count as too close when, after dropping
punctuation and spaces, either their ``difflib`` ratio or the Jaccard overlap of their
character bigrams reaches the threshold (0.6 by default). Bigrams catch reordered
paraphrases that the sequence ratio misses.

Run ``python -m ridedesk.nlu.overlap [EVAL_FILE ...]``. The report names the training
file and example but never prints the evaluation text, so whoever fixes the training
data does not read the evaluation messages.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import FrozenSet, Iterable, Iterator, List, Sequence, Text, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
DEFAULT_EVAL_FILES = (
    PROJECT_ROOT / "tests" / "nlu" / "heldout.yml",
    PROJECT_ROOT.parent / "shared" / "eval" / "dev_real.yml",
)
THRESHOLD = 0.6
# Very short texts ("好的", "谢谢") are legitimately shared by every dataset.
MIN_CHARS = 6

_NOT_CONTENT = re.compile(r"[\W_]+", re.UNICODE)
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


@dataclass(frozen=True)
class NluExample:
    """One example of an NLU YAML file."""

    path: Path
    intent: Text
    text: Text


@dataclass(frozen=True)
class Overlap:
    """A training example too close to an evaluation message."""

    training: NluExample
    eval_path: Path
    eval_intent: Text
    score: float


def read_examples(path: Path) -> List[NluExample]:
    """Reads the examples of one Rasa NLU YAML file, with entity markup removed.

    Args:
        path: an NLU file in Rasa's 3.x YAML format.

    Returns:
        Its examples in file order.
    """
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in content.get("nlu", []) or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            text = _ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", line[2:])
            examples.append(NluExample(path, str(block["intent"]), text.strip()))
    return examples


def training_examples(directory: Path = TRAINING_DIR) -> List[NluExample]:
    """All examples of every YAML file under ``directory``."""
    examples: List[NluExample] = []
    for path in sorted(directory.rglob("*.yml")):
        examples.extend(read_examples(path))
    return examples


def normalise(text: Text) -> Text:
    """Lower-cases and drops punctuation and whitespace."""
    return _NOT_CONTENT.sub("", text.lower())


def _bigrams(text: Text) -> FrozenSet[Text]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def similarity(a: Text, b: Text) -> float:
    """The larger of the sequence ratio and the bigram Jaccard of two normalised texts."""
    a, b = normalise(a), normalise(b)
    if not a or not b:
        return 0.0
    ga, gb = _bigrams(a), _bigrams(b)
    jaccard = len(ga & gb) / len(ga | gb) if ga and gb else float(a == b)
    return max(jaccard, SequenceMatcher(None, a, b, autojunk=False).ratio())


def find_overlaps(
    training: Sequence[NluExample],
    evaluation: Sequence[NluExample],
    threshold: float = THRESHOLD,
) -> List[Overlap]:
    """Pairs each evaluation message with any training example at least ``threshold`` close.

    Args:
        training: examples the models learn from.
        evaluation: messages of one or more evaluation files.
        threshold: similarity at or above which a pair is reported.

    Returns:
        The overlaps, the closest first.
    """
    prepared: List[Tuple[NluExample, Text, FrozenSet[Text]]] = []
    for example in training:
        norm = normalise(example.text)
        if len(norm) >= MIN_CHARS:
            prepared.append((example, norm, _bigrams(norm)))
    found = []
    for target in evaluation:
        norm = normalise(target.text)
        if len(norm) < MIN_CHARS:
            continue
        grams = _bigrams(norm)
        for example, other, other_grams in prepared:
            # Neither measure can reach the threshold when the lengths differ too much.
            shorter, longer = sorted((len(norm), len(other)))
            if 2 * shorter / (shorter + longer) < threshold and shorter / longer < threshold:
                continue
            jaccard = len(grams & other_grams) / len(grams | other_grams)
            score = jaccard
            if score < threshold:
                matcher = SequenceMatcher(None, norm, other, autojunk=False)
                if matcher.quick_ratio() < threshold:
                    continue
                score = max(score, matcher.ratio())
            if score >= threshold:
                found.append(Overlap(example, target.path, target.intent, score))
    return sorted(found, key=lambda o: -o.score)


def _existing(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.exists():
            yield path
        else:
            print(f"skipped (not found): {path}", file=sys.stderr)


def main(argv: Sequence[Text] = ()) -> int:
    """Prints the training examples too close to an evaluation message.

    Returns:
        0 when there are none, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_files", nargs="*", type=Path, default=list(DEFAULT_EVAL_FILES))
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(list(argv))
    training = training_examples()
    overlaps: List[Overlap] = []
    for path in _existing(args.eval_files):
        overlaps.extend(find_overlaps(training, read_examples(path), args.threshold))
    for overlap in overlaps:
        where = overlap.training.path.relative_to(PROJECT_ROOT)
        print(
            f"{overlap.score:.2f}  {where} [{overlap.training.intent}] "
            f"{overlap.training.text}  (too close to a message of {overlap.eval_path.name})"
        )
    print(f"{len(overlaps)} training example(s) at or above {args.threshold} "
          f"similarity, {len(training)} examples checked")
    return 1 if overlaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
