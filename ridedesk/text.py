"""Text normalisation and value parsers for riders' Chinese messages.

Everything here is a pure function (no I/O, no global state that changes), so
the NLU component, the actions and the console can share one definition of
"what a bike number / order number / phone / amount / rating looks like".

Normalisation pipeline (:func:`normalize`, :func:`normalize_with_offsets`):

1. Unicode NFKC per character (full-width digits, letters and punctuation
   become ASCII, ``￥`` becomes ``¥``, ideographic space becomes a space).
2. Zero-width and other invisible format characters are removed.
3. Whitespace runs collapse to a single space; the ends are stripped.
4. Chinese numerals become Arabic digits where they clearly are numbers
   (``一九九元`` → ``199元``, ``两百块`` → ``200块``, ``八六二一零四五七三`` →
   ``862104573``, ``一块五`` → ``1块5``); words such as 一下/一直/一般/一点/统一/
   十分满意/万一/千万 are left alone.
5. Thousands separators in money amounts are dropped (``¥1,299`` → ``¥1299``).
6. Digit groups separated by a single space or dash are joined when the joined
   number has the length of an identifier (9 bike, 11 phone, 12 order, 13 =
   ``86`` + phone): ``862 104 573`` → ``862104573``, ``138-1234-5678`` →
   ``13812345678``. Dates such as ``2026-11-18`` are not joined.

:func:`normalize_with_offsets` also returns, for every character of the
normalised text, the span of the original text it came from, so entity
offsets found in normalised text can be mapped back.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import List, Optional, Sequence, Tuple

import cn2an
import phonenumbers

__all__ = [
    "NormalizedText",
    "normalize",
    "normalize_with_offsets",
    "parse_bike_number",
    "parse_order_number",
    "parse_ticket_number",
    "parse_phone",
    "parse_amount_yuan",
    "parse_rating",
    "format_decimal",
]

# --------------------------------------------------------------------------- #
# Character classes
# --------------------------------------------------------------------------- #

#: Invisible characters removed by normalisation.
ZERO_WIDTH_CHARS = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u202a\u202b\u202c\u202d\u202e"
)

#: Chinese digit characters and their values (digit-by-digit reading).
_CN_DIGITS = {
    "零": "0", "〇": "0", "○": "0",
    "一": "1", "幺": "1", "壹": "1",
    "二": "2", "两": "2", "兩": "2", "贰": "2", "貳": "2",
    "三": "3", "叁": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6",
    "七": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9",
}
_CN_UNITS = "十百千万亿拾佰仟萬億"
_DIGIT_CLASS = "".join(_CN_DIGITS)
_RUN_RE = re.compile(
    f"[{_DIGIT_CLASS}{_CN_UNITS}]+(?:点[{_DIGIT_CLASS}]+)?"
)

#: Words that follow a single Chinese numeral and make it clearly a quantity.
_QUANTITY_UNITS = (
    "元", "块", "圆", "毛", "角", "分", "星", "颗星", "天", "次", "个", "号", "小时", "钟头",
    "分钟", "秒", "年", "月", "日", "周", "星期", "岁", "公里", "千米", "米", "辆", "台", "位",
    "单", "笔", "趟", "回", "张", "折", "档", "倍", "楼", "层", "遍", "件", "份", "站", "条",
)
_MONEY_UNITS = "元块圆毛角"

#: Contexts in which numeral characters are part of a word, not a number.
_NUMERAL_EXCEPTIONS = re.compile(
    "|".join(
        [
            "一下(?!午)", "一直", "一般", "一点(?![零〇一二两三四五六七八九])", "一样", "一起", "一定",
            "一些", "一切", "一致", "一旦", "一会", "一边", "一向", "一律", "一再", "一口气",
            "一模一样", "一路", "一块儿", "一块去", "一块走", "[这那哪]一块", "一次性", "一共",
            "一直", "一半", "一度", "一带", "一体", "一番", "一阵", "一时", "一并", "一贯",
            "统一", "唯一", "万一", "千万", "之一", "不一", "第一时间", "一模", "一五一十",
            "三三两两", "七七八八", "乱七八糟", "十分(?!钟)", "十足", "百分之", "九成", "十全十美",
            "一心一意", "三番五次", "四面八方", "五花八门", "一清二楚", "独一无二", "数一数二",
            "两人", "两者", "两边", "两头", "两回事",
        ]
    )
)

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_GROUP_CHAIN_RE = re.compile(
    rf"(?<![\d.])\d+(?:(?: ?[{_DASHES}] ?| )\d+)+(?![\d.])"
)
_GROUP_SEP_RE = re.compile(rf" ?[{_DASHES}] ?| ")
#: Joined digit-group lengths that look like identifiers.
_JOINABLE_LENGTHS = {9, 11, 12}


# --------------------------------------------------------------------------- #
# Normalisation with offset mapping
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class NormalizedText:
    """Normalised text plus, per character, the original span it came from.

    Attributes:
        text: The normalised text.
        starts: ``starts[i]`` is the start offset in the original text of the
            character(s) that produced ``text[i]``.
        ends: ``ends[i]`` is the matching (exclusive) end offset.
        original: The original text.
    """

    text: str
    starts: Tuple[int, ...]
    ends: Tuple[int, ...]
    original: str

    def to_original(self, start: int, end: int) -> Tuple[int, int]:
        """Maps a ``[start, end)`` span of the normalised text to the original.

        Args:
            start: Start offset in :attr:`text`.
            end: Exclusive end offset in :attr:`text` (``end > start``).

        Returns:
            ``(original_start, original_end)``, always within
            ``0 <= start < end <= len(original)``. Characters created from
            several original characters (a converted Chinese numeral, a joined
            digit group) map to the whole original span they replaced.
        """
        if not self.text or end <= start:
            return (0, 0)
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return self.starts[start], self.ends[end - 1]


_Chars = List[Tuple[str, int, int]]


def _replace_spans(chars: _Chars, replacements: Sequence[Tuple[int, int, str]]) -> _Chars:
    """Applies non-overlapping, sorted ``(start, end, new)`` replacements."""
    if not replacements:
        return chars
    out: _Chars = []
    pos = 0
    for start, end, new in replacements:
        out.extend(chars[pos:start])
        o_start, o_end = chars[start][1], chars[end - 1][2]
        out.extend((c, o_start, o_end) for c in new)
        pos = end
    out.extend(chars[pos:])
    return out


def _join(chars: _Chars) -> str:
    return "".join(c for c, _, _ in chars)


def format_decimal(value: Decimal) -> str:
    """Formats a Decimal without exponent and trailing zeros.

    Args:
        value: A finite decimal.

    Returns:
        e.g. ``"200"``, ``"12.5"``, ``"0.5"``.
    """
    value = value.normalize()
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _cn_run_value(run: str) -> Optional[str]:
    """Converts a run of Chinese numeral characters to a digit string."""
    if all(ch in _CN_DIGITS for ch in run):
        return "".join(_CN_DIGITS[ch] for ch in run)
    try:
        value = cn2an.cn2an(run.replace("○", "〇").replace("幺", "一"), "normal")
    except Exception:  # cn2an raises plain ValueError / custom errors on odd input
        return None
    try:
        return format_decimal(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _starts_with_unit(text: str, pos: int, units: Sequence[str]) -> bool:
    return any(text.startswith(unit, pos) for unit in units)


def _chinese_numeral_replacements(text: str) -> List[Tuple[int, int, str]]:
    """Finds Chinese numeral runs that clearly are numbers and their digits."""
    blocked = [False] * len(text)
    for match in _NUMERAL_EXCEPTIONS.finditer(text):
        for i in range(match.start(), match.end()):
            blocked[i] = True

    replacements: List[Tuple[int, int, str]] = []
    for match in _RUN_RE.finditer(text):
        start, end = match.span()
        run = match.group()
        if any(blocked[start:end]):
            continue
        if run[0] in _CN_UNITS and run[0] not in "十拾":
            continue  # 百/千/万/亿 need a leading digit (万一, 千万 are words)
        has_units = any(ch in _CN_UNITS for ch in run) or "点" in run
        followed_by_unit = _starts_with_unit(text, end, _QUANTITY_UNITS)
        if not has_units:
            if len(run) >= 3:
                pass  # digit-by-digit number: 一九九, 八六二一零四五七三
            elif len(run) == 1:
                after_money = (
                    start >= 2
                    and text[start - 1] in _MONEY_UNITS
                    and (text[start - 2].isdigit() or text[start - 2] in _DIGIT_CLASS + _CN_UNITS)
                    and not (end < len(text) and (text[end].isdigit() or text[end] in _DIGIT_CLASS))
                )
                if not (followed_by_unit or after_money):
                    continue
            else:
                continue  # 两三天, 三四个: ranges, not numbers
        elif len(run) == 1 and not followed_by_unit:
            continue  # a lone 十 is only a number before a unit: 十块, 十天
        value = _cn_run_value(run)
        if value is None:
            continue
        replacements.append((start, end, value))
    return replacements


def _segment_ok(parts: Sequence[str]) -> bool:
    """Whether digit groups joined together look like one identifier."""
    total = sum(len(p) for p in parts)
    if not (total in _JOINABLE_LENGTHS or (total == 13 and parts[0].startswith("86"))):
        return False
    if all(len(p) == 1 for p in parts):
        return True  # read out digit by digit: 8 6 2 1 0 4 5 7 3
    return 1 <= len(parts[0]) <= 8 and all(3 <= len(p) <= 8 for p in parts[1:])


def _partition(parts: Sequence[str]) -> Optional[List[int]]:
    """Splits a chain of digit groups into segments that cover every group.

    A segment is several groups that together look like one identifier (see
    :func:`_segment_ok`), or one group standing alone that is either
    identifier-sized or at most 2 digits long (``5``, ``10``).

    Returns:
        The exclusive end index of each segment, or None when the chain cannot
        be covered (then it is probably one longer number, e.g. a bank card).
    """
    n = len(parts)
    solution: dict = {n: []}
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + 12), i, -1):  # prefer the longest segment
            if j not in solution:
                continue
            if j - i == 1:
                ok = len(parts[i]) <= 2 or len(parts[i]) in _JOINABLE_LENGTHS or len(parts[i]) == 13
            else:
                ok = _segment_ok(parts[i:j])
            if ok:
                solution[i] = [j] + solution[j]
                break
    return solution.get(0)


def _digit_group_replacements(text: str) -> List[Tuple[int, int, str]]:
    """Finds digit groups (``862 104 573``) that together form identifiers.

    A chain of digit groups separated by single spaces/dashes is joined only if
    it can be split completely into identifier-sized segments (9, 11, 12 digits,
    or 13 starting with 86), so a grouped bank card number stays untouched and
    ``138 1234 5678 862 104 573`` becomes two numbers.
    """
    replacements: List[Tuple[int, int, str]] = []
    for chain in _GROUP_CHAIN_RE.finditer(text):
        base = chain.start()
        groups = [(m.start() + base, m.end() + base) for m in re.finditer(r"\d+", chain.group())]
        parts = [text[s:e] for s, e in groups]
        ends = _partition(parts)
        if not ends:
            continue
        i = 0
        for j in ends:
            if j - i > 1:
                replacements.append((groups[i][0], groups[j - 1][1], "".join(parts[i:j])))
            i = j
    return replacements


_THOUSANDS_RE = re.compile(
    r"(?:(?<=¥)|(?<=¥ ))\d{1,3}(?:,\d{3})+(?!\d|,\d)|(?<![\d,.])\d{1,3}(?:,\d{3})+(?=(?:\.\d+)? ?(?:元|块|圆|rmb|RMB))"
)


def _thousands_replacements(text: str) -> List[Tuple[int, int, str]]:
    """Drops thousands separators in money amounts: ``¥1,299`` → ``¥1299``."""
    return [(m.start(), m.end(), m.group().replace(",", "")) for m in _THOUSANDS_RE.finditer(text)]


def normalize_with_offsets(text: str) -> NormalizedText:
    """Normalises text and keeps a map back to the original offsets.

    Args:
        text: Raw message text (anything that is not a ``str`` counts as "").

    Returns:
        A :class:`NormalizedText`; ``result.text == normalize(text)``.
    """
    if not isinstance(text, str):
        text = ""
    chars: _Chars = []
    for i, ch in enumerate(text):
        if ch in ZERO_WIDTH_CHARS:
            continue
        category = unicodedata.category(ch)
        if category == "Cf":  # other invisible format characters
            continue
        for out in unicodedata.normalize("NFKC", ch):
            if out in ZERO_WIDTH_CHARS:
                continue
            chars.append((out, i, i + 1))

    # Collapse whitespace.
    collapsed: _Chars = []
    for ch, start, end in chars:
        if ch.isspace():
            if not collapsed or collapsed[-1][0] == " ":
                continue
            collapsed.append((" ", start, end))
        else:
            collapsed.append((ch, start, end))
    if collapsed and collapsed[-1][0] == " ":
        collapsed.pop()
    chars = collapsed

    chars = _replace_spans(chars, _chinese_numeral_replacements(_join(chars)))
    chars = _replace_spans(chars, _thousands_replacements(_join(chars)))
    chars = _replace_spans(chars, _digit_group_replacements(_join(chars)))

    return NormalizedText(
        text=_join(chars),
        starts=tuple(s for _, s, _ in chars),
        ends=tuple(e for _, _, e in chars),
        original=text,
    )


def normalize(text: str) -> str:
    """Normalises a rider's message for matching.

    Args:
        text: Raw message text.

    Returns:
        NFKC-normalised text without zero-width characters, with collapsed
        whitespace, Chinese numerals converted to digits where they clearly are
        numbers and digit groups of identifiers joined.

    Examples:
        >>> normalize("车号 ８６２ １０４ ５７３")
        '车号 862104573'
        >>> normalize("多扣了我一九九元，稍等一下")
        '多扣了我199元,稍等一下'
    """
    return normalize_with_offsets(text).text


# --------------------------------------------------------------------------- #
# Parsers
# --------------------------------------------------------------------------- #


def _single_digit_run(text: str, length: int) -> Optional[str]:
    runs = re.findall(r"(?<![\d.])\d+(?![\d.]|\.\d)", normalize(text))
    if len(runs) == 1 and len(runs[0]) == length:
        return runs[0]
    return None


def parse_bike_number(text: str) -> Optional[str]:
    """Parses a bike number: exactly 9 digits.

    Accepts full-width digits, Chinese digits and spaced/dashed groups, and
    surrounding words (``车号是 862 104 573``), as long as the text holds exactly
    one number.

    Args:
        text: Raw text.

    Returns:
        The 9 digits, or None.
    """
    return _single_digit_run(text, 9)


def parse_order_number(text: str) -> Optional[str]:
    """Parses an order number: exactly 12 digits.

    Args:
        text: Raw text (same leniency as :func:`parse_bike_number`).

    Returns:
        The 12 digits, or None.
    """
    if re.search(r"(?i)gd[ -]?\d", normalize(text)):
        return None  # that is a ticket number
    return _single_digit_run(text, 12)


_TICKET_RE = re.compile(r"(?<![A-Za-z0-9])gd[ \-]?(\d{12})(?![\d.])", re.IGNORECASE)


def parse_ticket_number(text: str) -> Optional[str]:
    """Parses a ticket number: ``GD`` followed by 12 digits, case-insensitive.

    Args:
        text: Raw text, e.g. ``"gd202611220001"`` or ``"工单 GD 2026 1122 0001"``.

    Returns:
        ``"GD"`` + 12 digits (upper-case), or None (also when several differ).
    """
    found = {m.group(1) for m in _TICKET_RE.finditer(normalize(text))}
    if len(found) == 1:
        return "GD" + found.pop()
    return None


_PHONE_RE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ \-]?)?(1\d{10})(?![\d.])")


def mobile_number(digits: str) -> Optional[str]:
    """Validates an 11-digit candidate as a mainland mobile number.

    Args:
        digits: Exactly 11 ASCII digits.

    Returns:
        The same 11 digits when ``phonenumbers`` says it is a valid mainland
        mobile number, else None.
    """
    if not re.fullmatch(r"1\d{10}", digits or ""):
        return None
    try:
        parsed = phonenumbers.parse("+86" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return str(parsed.national_number)


def parse_phone(text: str) -> Optional[str]:
    """Parses a mainland China mobile number.

    Accepts ``+86``/``86``/``0086`` prefixes, spaces and dashes, full-width
    and Chinese digits (``幺三八…``).

    Args:
        text: Raw text.

    Returns:
        The 11-digit national number, or None (invalid, landline, or several
        different numbers).
    """
    found = set()
    for match in _PHONE_RE.finditer(normalize(text)):
        number = mobile_number(match.group(1))
        if number:
            found.add(number)
    if len(found) == 1:
        return found.pop()
    return None


_NUM = r"\d+(?:\.\d{1,2})?"
_AMOUNT_RE = re.compile(
    rf"(?:(?:[¥$]|rmb|RMB|人民币) ?(?P<pre>{_NUM}))"
    rf"|(?:(?P<yuan>{_NUM}) ?(?:块钱|元钱|块|元|圆|rmb|RMB)"
    rf"(?:(?P<jiao>\d)(?:毛钱|毛|角)?(?![\d.天个次分小秒号年月日周岁公米辆位单笔趟回张折档倍楼层遍件份站条]))?)"
    rf"|(?:(?<![\d.])(?P<mao>\d)(?:毛钱|毛|角))"
)


def amount_from_match(match: "re.Match[str]") -> Optional[str]:
    """Turns a match of the amount pattern into a canonical yuan string.

    Args:
        match: A match of :data:`AMOUNT_PATTERN`.

    Returns:
        Canonical decimal yuan string, or None.
    """
    try:
        if match.group("pre") is not None:
            value = Decimal(match.group("pre"))
        elif match.group("yuan") is not None:
            value = Decimal(match.group("yuan"))
            if match.group("jiao"):
                if "." in match.group("yuan"):
                    return None
                value += Decimal(match.group("jiao")) / 10
        else:
            value = Decimal(match.group("mao")) / 10
    except InvalidOperation:
        return None
    return format_decimal(value)


#: Compiled money pattern over *normalised* text (shared with the NLU component).
AMOUNT_PATTERN = _AMOUNT_RE


def parse_amount_yuan(text: str) -> Optional[str]:
    """Parses a money amount in yuan.

    Understands ``5元``, ``5块``, ``五块钱``, ``¥12.5``, ``12.5元``, ``1块5``
    (1.5), ``两块五毛`` (2.5), ``5毛`` (0.5); a text that is only a number
    (``"12.5"``) is read as yuan too.

    Args:
        text: Raw text.

    Returns:
        The amount as a canonical decimal string (``"199"``, ``"12.5"``), or
        None when no money expression is found. The first expression wins.
    """
    norm = normalize(text)
    for match in _AMOUNT_RE.finditer(norm):
        value = amount_from_match(match)
        if value is not None:
            return value
    if re.fullmatch(_NUM, norm):
        return format_decimal(Decimal(norm))
    return None


_RATING_WORDS = (
    # longest / negated phrases first
    ("非常不满意", 1), ("很不满意", 1), ("特别不满意", 1), ("极其不满意", 1), ("十分不满意", 1),
    ("超级不满意", 1), ("非常差", 1), ("很差", 1), ("太差", 1), ("极差", 1), ("特别差", 1),
    ("差评", 1), ("垃圾", 1), ("糟糕", 1),
    ("不太满意", 2), ("不怎么满意", 2), ("不满意", 2), ("不好", 2), ("较差", 2), ("比较差", 2),
    ("一般般", 3), ("一般", 3), ("还行", 3), ("凑合", 3), ("马马虎虎", 3), ("还可以", 3), ("中评", 3),
    ("非常满意", 5), ("很满意", 5), ("特别满意", 5), ("十分满意", 5), ("超级满意", 5),
    ("太满意", 5), ("非常好", 5), ("完美", 5), ("满分", 5), ("好评", 5), ("太棒", 5),
    ("比较满意", 4), ("挺满意", 4), ("还算满意", 4), ("满意", 4), ("不错", 4), ("挺好", 4), ("还好", 3),
)
_RATING_NUMBER_RE = re.compile(r"(?<![\d.])([0-9]+)\s*(?:颗星|星|分)(?!钟)")
_RATING_BARE_RE = re.compile(
    r"^(?:我)?(?:给|打|评)?(?:你们?|您)?(?:个)?\s*([0-9]+)\s*(?:颗星|星|分)?(?:吧|啊|呀|了|哦)?[!.~。！]*$"
)
_CN_SINGLE = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def parse_rating(text: str) -> Optional[int]:
    """Parses a satisfaction rating on a 1–5 scale.

    Args:
        text: ``"5"``, ``"五星"``, ``"5分"``, ``"给4分"``, ``"非常满意"`` (5),
            ``"满意"`` (4), ``"一般"`` (3), ``"不满意"`` (2), ``"很差"`` /
            ``"非常不满意"`` (1)...

    Returns:
        An int from 1 to 5, or None (no rating, out of range, ``5分钟``...).
    """
    norm = normalize(text).strip()
    if not norm:
        return None
    if norm in _CN_SINGLE:
        return _CN_SINGLE[norm]
    numbers = [int(m.group(1)) for m in _RATING_NUMBER_RE.finditer(norm)]
    if not numbers:
        bare = _RATING_BARE_RE.match(norm)
        if bare:
            numbers = [int(bare.group(1))]
    if numbers:
        value = numbers[0]
        return value if 1 <= value <= 5 else None
    for phrase, value in _RATING_WORDS:
        if phrase in norm:
            return value
    return None
