import pytest
from pydantic import ValidationError

from clara.settings import Settings, get_settings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("TABLE_NAME", "clara-table")
    get_settings.cache_clear()

    settings = get_settings()

    assert (settings.environment, settings.table_name) == ("test", "clara-table")
    get_settings.cache_clear()


def test_an_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ENVIRONMENT", "staging-typo")

    with pytest.raises(ValidationError):
        Settings.from_environment()
