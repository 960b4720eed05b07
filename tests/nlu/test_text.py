"""Tests for ridedesk.text: normalisation and value parsers."""
from __future__ import annotations

import pytest

from ridedesk.text import (
    normalize,
    normalize_with_offsets,
    parse_amount_yuan,
    parse_bike_number,
    parse_order_number,
    parse_phone,
    parse_rating,
    parse_ticket_number,
)

# --------------------------------------------------------------------------- #
# normalize
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("８６２１０４５７３", "862104573"),
        ("ＡＢＣ１２３", "ABC123"),
        ("车\u200b号\u200d８６２\ufeff", "车号862"),
        ("  车号   862\t\n104  ", "车号 862 104"),
        ("车号\u3000862", "车号 862"),
        ("￥１２．５", "¥12.5"),
    ],
)
def test_normalize_unicode_and_whitespace(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("一九九元", "199元"),
        ("两百块", "200块"),
        ("八六二一零四五七三", "862104573"),
        ("一百九十九块", "199块"),
        ("三十八块六", "38块6"),
        ("一块五", "1块5"),
        ("两块五毛", "2块5毛"),
        ("五星", "5星"),
        ("给四分", "给4分"),
        ("等了十分钟", "等了10分钟"),
        ("一点五元", "1.5元"),
        ("幺三八一二三四五六七八", "13812345678"),
        ("零一二三", "0123"),
        ("第一次", "第1次"),
    ],
)
def test_normalize_chinese_numerals(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "word",
    [
        "稍等一下",
        "一直没反应",
        "一般般",
        "有一点贵",
        "统一回复",
        "十分满意",
        "万一扣钱",
        "千万别",
        "三三两两",
        "两三天",
        "我们一块儿去",
        "这一块的车",
        "一样的",
        "唯一的办法",
    ],
)
def test_normalize_leaves_words_alone(word: str) -> None:
    assert normalize(word) == word


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("862 104 573", "862104573"),
        ("138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("2026 1118 0031", "202611180031"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("9 0 1 2 3 4 5 6 7", "901234567"),
        ("138 1234 5678 862 104 573", "13812345678 862104573"),
        ("２０２６－１１１８－００３１", "202611180031"),
        ("八六二 一零四 五七三", "862104573"),
        ("¥1,299", "¥1299"),
        ("12,500.5元", "12500.5元"),
    ],
)
def test_normalize_joins_digit_groups(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["2026-11-18", "18:30", "3 5 天", "6222 0212 3456 7890 123", "1,2,3", "010 1234"],
)
def test_normalize_does_not_join_dates_or_long_numbers(raw: str) -> None:
    assert normalize(raw) == raw


@pytest.mark.parametrize("raw", ["", "   ", "\u200b\u200b", None, 42])
def test_normalize_empty_and_non_strings(raw) -> None:
    assert normalize(raw) == ""


def test_normalize_with_offsets_maps_back_to_original() -> None:
    raw = "车号 ８６２ １０４ ５７３ 刹车"
    norm = normalize_with_offsets(raw)
    assert norm.text == "车号 862104573 刹车"
    start = norm.text.index("862104573")
    o_start, o_end = norm.to_original(start, start + 9)
    assert raw[o_start:o_end] == "８６２ １０４ ５７３"

    raw = "扣了我一九九元"
    norm = normalize_with_offsets(raw)
    start = norm.text.index("199元")
    o_start, o_end = norm.to_original(start, start + 4)
    assert raw[o_start:o_end] == "一九九元"


def test_normalize_with_offsets_stays_in_bounds() -> None:
    for raw in ["", "\u200b", "a", "ＡＢ  ", "一九九", "😀😀"]:
        norm = normalize_with_offsets(raw)
        assert len(norm.starts) == len(norm.ends) == len(norm.text)
        for i in range(len(norm.text)):
            assert 0 <= norm.starts[i] < norm.ends[i] <= len(raw)
        o_start, o_end = norm.to_original(0, 10**6)
        assert 0 <= o_start <= o_end <= len(raw)


# --------------------------------------------------------------------------- #
# parsers
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("862104573", "862104573"),
        ("862 104 573", "862104573"),
        ("８６２１０４５７３", "862104573"),
        ("八六二一零四五七三", "862104573"),
        ("车号是862-104-573", "862104573"),
        ("86210457", None),
        ("8621045731", None),
        ("862104573 和 705118842", None),
        ("862104573.5", None),
        ("", None),
        ("abc", None),
    ],
)
def test_parse_bike_number(raw: str, expected) -> None:
    assert parse_bike_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("202611180031", "202611180031"),
        ("2026 1118 0031", "202611180031"),
        ("订单号：２０２６１１１８００３１", "202611180031"),
        ("二零二六一一一八零零三一", "202611180031"),
        ("20261118003", None),
        ("2026111800311", None),
        ("GD202611180031", None),
        ("862104573", None),
        ("", None),
    ],
)
def test_parse_order_number(raw: str, expected) -> None:
    assert parse_order_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("GD202611220001", "GD202611220001"),
        ("gd202611220001", "GD202611220001"),
        ("工单 Gd-202611220001", "GD202611220001"),
        ("ＧＤ２０２６１１２２０００１", "GD202611220001"),
        ("GD 2026 1122 0001", "GD202611220001"),
        ("GD20261122000", None),
        ("GD2026112200011", None),
        ("202611220001", None),
        ("XGD202611220001", None),
        ("GD202611220001 GD202611220002", None),
        ("", None),
    ],
)
def test_parse_ticket_number(raw: str, expected) -> None:
    assert parse_ticket_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("我的手机是 199-8765-4321", "19987654321"),
        ("12345678901", None),  # not a mobile prefix
        ("1381234567", None),  # 10 digits
        ("138123456789", None),  # 12 digits
        ("010-12345678", None),  # landline
        ("13812345678 或 13912345678", None),  # ambiguous
        ("", None),
        ("hello", None),
    ],
)
def test_parse_phone(raw: str, expected) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("5元", "5"),
        ("5块", "5"),
        ("五块钱", "5"),
        ("¥12.5", "12.5"),
        ("￥12.50", "12.5"),
        ("12.5元", "12.5"),
        ("1块5", "1.5"),
        ("两块五毛", "2.5"),
        ("5毛", "0.5"),
        ("两百块", "200"),
        ("一九九元", "199"),
        ("RMB 15", "15"),
        ("扣了我20元，还有3元", "20"),
        ("12.5", "12.5"),
        ("¥1,299", "1299"),
        ("3天", None),
        ("10分钟", None),
        ("给5分", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_amount_yuan(raw: str, expected) -> None:
    assert parse_amount_yuan(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("5", 5),
        ("1", 1),
        ("五", 5),
        ("五星", 5),
        ("5星", 5),
        ("5分", 5),
        ("给4分", 4),
        ("打3星吧", 3),
        ("非常满意", 5),
        ("十分满意", 5),
        ("满意", 4),
        ("一般", 3),
        ("不满意", 2),
        ("很差", 1),
        ("非常不满意", 1),
        ("五星好评", 5),
        ("６", None),
        ("0", None),
        ("10分", None),
        ("5分钟", None),
        ("3天", None),
        ("你好", None),
        ("", None),
    ],
)
def test_parse_rating(raw: str, expected) -> None:
    assert parse_rating(raw) == expected
