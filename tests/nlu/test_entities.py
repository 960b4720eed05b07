"""Tests for ridedesk.nlu.entities.RiderEntityExtractor (real Rasa/spaCy objects, no mocks)."""
from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ridedesk.nlu.entities import RiderEntityExtractor, read_userdict
from ridedesk.nlu.evaluation import DEFAULT_EVAL_FILE, evaluate, load_eval_set

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data" / "entities"


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def _train_and_load(
    storage_dir: Path,
    config: Optional[Dict[str, Any]] = None,
    training_data: Optional[TrainingData] = None,
) -> RiderEntityExtractor:
    """create → train → persist (inside train) → load, through LocalModelStorage."""
    config = {"data_dir": str(DATA_DIR), **(config or {})}
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage.create(storage_dir)
    resource = Resource("train_RiderEntityExtractor0")
    component = RiderEntityExtractor.create(config, storage, resource, _context())
    returned = component.train(training_data or TrainingData())
    assert returned == resource
    return RiderEntityExtractor.load(config, storage, resource, _context())


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> RiderEntityExtractor:
    return _train_and_load(tmp_path_factory.mktemp("model_storage"))


def _run(component: RiderEntityExtractor, text: str) -> List[Dict[str, Any]]:
    message = Message(data={TEXT: text})
    component.process([message])
    return message.get(ENTITIES) or []


