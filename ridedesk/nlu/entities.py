"""Rule-based entity extractor for riders' Chinese messages (Rasa 3.6 graph component).

Use it in ``config.yml``::

    pipeline:
      - name: JiebaTokenizer
      # ...
      - name: ridedesk.nlu.entities.RiderEntityExtractor
        data_dir: data/entities                      # default
        userdict_path: data/dictionary/userdict.txt  # default; may be missing

Entities (``value`` is canonical):

==================  =========================================================
``bike_number``     9 digits, ``"862104573"``
``order_number``    12 digits, ``"202611180031"``
``phone_number``    11-digit mainland mobile, ``"13812345678"``
``ticket_number``   ``"GD"`` + 12 digits, ``"GD202611220001"``
``amount``          yuan as a decimal string, ``"199"``, ``"12.5"``, ``"0.5"``
``fault_part``      canonical part name from ``fault_parts.yml``, ``"刹车"``
``place``           the matched text of the original message, ``"人民广场地铁站"``
==================  =========================================================

How it works:

* **Training** reads ``fault_parts.yml``, ``places.yml`` and ``numbers.yml`` from
  ``data_dir`` and jieba's user dictionary from ``userdict_path`` (tolerated
  missing), adds ``place`` lookup tables and ``fault_part`` synonyms from the
  NLU training data, and persists the result as one JSON file in the model
  storage (like Rasa's ``RegexEntityExtractor``). A trained model therefore
  does not need ``data/`` at run time. ``fingerprint_addon`` hashes those files
  so Rasa retrains the component when they change.
* **Processing** normalises the text with :func:`ridedesk.text.normalize_with_offsets`
  (full-width → ASCII, Chinese numerals → digits, ``862 104 573`` →
  ``862104573``), segments it with spaCy's Chinese language using a *private*
  jieba tokenizer (the global ``jieba`` state used by Rasa's ``JiebaTokenizer``
  is never modified), then runs a spaCy ``EntityRuler`` (fault parts,
  landmarks) and a ``Matcher`` (numbers, tickets, money, place suffixes).
  Numbers are classified by length/format and by the nearest preceding
  context word (车号 → bike, 订单 → order, 电话 → phone, 工单 → ticket, QQ/微信/
  身份证… → not an entity).
* **Offsets**: ``start``/``end`` always index the *original* message text.
  A character of the normalised text that came from several original
  characters (a converted Chinese numeral, joined digit groups) maps to the
  whole original span, so ``text[start:end]`` of ``车号 ８６２ １０４ ５７３`` is
  ``８６２ １０４ ５７３``. Only the first ``max_chars`` characters are searched.
* Entities of the same type that overlap an entity already set by another
  extractor are not added again; if the other extractor's value is the raw
  text, it is replaced by the canonical value (``add_processor_name``).
* ``process_training_data`` returns the training data unchanged: predicted
  entities must never become gold annotations for trainable extractors.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Text, Tuple

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ridedesk import text as rtext

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]

BIKE_NUMBER = "bike_number"
ORDER_NUMBER = "order_number"
PHONE_NUMBER = "phone_number"
TICKET_NUMBER = "ticket_number"
AMOUNT = "amount"
FAULT_PART = "fault_part"
PLACE = "place"
ALL_ENTITIES = (BIKE_NUMBER, ORDER_NUMBER, PHONE_NUMBER, TICKET_NUMBER, AMOUNT, FAULT_PART, PLACE)

LEXICON_FORMAT = 1

#: Used when ``numbers.yml`` is missing (and by an untrained/unloadable component).
DEFAULT_NUMBERS: Dict[str, Any] = {
    "context": {
        BIKE_NUMBER: ["车号", "车牌", "编号", "车辆编号"],
        ORDER_NUMBER: ["订单", "订单号", "单号"],
        PHONE_NUMBER: ["电话", "手机", "手机号", "联系"],
        TICKET_NUMBER: ["工单", "工单号"],
        "none": ["QQ", "微信", "身份证", "银行卡", "验证码"],
    },
    "adjacent_chars": 4,
    "window_chars": 12,
    "amount_block_followers": ["电池", "板", "牌", "地", "屏", "玻璃", "表", "区域", "儿"],
}

_HAN = "\u4e00-\u9fff"
_MONEY_TOKENS = ("元", "块", "圆", "块钱", "元钱", "rmb", "RMB")
_JIAO_TOKENS = ("毛", "角", "毛钱")
_UNIT_AFTER_DIGIT = re.compile(
    r"^(?:\d|元|块|圆|天|个|次|分|小时|钟|秒|号|年|月|日|周|岁|公里|千米|米|辆|位|单|笔|趟|回|张|折|档|倍|楼|层|遍|件|份|站|条|星)"
)
_CLAUSE_BREAKS = set(",，.。;；!！?？\n")
_HIGH_FREQ = 200_000  # jieba frequency given to lexicon words so they segment as one token


# --------------------------------------------------------------------------- #
# Lexicon (built at training time, persisted with the model)
# --------------------------------------------------------------------------- #


def _plain(obj: Any) -> Any:
    """Converts ruamel containers to plain JSON-able Python objects."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    return str(obj)


