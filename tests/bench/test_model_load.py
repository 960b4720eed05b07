"""bench/model_load.py refuses clearly when there is nothing to load."""
from bench import model_load


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    assert model_load.main(["--model", str(tmp_path / "none.tar.gz")]) == 2
    assert "make train" in capsys.readouterr().err
