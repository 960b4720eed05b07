"""Settings refuse unsafe defaults; the anger lexicon flags riders who need a person."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ridedesk.mood import AngerLexicon, default_lexicon
from ridedesk.settings import DEV_SECRET, Settings


def test_development_accepts_the_development_secrets():
    settings = Settings(env="development")
    assert settings.secret_key == DEV_SECRET


@pytest.mark.parametrize("env", ["test", "production"])
def test_default_secrets_are_refused_outside_development(env):
    with pytest.raises(ValidationError, match="refusing the development secret"):
        Settings(env=env)


def test_real_secrets_are_accepted_in_production():
    settings = Settings(env="production", secret_key="s3cret-key", rasa_token="t0ken")
    assert settings.rasa_token == "t0ken"


def test_unknown_environment_is_refused():
    with pytest.raises(ValidationError):
        Settings(env="staging")


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RIDEDESK_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    assert Settings().database_url == "sqlite:////tmp/elsewhere.db"


@pytest.mark.parametrize(
    "text",
    ["垃圾公司，骗子！！！退钱", "你们这是骗钱，我要打12315投诉", "什么破车，黑心企业，我要曝光你们"],
)
def test_strong_anger_is_recognised(text):
    assert default_lexicon().is_strongly_angry(text)


@pytest.mark.parametrize("text", ["车锁打不开了，车号862104573", "押金什么时候到账？", "有点生气，扣了我两块钱", ""])
def test_ordinary_messages_are_not_strong_anger(text):
    assert not default_lexicon().is_strongly_angry(text)


def test_full_width_and_case_are_normalised(tmp_path):
    lexicon_file = tmp_path / "anger.yml"
    lexicon_file.write_text("threshold: 3\nwords:\n  tmd: 3\n", encoding="utf-8")
    lexicon = AngerLexicon.load(lexicon_file)
    assert lexicon.is_strongly_angry("ＴＭＤ")
    assert lexicon.score("你好") == 0