def _resolve_path(path: Optional[Text]) -> Optional[Path]:
    """Resolves a configured path against the cwd, then the project root."""
    if not path:
        return None
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return PROJECT_ROOT / candidate


def _read_yaml(path: Path) -> Dict[str, Any]:
    if not path.is_file():
        rasa.shared.utils.io.raise_warning(
            f"RiderEntityExtractor: '{path}' not found; continuing without it."
        )
        return {}
    content = _plain(rasa.shared.utils.io.read_yaml_file(path)) or {}
    if not isinstance(content, dict):
        raise ValueError(f"RiderEntityExtractor: '{path}' must contain a mapping.")
    return content


def _str_list(values: Any) -> List[str]:
    if not isinstance(values, list):
        return []
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def read_userdict(path: Optional[Path]) -> List[List[Any]]:
    """Reads a jieba user dictionary (``word [freq] [tag]`` per line).

    Args:
        path: File path; a missing file gives an empty list.

    Returns:
        ``[[word, freq_or_None, tag_or_None], ...]``; malformed lines are skipped.
    """
    if path is None or not path.is_file():
        if path is not None:
            logger.info("RiderEntityExtractor: jieba user dictionary %s not found.", path)
        return []
    entries: List[List[Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.strip().lstrip("\ufeff").split()
        if not parts or parts[0].startswith("#"):
            continue
        word, freq, tag = parts[0], None, None
        for part in parts[1:3]:
            if freq is None and part.isdigit():
                freq = int(part)
            elif tag is None and not part.isdigit():
                tag = part
        entries.append([word, freq, tag])
    return entries


def build_lexicon(
    data_dir: Optional[Path],
    userdict_path: Optional[Path],
    training_data: Optional[TrainingData] = None,
) -> Dict[str, Any]:
    """Builds the extractor's lexicon from the data files and training data.

    Args:
        data_dir: Folder with ``fault_parts.yml``, ``places.yml``, ``numbers.yml``.
        userdict_path: jieba user dictionary (may be missing).
        training_data: NLU training data: ``place`` lookup tables and synonyms
            whose canonical value is a known fault part are added.

    Returns:
        A JSON-serialisable lexicon.
    """
    data_dir = data_dir or Path("/nonexistent")
    faults_yaml = _read_yaml(data_dir / "fault_parts.yml")
    places_yaml = _read_yaml(data_dir / "places.yml")
    numbers_yaml = _read_yaml(data_dir / "numbers.yml")

    fault_parts: Dict[str, List[str]] = {}
    for canonical, synonyms in (faults_yaml.get("fault_parts") or {}).items():
        canonical = str(canonical).strip()
        if canonical:
            fault_parts[canonical] = sorted({canonical, *_str_list(synonyms)}, key=lambda s: (-len(s), s))

    suffixes = []
    for item in places_yaml.get("suffixes") or []:
        if isinstance(item, dict) and str(item.get("suffix", "")).strip():
            suffixes.append(
                {"suffix": str(item["suffix"]).strip(), "min_prefix": max(1, int(item.get("min_prefix", 1)))}
            )
        elif isinstance(item, str) and item.strip():
            suffixes.append({"suffix": item.strip(), "min_prefix": 1})
    landmarks = set(_str_list(places_yaml.get("landmarks")))

    if training_data is not None:
        for table in training_data.lookup_tables or []:
            if table.get("name") == PLACE and isinstance(table.get("elements"), list):
                landmarks.update(_str_list(table["elements"]))
        for synonym, canonical in (training_data.entity_synonyms or {}).items():
            if canonical in fault_parts and synonym and synonym not in fault_parts[canonical]:
                fault_parts[canonical].append(str(synonym))

    numbers = dict(DEFAULT_NUMBERS)
    numbers["context"] = dict(DEFAULT_NUMBERS["context"])
    if numbers_yaml:
        context = numbers_yaml.get("context") or {}
        numbers["context"] = {
            key: _str_list(context.get(key)) for key in (*DEFAULT_NUMBERS["context"].keys(),)
        }
        for key in ("adjacent_chars", "window_chars"):
            if isinstance(numbers_yaml.get(key), int):
                numbers[key] = numbers_yaml[key]
        if "amount_block_followers" in numbers_yaml:
            numbers["amount_block_followers"] = _str_list(numbers_yaml["amount_block_followers"])

    return {
        "format": LEXICON_FORMAT,
        "fault_parts": fault_parts,
        "places": {
            "suffixes": suffixes,
            "landmarks": sorted(landmarks),
            "not_places": _str_list(places_yaml.get("not_places")),
            "prefix_stopwords": _str_list(places_yaml.get("prefix_stopwords")),
        },
        "numbers": numbers,
        "userdict": read_userdict(userdict_path),
    }


def default_lexicon() -> Dict[str, Any]:
    """The lexicon of an untrained component: numbers and money only."""
    return {
        "format": LEXICON_FORMAT,
        "fault_parts": {},
        "places": {"suffixes": [], "landmarks": [], "not_places": [], "prefix_stopwords": []},
        "numbers": DEFAULT_NUMBERS,
        "userdict": [],
    }


# --------------------------------------------------------------------------- #
# spaCy pipeline
# --------------------------------------------------------------------------- #


class _Segmenter:
    """jieba segmentation that keeps digit runs and money units as separate words.

    Plugged into spaCy's ``ChineseTokenizer`` as its ``jieba_seg``. Wraps a private
    ``jieba.Tokenizer`` so lexicon words never leak into the global jieba used by
    Rasa's ``JiebaTokenizer``.
    """

    _PIECES = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+|[^A-Za-z\d]+")

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def cut(self, text: str, cut_all: bool = False, HMM: bool = True) -> Iterator[str]:  # noqa: N803
        previous_is_number = False
        for word in self._tokenizer.cut(text, cut_all=False, HMM=HMM):
            if not word:
                continue
            # digits never share a token with letters or Han: NO.862104573, GD2026…, 2块
            pieces = self._PIECES.findall(word) if any(c.isdigit() for c in word) else [word]
            for piece in pieces:
                if (
                    previous_is_number
                    and len(piece) > 1
                    and piece[0] in "元块圆毛角"
                    and piece not in ("块钱", "元钱", "毛钱")
                ):
                    yield piece[0]
                    piece = piece[1:]
                yield piece
                previous_is_number = piece[-1].isdigit()


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda s: (-len(s), s)))


