"""The jieba domain dictionary keeps riders' words whole.

Without it jieba splits fee and slang words into pieces that mean something else
(锁不上车 becomes 锁/不/上车, "get on the bike"), and the classifier never sees the word.
"""
from __future__ import annotations

from pathlib import Path

import jieba
import pytest

USERDICT = Path(__file__).resolve().parents[2] / "data" / "dictionary" / "userdict.txt"


@pytest.fixture(scope="module")
def tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with only the domain dictionary added."""
    tok = jieba.Tokenizer()
    tok.load_userdict(str(USERDICT))
    return tok


@pytest.mark.parametrize(
    "text, token",
    [
        ("我的车一直锁不上车", "锁不上"),
        ("他们该不会是跑路了吧", "跑路"),
        ("卷钱跑路了押金怎么办", "卷钱"),
        ("又被收了调度费", "调度费"),
        ("在运营区域外还车", "运营区域"),
        ("这不是割韭菜吗", "割韭菜"),
    ],
)
def test_domain_words_stay_one_token(tokenizer: jieba.Tokenizer, text: str, token: str) -> None:
    assert token in tokenizer.lcut(text)


def test_without_the_dictionary_the_words_break(tokenizer: jieba.Tokenizer) -> None:
    # Guards the test above: jieba's own dictionary does split these.
    plain = jieba.Tokenizer()
    assert "锁不上" not in plain.lcut("我的车一直锁不上车")
    assert "跑路" not in plain.lcut("他们该不会是跑路了吧")
