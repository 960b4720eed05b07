"""Scoring helpers for :class:`ridedesk.nlu.entities.RiderEntityExtractor`.

Shared by ``bench/entities.py`` (prints a report) and the regression gate in
``tests/nlu/test_entities.py``. An extracted entity counts as correct when its
type and canonical value equal an expected one in the same message (multiset
matching, so two identical numbers need two expectations).
"""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text, Tuple

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ridedesk.nlu.entities import RiderEntityExtractor

DEFAULT_EVAL_FILE = Path(__file__).resolve().parents[2] / "tests" / "nlu" / "entities_eval.yml"


@dataclass
class Example:
    """One evaluation message and its expected ``(entity, value)`` pairs."""

    text: Text
    expected: List[Tuple[Text, Text]]


@dataclass
class TypeScore:
    """Counts and scores for one entity type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Precision; 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Recall; 1.0 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """Evaluation result."""

    scores: Dict[Text, TypeScore]
    errors: List[Dict[Text, Any]] = field(default_factory=list)
    latencies_ms: List[float] = field(default_factory=list)


def load_eval_set(path: Path = DEFAULT_EVAL_FILE) -> Tuple[List[Text], List[Example]]:
    """Reads the evaluation YAML file.

    Returns:
        ``(types, examples)``.
    """
    content = rasa.shared.utils.io.read_yaml_file(path)
    types = [str(t) for t in content["types"]]
    examples = [
        Example(
            text=str(item["text"]),
            expected=[(str(e["entity"]), str(e["value"])) for e in (item.get("entities") or [])],
        )
        for item in content["examples"]
    ]
    return types, examples


def trained_extractor(
    config: Optional[Dict[Text, Any]] = None, storage_dir: Optional[Path] = None
) -> RiderEntityExtractor:
    """Trains, persists and loads the extractor through Rasa's real graph API.

    Args:
        config: Component config overrides.
        storage_dir: Model storage folder (a temporary one by default).

    Returns:
        The component returned by ``load``.
    """
    storage_dir = storage_dir or Path(tempfile.mkdtemp(prefix="rider-entities-"))
    storage = LocalModelStorage.create(storage_dir)
    resource = Resource("train_RiderEntityExtractor0")
    context = ExecutionContext(GraphSchema({}), "bench")
    component = RiderEntityExtractor.create(config or {}, storage, resource, context)
    component.train(TrainingData())
    return RiderEntityExtractor.load(config or {}, storage, resource, context)


def evaluate(
    component: RiderEntityExtractor, examples: Iterable[Example], types: Sequence[Text]
) -> Report:
    """Runs the component on every example and scores the given entity types."""
    scores = {t: TypeScore() for t in types}
    report = Report(scores=scores)
    for example in examples:
        message = Message(data={TEXT: example.text})
        started = time.perf_counter()
        component.process([message])
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        entities = message.get(ENTITIES) or []
        for entity in entities:
            if not (0 <= entity["start"] < entity["end"] <= len(example.text)):
                raise AssertionError(f"entity offsets out of bounds: {entity} in {example.text!r}")
        predicted = Counter((e["entity"], str(e["value"])) for e in entities if e["entity"] in scores)
        expected = Counter(pair for pair in example.expected if pair[0] in scores)
        for (entity, value), count in (predicted | expected).items():
            tp = min(predicted[(entity, value)], expected[(entity, value)])
            fp = predicted[(entity, value)] - tp
            fn = expected[(entity, value)] - tp
            scores[entity].tp += tp
            scores[entity].fp += fp
            scores[entity].fn += fn
            if fp or fn:
                report.errors.append(
                    {"text": example.text, "entity": entity, "value": value, "fp": fp, "fn": fn}
                )
    return report