class _Pipeline:
    """The spaCy objects built once per lexicon and shared by component instances."""

    def __init__(self, lexicon: Dict[str, Any]) -> None:
        import jieba
        import spacy
        from spacy.matcher import Matcher

        self.lexicon = lexicon
        numbers = lexicon.get("numbers") or DEFAULT_NUMBERS
        places = lexicon.get("places") or {}
        fault_parts: Dict[str, List[str]] = lexicon.get("fault_parts") or {}

        self.nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word, freq, tag in lexicon.get("userdict") or []:
            tokenizer.add_word(word, freq, tag)
        suffix_words = [s["suffix"] for s in places.get("suffixes", [])]
        lexicon_words = {w for syns in fault_parts.values() for w in syns}
        lexicon_words.update(places.get("landmarks", []))
        lexicon_words.update(w for w in suffix_words if len(w) >= 2)
        for word in sorted(lexicon_words):
            if len(word) >= 2:
                tokenizer.add_word(word, max(tokenizer.FREQ.get(word, 0) or 0, _HIGH_FREQ))
        self.nlp.tokenizer.jieba_seg = _Segmenter(tokenizer)

        # EntityRuler: fault parts (id = canonical) and known landmarks.
        patterns: List[Dict[str, Any]] = []
        for canonical, synonyms in fault_parts.items():
            patterns.extend({"label": FAULT_PART, "pattern": s, "id": canonical} for s in synonyms)
        patterns.extend({"label": PLACE, "pattern": p} for p in places.get("landmarks", []))
        if patterns:  # an empty EntityRuler would warn on every message
            ruler = self.nlp.add_pipe("entity_ruler", config={"validate": True, "overwrite_ents": True})
            ruler.add_patterns(patterns)

        # Fault words inside longer tokens (e.g. 刹车失灵, 开锁失败 from the user dictionary).
        inner = {syn: canonical for canonical, syns in fault_parts.items() for syn in syns if len(syn) >= 2}
        self._inner_fault = {k.lower(): v for k, v in inner.items()}
        self._inner_fault_re = re.compile(_alternation(inner), re.IGNORECASE) if inner else None

        # Matcher: numbers, tickets, money, places by suffix.
        self.matcher = Matcher(self.nlp.vocab, validate=True)
        number = {"TEXT": {"REGEX": r"^\d+$"}, "LENGTH": {"IN": [9, 11, 12, 13]}}
        self.matcher.add("ID", [[number]])
        twelve = {"TEXT": {"REGEX": r"^\d{12}$"}}
        self.matcher.add(
            "TICKET",
            [
                [{"LOWER": "gd"}, twelve],
                [{"LOWER": "gd"}, {"ORTH": {"IN": ["-", "_", ":", "#", "."]}}, twelve],
            ],
        )
        dec = {"TEXT": {"REGEX": r"^\d+(?:\.\d{1,2})?$"}}
        digit = {"TEXT": {"REGEX": r"^\d$"}}
        money = {"ORTH": {"IN": list(_MONEY_TOKENS)}}
        jiao = {"ORTH": {"IN": list(_JIAO_TOKENS)}}
        self.matcher.add(
            "AMOUNT",
            [
                [{"ORTH": "¥"}, dec],
                [{"LOWER": {"IN": ["rmb", "人民币"]}}, dec],
                [dec, money],
                [dec, money, {"ORTH": "钱"}],
                [dec, {"ORTH": {"IN": ["元", "块"]}}, digit],
                [dec, {"ORTH": {"IN": ["元", "块"]}}, digit, jiao],
                [digit, jiao],
            ],
        )
        self.block_followers = tuple(numbers.get("amount_block_followers") or ())

        stopwords = sorted(set(places.get("prefix_stopwords", [])))
        not_places = sorted(set(places.get("not_places", [])) | set(suffix_words) | set(stopwords))
        if suffix_words:
            prefix = {
                "TEXT": {
                    "REGEX": rf"^(?:[{_HAN}]{{2,}}|[东西南北中新老市省区县镇乡]|[A-Za-z]{{1,3}}|\d{{1,3}})$",
                    "NOT_IN": stopwords,
                }
            }
            suffix_token = {"TEXT": {"IN": sorted(set(suffix_words))}}
            by_min: Dict[int, List[str]] = {}
            for item in places.get("suffixes", []):
                by_min.setdefault(int(item["min_prefix"]), []).append(item["suffix"])
            ends_regex = "|".join(
                rf"[{_HAN}]{{{n},}}(?:{_alternation(words)})" for n, words in sorted(by_min.items())
            )
            ends_with_suffix = {"TEXT": {"REGEX": rf"^(?:{ends_regex})$", "NOT_IN": not_places}}
            self.matcher.add(
                "PLACE",
                [
                    [prefix, suffix_token],
                    [prefix, prefix, suffix_token],
                    [ends_with_suffix],
                    [prefix, ends_with_suffix],
                ],
            )

        context = numbers.get("context") or {}
        self._context_words: Dict[str, str] = {}
        for kind, words in context.items():
            for word in words:
                self._context_words.setdefault(word.lower(), kind)
        alternation = _alternation(self._context_words)
        # lookahead + capture: every position is tried, so overlapping keywords are found
        self._context_re = re.compile(f"(?=({alternation}))", re.IGNORECASE) if alternation else None
        self.window_chars = int(numbers.get("window_chars", 12))
        self.adjacent_chars = int(numbers.get("adjacent_chars", 4))

    # ------------------------------------------------------------------ #

    def context_of(self, text: str, start: int) -> Tuple[Optional[str], int]:
        """Returns the nearest preceding context kind and its distance in chars.

        Only the current clause counts: the look-back window stops at the last
        digit (a keyword before another number belongs to that number) and at
        the last clause punctuation. Overlapping keywords are all considered
        (``这辆车号码`` contains 这辆车, 车号 and 号码); the one ending nearest wins,
        the longer one on a tie.
        """
        if self._context_re is None:
            return None, 10**6
        lo = max(0, start - self.window_chars)
        window = text[lo:start]
        cut = max((i for i, c in enumerate(window) if c.isdigit() or c in _CLAUSE_BREAKS), default=-1)
        window = window[cut + 1 :]
        best: Optional[Tuple[int, int, str]] = None
        for match in self._context_re.finditer(window):
            word = match.group(1)
            end = match.start() + len(word)
            if best is None or (end, len(word)) > (best[0], best[1]):
                best = (end, len(word), word)
        if best is None:
            return None, 10**6
        return self._context_words[best[2].lower()], len(window) - best[0]

    def candidates(self, text: str) -> List[Tuple[int, int, int, str, str]]:
        """Finds entity candidates in *normalised* text.

        Returns:
            ``(rank, start, end, entity, value)`` tuples over ``text``; a lower
            rank wins overlaps, then the longer span.
        """
        doc = self.nlp(text)
        found: List[Tuple[int, int, int, str, str]] = []
        amounts: Dict[int, List[int]] = {}
        for match_id, s, e in self.matcher(doc):
            key = self.nlp.vocab.strings[match_id]
            span = doc[s:e]
            if key == "ID":
                item = self._classify_number(doc, s, e, text)
                if item:
                    found.append(item)
            elif key == "TICKET":
                cs = span.start_char
                if cs > 0 and text[cs - 1].isalnum() and text[cs - 1].isascii():
                    continue
                if span.end_char < len(text) and text[span.end_char].isdigit():
                    continue
                digits = re.sub(r"\D", "", span.text)
                found.append((0, cs, span.end_char, TICKET_NUMBER, "GD" + digits))
            elif key == "AMOUNT":
                amounts.setdefault(s, []).append(e)
            elif key == "PLACE":
                found.append((3, span.start_char, span.end_char, PLACE, span.text))
        for s, ends in amounts.items():
            for e in sorted(set(ends), reverse=True):
                value = self._amount_value(doc, s, e, text)
                if value is not None:
                    found.append((2, doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), AMOUNT, value))
                    break
        if self._inner_fault_re is not None:
            for token in doc:
                if len(token) <= 2 or token.ent_type_ == FAULT_PART:
                    continue
                for match in self._inner_fault_re.finditer(token.text):
                    start = token.idx + match.start()
                    canonical = self._inner_fault[match.group().lower()]
                    found.append((3, start, start + len(match.group()), FAULT_PART, canonical))
        for ent in doc.ents:
            if ent.label_ == FAULT_PART:
                found.append((3, ent.start_char, ent.end_char, FAULT_PART, ent.ent_id_ or ent.text))
            elif ent.label_ == PLACE:
                found.append((3, ent.start_char, ent.end_char, PLACE, ent.text))
        return found

    def _classify_number(self, doc: Any, s: int, e: int, text: str) -> Optional[Tuple[int, int, int, str, str]]:
        span = doc[s:e]
        cs, ce = span.start_char, span.end_char
        digits = span.text
        before = text[cs - 1] if cs > 0 else ""
        after = text[ce : ce + 2]
        if before and before.isascii() and (before.isalnum() or before == "."):
            if not re.search(r"(?i)(?<![a-z])no\.?\s?$", text[:cs]):  # NO.862104573 is fine
                return None
        if after and (after[0].isascii() and after[0].isalnum() or re.match(r"\.\d", after)):
            return None
        if e < len(doc) and doc[e].text in _MONEY_TOKENS + _JIAO_TOKENS:
            return None  # a money amount, not an identifier
        kind, distance = self.context_of(text, cs)
        adjacent = distance <= self.adjacent_chars
        if kind == "none" and adjacent:
            return None
        length = len(digits)
        if length == 9:
            if adjacent and kind in (ORDER_NUMBER, PHONE_NUMBER, TICKET_NUMBER):
                return None
            return (1, cs, ce, BIKE_NUMBER, digits)
        if length == 12:
            if kind == TICKET_NUMBER:
                return (1, cs, ce, TICKET_NUMBER, "GD" + digits)
            if adjacent and kind in (BIKE_NUMBER, PHONE_NUMBER):
                return None
            return (1, cs, ce, ORDER_NUMBER, digits)
        if length == 13 and not digits.startswith("86"):
            return None
        phone = rtext.mobile_number(digits[-11:])
        if phone is None or (adjacent and kind in (BIKE_NUMBER, ORDER_NUMBER, TICKET_NUMBER)):
            return None
        prefix = re.search(r"(?:\+|00)?86[ -]?$" if length == 11 else r"(?:\+|00)$", text[:cs])
        if prefix and (prefix.start() == 0 or not text[prefix.start() - 1].isdigit()):
            cs = prefix.start()
        return (1, cs, ce, PHONE_NUMBER, phone)

    def _amount_value(self, doc: Any, s: int, e: int, text: str) -> Optional[str]:
        span = doc[s:e]
        match = rtext.AMOUNT_PATTERN.fullmatch(span.text.replace(" ", ""))
        if not match:
            return None
        first, last = doc[s], doc[e - 1]
        if first.text[0].isdigit() and first.idx > 0:
            before = text[first.idx - 1]
            if before.isascii() and (before.isalnum() or before in ".+-"):
                return None
        following = doc[e].text if e < len(doc) else ""
        if last.text.isdigit() and doc[e - 2].text in ("元", "块"):
            # 1块5: the 5 must not start something else (1块5天, 1块50)
            if following and _UNIT_AFTER_DIGIT.match(following):
                return None
        if last.text == "块" and following.startswith(self.block_followers) and self.block_followers:
            return None  # 两块电池
        return rtext.amount_from_match(match)


