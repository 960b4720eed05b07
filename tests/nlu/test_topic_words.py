"""The desks' topic words reach DIET as features, with the settings of config.yml.

Real Rasa components (JiebaTokenizer, RegexFeaturizer) trained on the project's own
lookup tables; no model training.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

ROOT = Path(__file__).resolve().parents[2]
TOPIC_WORDS = ROOT / "data" / "nlu" / "topic_words.yml"
DESKS = ["fault_words", "deposit_words", "parking_words", "charge_words"]


def _pipeline_config(name: str) -> Dict[str, Any]:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    return next(dict(step) for step in pipeline if step["name"] == name)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture(scope="module")
def featurize(tmp_path_factory: pytest.TempPathFactory):
    """Returns a function: text -> names of the topic-word tables that fire on it."""
    storage = LocalModelStorage.create(tmp_path_factory.mktemp("storage"))
    tok_config = _pipeline_config("JiebaTokenizer")
    tok_config["dictionary_path"] = str(ROOT / tok_config["dictionary_path"])
    tok_config.pop("name")
    tokenizer = JiebaTokenizer.create(
        {**JiebaTokenizer.get_default_config(), **tok_config}, storage, Resource("tok"), _context()
    )
    regex_config = _pipeline_config("RegexFeaturizer")
    regex_config.pop("name")
    featurizer = RegexFeaturizer.create(
        {**RegexFeaturizer.get_default_config(), **regex_config},
        storage,
        Resource("regex"),
        _context(),
    )
    featurizer.train(load_data(str(TOPIC_WORDS)))
    names = [pattern["name"] for pattern in featurizer.known_patterns]

    def fired(text: str) -> List[str]:
        message = Message(data={TEXT: text})
        tokenizer.process([message])
        featurizer.process([message])
        sentence = message.get_sparse_features(TEXT)[1]
        row = sentence.features.toarray()[0]
        return [name for name, value in zip(names, row) if value]

    return fired


def test_every_desk_has_a_table() -> None:
    tables = [t["lookup"] for t in yaml.safe_load(TOPIC_WORDS.read_text(encoding="utf-8"))["nlu"]]
    assert tables == DESKS


@pytest.mark.parametrize(
    "text, desk",
    [
        ("车筐里全是垃圾，前叉也锈了", "fault_words"),
        ("那两百块保证金到底什么时候退", "deposit_words"),
        ("停在小区门口说我超出运营区，收了二十调度费", "parking_words"),
        ("月卡买了还在扣费，余额都没了", "charge_words"),
    ],
)
def test_a_desk_word_fires_its_desk_only(featurize, text: str, desk: str) -> None:
    assert featurize(text) == [desk]


def test_a_message_with_no_desk_word_fires_none(featurize) -> None:
    assert featurize("你好，今天天气不错") == []


def test_words_inside_a_chinese_sentence_match(featurize) -> None:
    # With Rasa's default word boundaries, \b never matches between Chinese characters and
    # no table would fire on an ordinary sentence: config.yml must keep them off.
    assert _pipeline_config("RegexFeaturizer")["use_word_boundaries"] is False
    assert "deposit_words" in featurize("我的押金退了一个月还没到")
