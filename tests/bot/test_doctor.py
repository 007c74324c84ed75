"""`slate doctor` offline: a temp data folder, no GPU needed, no token, and a scripted
OpenAI-compatible server on 127.0.0.1 for the director's tool-calling round trip."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.doctor import Check, Mark, PullError, check_discord, check_llm, diagnose, pull_model
from bot.settings import Settings

SLATE = shutil.which("slate", path=str(Path(sys.executable).parent)) or "slate"
SECRET = "sk-test-DO-NOT-PRINT-1234567890"
# A bot token's first part is its application id in base64; the rest is made up here.
APP_ID = 123456789012345678
TOKEN = base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GaBcDe.x" * 1 + "y" * 30


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)  # type: ignore[call-arg]


def _completion(tool_call: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "" if tool_call else "Sure!"}
    if tool_call:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "mark_shot",
                    "arguments": json.dumps({"number": 1, "size": "close-up"}),
                },
            }
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_call else "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class ScriptedServer:
    """An OpenAI-compatible chat endpoint that answers every request from a script."""

    def __init__(self, tool_call: bool = True) -> None:
        self.tool_call = tool_call
        self.requests: list[dict[str, Any]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                scripted.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        **json.loads(body),
                    }
                )
                data = json.dumps(_completion(scripted.tool_call)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def marks(checks: list[Check]) -> list[str]:
    return [check.mark.value for check in checks]


async def test_offline_with_nothing_configured_all_is_well(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    checks = await diagnose(settings(tmp_path))
    assert Mark.PROBLEM not in [check.mark for check in checks], [c.lines() for c in checks]
    text = "\n".join(line for check in checks for line in check.lines())
    assert "Python 3." in text and "PyAV" in text and "encodes H.264" in text
    assert str(tmp_path / "data") in text and "GiB free" in text
    assert "slate models pull wan2.1-1.3b" in text  # how to get the real model
    assert "SLATE_DISCORD_TOKEN not set" in text and "offline rule-based director" in text


async def test_diffusers_without_the_model_cached_says_how_to_pull_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    checks = await diagnose(settings(tmp_path, renderer="diffusers"))
    model = next(c for c in checks if c.text.startswith("video model"))
    assert model.mark is Mark.PROBLEM and "slate models pull wan2.1-1.3b" in model.fix


async def test_an_unwritable_data_folder_is_a_problem_with_a_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    checks = await diagnose(settings(tmp_path).model_copy(update={"data_dir": blocker / "x"}))
    folder = next(c for c in checks if c.text.startswith("data folder"))
    assert folder.mark is Mark.PROBLEM and "SLATE_DATA_DIR" in folder.fix


async def test_the_backups_folder_is_the_stores(tmp_path: Path) -> None:
    from studio.store import Store

    chosen = settings(tmp_path)
    chosen.data_dir.mkdir(parents=True)
    store = await Store.open(chosen.database)
    expected = store.backups_dir
    await store.close()
    checks = await diagnose(chosen)
    assert any(c.mark is Mark.OK and str(expected) in c.text for c in checks)


async def test_the_director_model_makes_a_real_tool_call_and_the_key_stays_secret(
    tmp_path: Path, llm_server: ScriptedServer
) -> None:
    chosen = settings(
        tmp_path, llm_model="openai:scripted", llm_api_key=SECRET, llm_base_url=llm_server.url
    )
    checks = await check_llm(chosen)
    assert marks(checks) == ["✓"] and "tool-calling round trip" in checks[0].text
    sent = llm_server.requests[0]
    assert sent["path"].endswith("/chat/completions") and sent["tools"][0]["function"]["name"]
    assert sent["auth"] == f"Bearer {SECRET}"  # it reached the server...
    assert SECRET not in "\n".join(checks[0].lines())  # ...and never the report


async def test_a_model_that_answers_without_tools_is_a_problem(tmp_path: Path) -> None:
    with ScriptedServer(tool_call=False) as server:
        chosen = settings(
            tmp_path, llm_model="openai:chatty", llm_api_key="none", llm_base_url=server.url
        )
        checks = await check_llm(chosen)
    assert marks(checks) == ["✗"] and "no tool call" in checks[0].text


async def test_an_unreachable_director_model_is_one_line(tmp_path: Path) -> None:
    with ScriptedServer() as server:
        url = server.url  # closed below: nothing listens there any more
    chosen = settings(
        tmp_path, llm_model="openai:gone", llm_api_key=SECRET, llm_base_url=url, llm_timeout_s=3
    )
    checks = await check_llm(chosen)
    assert marks(checks) == ["✗"] and "unreachable" in checks[0].text
    assert SECRET not in "\n".join(checks[0].lines())


async def test_discord_unreachable_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import discord.http

    with ScriptedServer() as server:
        closed = server.url.removesuffix("/v1")
    monkeypatch.setattr(discord.http.Route, "BASE", f"{closed}/api/v10")
    checks = await check_discord(settings(tmp_path, discord_token=TOKEN))
    assert marks(checks) == ["✗"] and "Discord unreachable" in checks[0].text
    assert TOKEN not in "\n".join(checks[0].lines())


def test_pull_offline_fails_with_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(
        [SLATE, "models", "pull", "wan2.1-1.3b"],
        capture_output=True,
        text=True,
        env={**env, "SLATE_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Could not download wan2.1-1.3b" in result.stderr and "HF_HUB_OFFLINE" in result.stderr


def test_pull_of_a_local_folder_downloads_nothing(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    assert pull_model(str(tmp_path / "model")) == (tmp_path / "model").resolve()
    with pytest.raises(PullError, match="no model folder"):
        pull_model(str(tmp_path / "nowhere"))


def test_slate_doctor_end_to_end(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "SLATE_DATA_DIR": str(tmp_path / "data"),
        "CUDA_VISIBLE_DEVICES": "",
    }
    for name in ("SLATE_LLM_MODEL", "SLATE_DISCORD_TOKEN"):
        env.pop(name, None)
    result = subprocess.run(
        [SLATE, "doctor"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Slate doctor") and lines[-1] == "All good."
    assert all(line[0] in "✓-" or line.startswith("    fix:") for line in lines[1:-1]), lines
    assert "Traceback" not in result.stderr


def test_the_invite_url_comes_from_the_token_and_the_one_permission_constant() -> None:
    from urllib.parse import parse_qs, urlsplit

    from bot.discord import INVITE_SCOPES, PERMISSIONS, application_id, invite_url

    assert application_id(TOKEN) == APP_ID and application_id("not a token") is None
    url = invite_url(TOKEN)
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == [" ".join(INVITE_SCOPES)] == ["bot applications.commands"]
    assert query["permissions"] == [str(PERMISSIONS.value)]
    # The README lists exactly these permissions, and the same integer.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"`{PERMISSIONS.value}`" in readme
    labels = {
        "View Channels": "view_channel",
        "Send Messages": "send_messages",
        "Create Public Threads": "create_public_threads",
        "Send Messages in Threads": "send_messages_in_threads",
        "Embed Links": "embed_links",
        "Attach Files": "attach_files",
        "Read Message History": "read_message_history",
        "Pin Messages": "pin_messages",
    }
    import discord

    assert discord.Permissions(**dict.fromkeys(labels.values(), True)) == PERMISSIONS
    for label in labels:
        assert f"| {label} |" in readme, label


def test_slate_bot_invite_url_prints_the_link(tmp_path: Path) -> None:
    env = {**os.environ, "SLATE_DISCORD_TOKEN": TOKEN, "SLATE_DATA_DIR": str(tmp_path / "d")}
    result = subprocess.run(
        [SLATE, "bot", "--invite-url"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("https://") and f"client_id={APP_ID}" in result.stdout
    assert TOKEN not in result.stdout
    bad = subprocess.run(
        [SLATE, "bot", "--invite-url"],
        capture_output=True,
        text=True,
        env={**env, "SLATE_DISCORD_TOKEN": "nonsense"},
        timeout=120,
    )
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
