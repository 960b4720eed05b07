"""How upset is the rider? A small, explainable lexicon score.

A first-line bot should notice a rider who is boiling over and bring in a person instead
of answering with a template. The lexicon lives in ``data/lexicon/anger.yml`` so trainers
can tune it without touching code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

import yaml

from ridedesk.settings import PROJECT_ROOT
from ridedesk.text import normalize

DEFAULT_LEXICON = PROJECT_ROOT / "data" / "lexicon" / "anger.yml"
_REPEATED_MARKS = re.compile(r"[!?！？]{3,}")


@dataclass(frozen=True)
class AngerLexicon:
    """Weighted anger words and the score from which a rider counts as strongly angry."""

    words: Dict[str, int]
    threshold: int
    repeated_marks: int = 1

    @classmethod
    def load(cls, path: Optional[Path] = None) -> "AngerLexicon":
        """Reads the lexicon from YAML."""
        raw = yaml.safe_load(Path(path or DEFAULT_LEXICON).read_text(encoding="utf-8"))
        words = {str(word).lower(): int(weight) for word, weight in (raw.get("words") or {}).items()}
        signs = raw.get("signs") or {}
        return cls(words=words, threshold=int(raw["threshold"]), repeated_marks=int(signs.get("repeated_marks", 1)))

    def score(self, text: str) -> int:
        """Scores one message: the weights of the words it contains, plus shouted punctuation."""
        clean = normalize(text or "").lower()
        total = sum(weight for word, weight in self.words.items() if word in clean)
        if _REPEATED_MARKS.search(clean):
            total += self.repeated_marks
        return total

    def is_strongly_angry(self, text: str) -> bool:
        """True when a message reaches the lexicon's threshold."""
        return self.score(text) >= self.threshold


@lru_cache(maxsize=1)
def default_lexicon() -> AngerLexicon:
    """The project's lexicon, read once per process."""
    return AngerLexicon.load()
