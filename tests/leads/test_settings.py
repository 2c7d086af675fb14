import pytest

from leads.errors import ConfigurationError
from leads.settings import load_settings


def test_defaults_are_embedded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(var_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'leadguard.db'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.keyring_file == tmp_path / "keyring.json"


def test_malformed_variable_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADGUARD_CONSOLE_PORT", "eighty")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("LEADGUARD_CONSOLE_PORT:")
    assert "\n" not in message


def test_production_refuses_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADGUARD_ENVIRONMENT", "production")
    with pytest.raises(ConfigurationError, match="LEADGUARD_DATABASE_URL"):
        load_settings()