def _pairs(entities: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
    return [(e["entity"], e["value"]) for e in entities]


# --------------------------------------------------------------------------- #
# registration, persistence
# --------------------------------------------------------------------------- #


def test_registered_as_trainable_entity_extractor() -> None:
    registered = DefaultV1Recipe._from_registry("RiderEntityExtractor")
    assert registered.clazz is RiderEntityExtractor
    assert DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR in registered.types
    assert registered.is_trainable


def test_train_persists_lexicon_and_load_needs_no_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "entities"
    shutil.copytree(DATA_DIR, data_dir)
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir()
    config = {"data_dir": str(data_dir), "userdict_path": str(tmp_path / "missing.txt")}
    storage = LocalModelStorage.create(storage_dir)
    resource = Resource("train_RiderEntityExtractor0")
    component = RiderEntityExtractor.create(config, storage, resource, _context())
    component.train(TrainingData())

    persisted = storage_dir / resource.name / RiderEntityExtractor.LEXICON_FILE_NAME
    assert persisted.is_file()

    # The trained model must not need data/ at run time.
    shutil.rmtree(data_dir)
    monkeypatch.chdir(tmp_path)
    loaded = RiderEntityExtractor.load(config, LocalModelStorage(storage_dir), resource, _context())
    assert _pairs(_run(loaded, "车链子掉了，在人民广场地铁站")) == [
        ("fault_part", "链条"),
        ("place", "人民广场地铁站"),
    ]


def test_load_without_persisted_data_falls_back_to_number_rules(tmp_path: Path) -> None:
    storage = LocalModelStorage.create(tmp_path)
    with pytest.warns(UserWarning):
        component = RiderEntityExtractor.load({}, storage, Resource("never_trained"), _context())
    assert _pairs(_run(component, "车号862104573刹车坏了")) == [("bike_number", "862104573")]


def test_train_with_missing_data_dir_still_extracts_numbers(tmp_path: Path) -> None:
    with pytest.warns(UserWarning):
        component = _train_and_load(tmp_path, {"data_dir": str(tmp_path / "nope")})
    assert _pairs(_run(component, "订单202611180031扣了5元，刹车坏了")) == [
        ("order_number", "202611180031"),
        ("amount", "5"),
    ]


def test_training_data_synonyms_lookup_tables_and_userdict(tmp_path: Path) -> None:
    userdict = tmp_path / "userdict.txt"
    userdict.write_text(
        "蓝色港湾 100 ns\n\n# comment\n小蓝车 n\n刹车失灵 900000 n\nbroken-line-without-anything-else\n", "utf-8"
    )
    training_data = TrainingData(
        training_examples=[Message(data={TEXT: "刹车坏了", "intent": "report_fault"})],
        entity_synonyms={"闸皮": "刹车", "别的": "不存在的部件"},
        lookup_tables=[{"name": "place", "elements": ["蓝色港湾"]}],
    )
    component = _train_and_load(tmp_path / "storage", {"userdict_path": str(userdict)}, training_data)
    assert ["蓝色港湾", 100, "ns"] in component.lexicon["userdict"]
    assert ["小蓝车", None, "n"] in component.lexicon["userdict"]
    assert _pairs(_run(component, "闸皮坏了，我在蓝色港湾")) == [
        ("fault_part", "刹车"),
        ("place", "蓝色港湾"),
    ]
    # a user-dictionary phrase that contains a fault word is one jieba token, still found
    assert _pairs(_run(component, "刹车失灵了")) == [("fault_part", "刹车")]


def test_read_userdict_tolerates_missing_file(tmp_path: Path) -> None:
    assert read_userdict(tmp_path / "does-not-exist.txt") == []
    assert read_userdict(None) == []


def test_fingerprint_addon_changes_with_data_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "entities"
    shutil.copytree(DATA_DIR, data_dir)
    config = {"data_dir": str(data_dir), "userdict_path": str(tmp_path / "userdict.txt")}
    before = RiderEntityExtractor.fingerprint_addon(config)
    assert before == RiderEntityExtractor.fingerprint_addon(config)
    with (data_dir / "fault_parts.yml").open("a", encoding="utf-8") as handle:
        handle.write("  前叉: [前叉]\n")
    assert RiderEntityExtractor.fingerprint_addon(config) != before
    assert RiderEntityExtractor.fingerprint_addon({"data_dir": str(tmp_path / "x"), "userdict_path": ""}) is None


def test_process_training_data_does_not_add_entities(extractor: RiderEntityExtractor) -> None:
    message = Message(data={TEXT: "车号862104573", "intent": "report_fault"})
    training_data = TrainingData(training_examples=[message])
    result = extractor.process_training_data(training_data)
    assert result is training_data
    assert not message.get(ENTITIES)


# --------------------------------------------------------------------------- #
# realistic messages
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, expected",
    [
        ("车锁打不开了，车号862104573", [("fault_part", "车锁"), ("bike_number", "862104573")]),
        ("车号 ８６２１０４５７３ 刹车坏了", [("bike_number", "862104573"), ("fault_part", "刹车")]),
        ("订单202611180031多扣了我一九九元", [("order_number", "202611180031"), ("amount", "199")]),
        ("我电话138 1234 5678", [("phone_number", "13812345678")]),
        ("在人民广场地铁站附近", [("place", "人民广场地铁站")]),
        ("工单GD202611220001怎么样了", [("ticket_number", "GD202611220001")]),
        ("工单号 202611220002 进度如何", [("ticket_number", "GD202611220002")]),
        ("我的工单 gd-202611220003", [("ticket_number", "GD202611220003")]),
        ("车闸不灵，链子也掉了", [("fault_part", "刹车"), ("fault_part", "链条")]),
        ("刹不住车", [("fault_part", "刹车")]),
        ("开不了锁", [("fault_part", "车锁")]),
        ("二维码扫不出来", [("fault_part", "二维码")]),
        ("坐垫松了", [("fault_part", "车座")]),
        ("车胎爆胎了", [("fault_part", "轮胎"), ("fault_part", "轮胎")]),
        ("电量显示不对，一会就没电了", [("fault_part", "电池"), ("fault_part", "电池")]),
        ("头盔不见了", [("fault_part", "头盔")]),
        ("龙头歪了", [("fault_part", "车把")]),
        ("脚蹬掉了一个", [("fault_part", "脚踏")]),
        ("铃铛不响，车筐也坏了", [("fault_part", "车铃"), ("fault_part", "车篮")]),
        ("车灯不亮", [("fault_part", "车灯")]),
        ("挡泥板掉了", [("fault_part", "挡泥板")]),
        ("锁舌卡住了，开锁失败", [("fault_part", "车锁"), ("fault_part", "车锁")]),
        ("停在万达广场北门", [("place", "万达广场北门")]),
        ("车在北京大学东门", [("place", "北京大学东门")]),
        ("我在阳光小区门口", [("place", "阳光小区门口")]),
        ("停在人民路", [("place", "人民路")]),
        ("车在市第一医院对面", [("place", "市第一医院")]),
        ("我在中山公园", [("place", "中山公园")]),
        ("走路过去太远了", []),
        ("密码忘了，验证码也收不到", []),
        (
            "车号862104573，订单202611180031，电话13812345678，扣了12.5元",
            [
                ("bike_number", "862104573"),
                ("order_number", "202611180031"),
                ("phone_number", "13812345678"),
                ("amount", "12.5"),
            ],
        ),
        ("等了3天，骑了10分钟，第2次找客服", []),
        ("我QQ是862104573", []),
        ("订单号123456789", []),
    ],
)
def test_realistic_messages(extractor: RiderEntityExtractor, text: str, expected) -> None:
    entities = _run(extractor, text)
    assert _pairs(entities) == expected
    for entity in entities:
        assert entity["extractor"] == "RiderEntityExtractor"
        assert 0 <= entity["start"] < entity["end"] <= len(text)


