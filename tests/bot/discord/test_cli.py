"""`slate bot` fails with one clear line, and never shows the token."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot import cli


def test_missing_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLATE_DISCORD_TOKEN", raising=False)
    assert cli.main(["bot"]) == 2
    assert capsys.readouterr().err.strip().startswith("slate: Set SLATE_DISCORD_TOKEN")


def test_rejected_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refuse(self: discord.Client, token: str, *, reconnect: bool = True) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLATE_DISCORD_TOKEN", "sekrit-token-value")
    monkeypatch.setenv("SLATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(discord.Client, "start", refuse)
    assert cli.main(["bot"]) == 2
    err = capsys.readouterr().err
    assert "rejected the bot token" in err and "sekrit" not in err
    assert len(err.strip().splitlines()) == 1


def test_unreachable_discord(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def offline(self: discord.Client, token: str, *, reconnect: bool = True) -> None:
        raise OSError("Name or service not known")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLATE_DISCORD_TOKEN", "sekrit-token-value")
    monkeypatch.setenv("SLATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(discord.Client, "start", offline)
    assert cli.main(["bot"]) == 2
    err = capsys.readouterr().err
    assert "Could not reach Discord" in err and "sekrit" not in err
