"""Settings: bad values are refused with the variable's name; empty means off where there is one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("llm_timeout_s", "-1"),
        ("llm_timeout_s", "0"),
        ("llm_timeout_s", "nan"),
        ("llm_timeout_s", "inf"),
        ("llm_timeout_s", "1e9"),
        ("model", ""),
        ("discord_crew_role", " "),
        ("llm_base_url", "localhost:8000"),
        ("first_block_cache", "nan"),
        ("discord_dev_guild", "-5"),
        ("discord_dev_guild", str(2**64)),
        ("max_open_renders_per_user", str(10**30)),
        ("directions_per_minute", str(10**30)),
    ],
)
def test_bad_values_are_refused(
    field: str, value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"SLATE_{field.upper()}", value)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_good_values_are_kept() -> None:
    chosen = settings(
        llm_timeout_s="2.5", llm_base_url="http://localhost:11434", discord_dev_guild="123"
    )
    assert chosen.llm_timeout_s == 2.5
    assert chosen.llm_base_url == "http://localhost:11434"
    assert chosen.discord_dev_guild == 123


def test_the_example_env_file_loads_as_the_defaults(tmp_path: Path) -> None:
    """Copying .env.example to .env is how people start: every empty line there means 'off'."""
    from_example = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    assert from_example == settings()
    assert from_example.render_steps is None and from_example.llm_api_key is None


def test_the_example_env_file_lists_every_setting() -> None:
    listed = set(re.findall(r"^SLATE_([A-Z0-9_]+)=", EXAMPLE.read_text(), flags=re.M))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_the_data_folder_is_per_user_wherever_slate_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SLATE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    first = settings().data_dir
    monkeypatch.chdir(tmp_path / "share" if (tmp_path / "share").exists() else "/")
    assert settings().data_dir == first and first.is_absolute()
    assert first.name == "slate"
    # Empty means the default; a folder the user names (with ~) is theirs.
    assert settings(data_dir="  ").data_dir == first
    assert settings(data_dir="~/films").data_dir == tmp_path / "home" / "films"