@pytest.mark.parametrize(
    "text, entity, span",
    [
        ("车号 ８６２１０４５７３ 刹车坏了", "bike_number", "８６２１０４５７３"),
        ("我电话138 1234 5678", "phone_number", "138 1234 5678"),
        ("订单202611180031多扣了我一九九元", "amount", "一九九元"),
        ("车号八六二 一零四 五七三", "bike_number", "八六二 一零四 五七三"),
        ("联系方式 +86 186-0000-1234", "phone_number", "+86 186-0000-1234"),
        ("在人民广场地铁站附近", "place", "人民广场地铁站"),
        ("\u200b车号\u200b862104573", "bike_number", "862104573"),
        ("收了我￥１２．５", "amount", "￥１２．５"),
    ],
)
def test_offsets_point_into_original_text(
    extractor: RiderEntityExtractor, text: str, entity: str, span: str
) -> None:
    found = [e for e in _run(extractor, text) if e["entity"] == entity]
    assert len(found) == 1
    assert text[found[0]["start"] : found[0]["end"]] == span


def test_place_value_is_original_span(extractor: RiderEntityExtractor) -> None:
    text = "车停在ＡＢＣ广场了"  # full-width letters stay as the rider typed them
    places = [e for e in _run(extractor, text) if e["entity"] == "place"]
    assert places and places[0]["value"] == text[places[0]["start"] : places[0]["end"]]


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\u200b\u200b",
        "啊" * 5000,
        "这是一段很长的话，" * 600,
        "😀😀😀🚲🚲",
        "🚲" * 3000,
        "My bike is broken, please help me!",
        "<script>alert('x')</script><div class=\"a\">hello</div>",
        "'; DROP TABLE orders; -- SELECT * FROM users WHERE id = 1",
        "\x00\x01\x02\x7f",
        "\ud800",  # lone surrogate
        "{{ 7*7 }} ${jndi:ldap://x} %s %n",
    ],
)
def test_bad_input_gives_no_entities(extractor: RiderEntityExtractor, text: str) -> None:
    assert _run(extractor, text) == []


def test_long_message_only_first_max_chars_searched(extractor: RiderEntityExtractor) -> None:
    text = "啊" * 4990 + "车号862104573"
    assert _run(extractor, text) == []  # beyond max_chars (2000)
    text = "车号862104573" + "啊" * 4990
    assert _pairs(_run(extractor, text)) == [("bike_number", "862104573")]


def test_message_without_text_is_left_alone(extractor: RiderEntityExtractor) -> None:
    message = Message(data={"intent": {"name": "greet"}})
    extractor.process([message])
    assert message.get(ENTITIES) is None


def test_several_messages_in_one_call(extractor: RiderEntityExtractor) -> None:
    messages = [Message(data={TEXT: "车号862104573"}), Message(data={TEXT: "退我5元"})]
    assert extractor.process(messages) is messages
    assert _pairs(messages[0].get(ENTITIES)) == [("bike_number", "862104573")]
    assert _pairs(messages[1].get(ENTITIES)) == [("amount", "5")]


def test_entities_option_limits_types(tmp_path: Path) -> None:
    component = _train_and_load(tmp_path, {"entities": ["bike_number"]})
    assert _pairs(_run(component, "车号862104573刹车坏了，扣了5元")) == [("bike_number", "862104573")]


# --------------------------------------------------------------------------- #
# other extractors
# --------------------------------------------------------------------------- #