_PIPELINES: Dict[str, _Pipeline] = {}
_PIPELINES_LOCK = threading.Lock()


def _pipeline_for(lexicon: Dict[str, Any]) -> _Pipeline:
    key = hashlib.sha256(json.dumps(lexicon, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with _PIPELINES_LOCK:
        pipeline = _PIPELINES.get(key)
        if pipeline is None:
            pipeline = _Pipeline(lexicon)
            _PIPELINES[key] = pipeline
        return pipeline


# --------------------------------------------------------------------------- #
# The graph component
# --------------------------------------------------------------------------- #


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True
)
class RiderEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts bike/order/phone/ticket numbers, amounts, fault parts and places."""

    LEXICON_FILE_NAME = "rider_entities.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # folder with fault_parts.yml, places.yml, numbers.yml (read at training time)
            "data_dir": "data/entities",
            # jieba user dictionary (read at training time, persisted; may be missing)
            "userdict_path": "data/dictionary/userdict.txt",
            # entity types to emit
            "entities": list(ALL_ENTITIES),
            # only the first max_chars characters of a message are searched
            "max_chars": 2000,
            # give other extractors' raw values of our entity types the canonical value
            "canonicalize_other_extractors": True,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        lexicon: Optional[Dict[Text, Any]] = None,
    ) -> None:
        """Creates the component; builds the spaCy pipeline when a lexicon is given."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._entities = set(self._config["entities"] or ALL_ENTITIES)
        self._max_chars = max(1, int(self._config["max_chars"]))
        self.lexicon = lexicon
        self._pipeline: Optional[_Pipeline] = _pipeline_for(lexicon) if lexicon else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiderEntityExtractor:
        """Creates a new untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RiderEntityExtractor:
        """Loads the persisted lexicon and builds the pipeline once."""
        try:
            with model_storage.read_from(resource) as model_path:
                lexicon = rasa.shared.utils.io.read_json_file(model_path / cls.LEXICON_FILE_NAME)
            return cls(config, model_storage, resource, lexicon=lexicon)
        except (ValueError, FileNotFoundError):
            rasa.shared.utils.io.raise_warning(
                f"Failed to load {cls.__name__} from model storage; "
                f"falling back to number and money rules only."
            )
            return cls(config, model_storage, resource, lexicon=default_lexicon())

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Hashes the data files so that editing them retrains the component."""
        config = {**cls.get_default_config(), **config}
        digest = hashlib.sha256()
        data_dir = _resolve_path(config.get("data_dir"))
        files: List[Path] = []
        if data_dir is not None and data_dir.is_dir():
            files.extend(sorted(p for p in data_dir.iterdir() if p.suffix in (".yml", ".yaml")))
        userdict = _resolve_path(config.get("userdict_path"))
        if userdict is not None and userdict.is_file():
            files.append(userdict)
        if not files:
            return None
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        """Builds patterns from ``data_dir`` (and the training data) and persists them.

        Works with empty training data: the patterns come from the data files.
        """
        self.lexicon = build_lexicon(
            _resolve_path(self._config["data_dir"]),
            _resolve_path(self._config["userdict_path"]),
            training_data,
        )
        self._pipeline = _pipeline_for(self.lexicon)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the lexicon into the model storage."""
        with self._model_storage.write_to(self._resource) as model_path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(
                model_path / self.LEXICON_FILE_NAME, self.lexicon or default_lexicon()
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Returns the training data unchanged.

        Predicted entities must not be added to training examples, where they
        would become gold labels for trainable extractors such as DIET.
        """
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the extracted entities to each message's ``entities``."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            existing = list(message.get(ENTITIES) or [])
            new = self._dedupe(self.extract(text), existing, text)
            message.set(ENTITIES, existing + self.add_extractor_name(new), add_to_output=True)
        return messages

    # ------------------------------------------------------------------ #

    def _get_pipeline(self) -> _Pipeline:
        if self._pipeline is None:
            self.lexicon = self.lexicon or default_lexicon()
            self._pipeline = _pipeline_for(self.lexicon)
        return self._pipeline

    def extract(self, text: Text) -> List[Dict[Text, Any]]:
        """Extracts entities from one text (without extractor name).

        Args:
            text: The original message text.

        Returns:
            Entity dicts with ``entity``, ``start``, ``end`` (into ``text``) and
            canonical ``value``, sorted by ``start``. Never raises for odd input.
        """
        if not isinstance(text, str) or not text.strip():
            return []
        try:
            norm = rtext.normalize_with_offsets(text[: self._max_chars])
            if not norm.text:
                return []
            candidates = self._get_pipeline().candidates(norm.text)
        except Exception:  # pragma: no cover - defensive: never break the NLU pipeline
            logger.exception("RiderEntityExtractor failed on a message; no entities extracted.")
            return []

        chosen: List[Tuple[int, int, int, str, str]] = []
        taken = [False] * len(norm.text)
        for cand in sorted(candidates, key=lambda c: (c[0], -(c[2] - c[1]), c[1])):
            rank, start, end, entity, value = cand
            if entity not in self._entities or end <= start or any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            chosen.append(cand)

        entities = []
        for _, start, end, entity, value in sorted(chosen, key=lambda c: c[1]):
            o_start, o_end = norm.to_original(start, end)
            if entity == PLACE:
                value = text[o_start:o_end]
            entities.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: entity,
                    ENTITY_ATTRIBUTE_START: o_start,
                    ENTITY_ATTRIBUTE_END: o_end,
                    ENTITY_ATTRIBUTE_VALUE: value,
                }
            )
        return entities

    def _dedupe(
        self, new: List[Dict[Text, Any]], existing: List[Dict[Text, Any]], text: Text
    ) -> List[Dict[Text, Any]]:
        """Drops entities another extractor already found (same type, overlapping)."""
        kept = []
        for entity in new:
            duplicate = False
            for other in existing:
                if other.get(ENTITY_ATTRIBUTE_TYPE) != entity[ENTITY_ATTRIBUTE_TYPE]:
                    continue
                o_start, o_end = other.get(ENTITY_ATTRIBUTE_START), other.get(ENTITY_ATTRIBUTE_END)
                if not isinstance(o_start, int) or not isinstance(o_end, int):
                    continue
                if o_start < entity[ENTITY_ATTRIBUTE_END] and entity[ENTITY_ATTRIBUTE_START] < o_end:
                    duplicate = True
                    if (
                        self._config["canonicalize_other_extractors"]
                        and other.get(EXTRACTOR) != self.name
                        and (o_start, o_end) == (entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
                        and other.get(ENTITY_ATTRIBUTE_VALUE) == text[o_start:o_end]
                        and other.get(ENTITY_ATTRIBUTE_VALUE) != entity[ENTITY_ATTRIBUTE_VALUE]
                    ):
                        other[ENTITY_ATTRIBUTE_VALUE] = entity[ENTITY_ATTRIBUTE_VALUE]
                        self.add_processor_name(other)
                    break
            if not duplicate:
                kept.append(entity)
        return kept