def test_does_not_duplicate_other_extractors_entities(extractor: RiderEntityExtractor) -> None:
    text = "车闸坏了，车号862104573"
    others = [
        {"entity": "fault_part", "start": 0, "end": 2, "value": "车闸", "extractor": "DIETClassifier"},
        {"entity": "bike_number", "start": 7, "end": 16, "value": "862104573", "extractor": "RegexEntityExtractor"},
    ]
    message = Message(data={TEXT: text, ENTITIES: [dict(e) for e in others]})
    extractor.process([message])
    entities = message.get(ENTITIES)
    assert len(entities) == 2
    # the raw value found by DIET gets the canonical value, and we say so
    assert entities[0]["value"] == "刹车"
    assert entities[0]["extractor"] == "DIETClassifier"
    assert entities[0]["processors"] == ["RiderEntityExtractor"]
    assert entities[1] == others[1]


def test_running_twice_does_not_duplicate(extractor: RiderEntityExtractor) -> None:
    message = Message(data={TEXT: "车号862104573"})
    extractor.process([message])
    extractor.process([message])
    assert _pairs(message.get(ENTITIES)) == [("bike_number", "862104573")]


def test_other_entity_types_do_not_block(extractor: RiderEntityExtractor) -> None:
    other = {"entity": "vehicle", "start": 0, "end": 11, "value": "x", "extractor": "DIETClassifier"}
    message = Message(data={TEXT: "车号862104573", ENTITIES: [other]})
    extractor.process([message])
    assert _pairs(message.get(ENTITIES)) == [("vehicle", "x"), ("bike_number", "862104573")]


# --------------------------------------------------------------------------- #
# accuracy gate and a coarse speed check
# --------------------------------------------------------------------------- #


def test_eval_set_precision_and_recall_per_type(extractor: RiderEntityExtractor) -> None:
    types, examples = load_eval_set(DEFAULT_EVAL_FILE)
    assert len(examples) >= 80
    assert set(types) >= {"bike_number", "order_number", "phone_number", "amount"}
    report = evaluate(extractor, examples, types)
    failures = {
        entity: (round(score.precision, 3), round(score.recall, 3))
        for entity, score in report.scores.items()
        if score.precision < 0.97 or score.recall < 0.97
    }
    assert not failures, (failures, report.errors)


def test_pipeline_is_built_once(extractor: RiderEntityExtractor) -> None:
    """Not a timing gate: catches rebuilding spaCy/jieba per message (≈ seconds)."""
    texts = ["车锁打不开了，车号862104573", "订单202611180031多扣了我一九九元", "在人民广场地铁站附近"] * 20
    durations = []
    for text in texts:
        started = time.perf_counter()
        _run(extractor, text)
        durations.append(time.perf_counter() - started)
    assert statistics.median(durations) < 0.1


# --------------------------------------------------------------------------- #
# end to end: the config.yml line works with `rasa train nlu` and Agent.load
# --------------------------------------------------------------------------- #


def test_rasa_train_nlu_and_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\n"
        "language: zh\n"
        "assistant_id: ridedesk-entities-test\n"
        "pipeline:\n"
        "  - name: JiebaTokenizer\n"
        "  - name: KeywordIntentClassifier\n"
        "  - name: ridedesk.nlu.entities.RiderEntityExtractor\n"
        f"    data_dir: {DATA_DIR}\n"
        "policies: []\n",
        encoding="utf-8",
    )
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: report_fault\n"
        "  examples: |\n"
        "    - 车锁坏了\n"
        "    - 刹车坏了\n"
        "- intent: ask_refund\n"
        "  examples: |\n"
        "    - 多扣钱了\n"
        "    - 退款\n",
        encoding="utf-8",
    )
    model = train_nlu("config.yml", "nlu.yml", output=str(tmp_path / "models"), fixed_model_name="m")
    assert model
    agent = Agent.load(str(Path(model).resolve()))
    result = asyncio.run(agent.parse_message("车号862104573刹车坏了"))
    assert [(e["entity"], e["value"], e["extractor"]) for e in result["entities"]] == [
        ("bike_number", "862104573", "RiderEntityExtractor"),
        ("fault_part", "刹车", "RiderEntityExtractor"),
    ]
