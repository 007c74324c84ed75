"""The LLM director against a scripted OpenAI-compatible server on 127.0.0.1, through the real
`langchain-openai` client that `make_chat_model` builds: what the crew is told when the model's
answer is malformed, the server fails or can't be reached, or the turn runs out of time; and
that a plan's closing summary reaches them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agents.base import MemoryEditor, Plan, summarized_plan
from agents.chat_model import make_chat_model
from agents.llm import LLMDirector, ModelUnavailable
from studio.edits import ReplaceShots, SetCharacter, ShotChanges
from studio.errors import SlateError
from tests.agents.openai_server import Answer, OpenAIServer, Slow, Status, call, calls, say

SECRET = "sk-test-DO-NOT-PRINT-0123456789"
MARGIN_S = 0.75  # how much past its timeout a turn may end (scheduling, a loaded CI box)

PLAN: list[dict[str, Any]] = [
    {"description": "The harbour at dawn, fog on the water", "size": "EWS", "duration": 5},
    {"description": "Mara walks along the pier", "size": "medium shot", "characters": ["Mara"]},
    {"description": "Mara's eyes find the boat", "size": "close-up", "characters": ["Mara"]},
]


def director(server: OpenAIServer, *, client_timeout: float = 30, **options: Any) -> LLMDirector:
    """The LLM director on the real OpenAI client, pointed at `server`."""
    model = make_chat_model(
        "openai:scripted", api_key=SecretStr(SECRET), base_url=server.url, timeout=client_timeout
    )
    return LLMDirector(model, name="director (scripted server)", **options)


async def planned_editor() -> MemoryEditor:
    editor = MemoryEditor()
    await editor.apply(SetCharacter(name="Mara", description="a fisherwoman in a yellow coat"))
    await editor.apply(ReplaceShots(shots=[ShotChanges(**shot) for shot in PLAN]))
    return editor


def user_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


@pytest.fixture(autouse=True)
def no_warnings_on_the_terminal(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Without -v the CLI shows WARNING and up: none of these failures may print a raw log line
    (Slate's own lines about them are INFO, for -v)."""
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("call")  # in teardown, `caplog.records` is teardown's own
    loud = [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.WARNING]
    assert loud == []
    logged = "\n".join(r.getMessage() for r in records)
    assert SECRET not in logged
    assert "Retrying request" not in logged  # the openai client's own retries stay off


# --- a plan, and its summary ----------------------------------------------------------------


async def test_a_plan_comes_with_the_models_closing_summary() -> None:
    summary = "Three shots: we open wide on the harbour and end on Mara's eyes."
    with OpenAIServer(
        call("set_character", name="Mara", description="a fisherwoman in a yellow coat"),
        call("plan_shots", shots=PLAN),
        say(summary),
    ) as server:
        slate = director(server)
        planned = await summarized_plan(slate, "A fisherwoman waits for a boat at dawn.")

    assert [shot.description for shot in planned.shotlist.shots] == [s["description"] for s in PLAN]
    assert planned.summary == summary
    assert len(server.requests) == 3 and server.overrun == 0
    first = server.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == f"Bearer {SECRET}"
    assert "plan_shots" in {tool["function"]["name"] for tool in first["tools"]}


async def test_a_director_without_summaries_plans_as_before() -> None:
    from agents.offline import OfflineDirector

    planned = await summarized_plan(OfflineDirector(), "Mara waits on the pier at dawn.")
    assert isinstance(planned, Plan) and planned.shotlist.shots and planned.summary == ""


# --- malformed answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("malformed", "problem"),
    [
        (calls(("update_shot", '{"shot": "2", "changes": {"size": "CU"')), "aren't valid JSON"),
        (calls(("update_shot", "shot 2, close-up please")), "aren't valid JSON"),
        (call("delete_project", project_id=2), "doesn't exist (delete_project)"),
    ],
    ids=["cut-off JSON", "not JSON", "unknown tool"],
)
async def test_a_malformed_answer_is_asked_for_again(malformed: Answer, problem: str) -> None:
    editor = await planned_editor()
    with OpenAIServer(
        malformed,
        call("update_shot", shot="2", changes={"size": "CU"}),
        say("Shot 2 is a close-up now."),
    ) as server:
        reply = await director(server).direct("Shot 2 closer", editor)

    assert reply.text == "Shot 2 is a close-up now." and reply.edits == 1
    assert (await editor.shotlist()).shots[1].size.value == "close-up"
    # The second request tells the model what was wrong; nothing of the first answer was run.
    assert len(server.requests) == 3
    assert problem in user_messages(server.requests[1])[-1]
    assert not any(m["role"] == "tool" for m in server.requests[1]["messages"])


async def test_an_answer_that_stays_malformed_changes_nothing_and_says_so() -> None:
    editor = await planned_editor()
    before = await editor.shotlist()
    broken = calls(("remove_shot", {"shot": "1"}), ("update_shot", "{not json"))
    with OpenAIServer(broken, broken, broken, say("never asked")) as server:
        reply = await director(server).direct("Lose the opening, tighten shot 2", editor)

    assert "the model's answer was malformed" in reply.text and "unchanged" in reply.text
    assert "didn't change anything" not in reply.text and "say it another way" not in reply.text
    assert reply.edits == 0 and reply.render is None
    assert await editor.shotlist() == before  # remove_shot, well-formed, was never run either
    assert len(server.requests) == 3  # asked, then asked again twice


async def test_the_malformed_retries_are_bounded_by_the_director() -> None:
    with OpenAIServer(call("nonsense"), say("never asked")) as server:
        reply = await director(server, malformed_retries=0).direct(
            "tighten 2", await planned_editor()
        )
    assert "malformed" in reply.text and "1 time in a row" in reply.text
    assert len(server.requests) == 1


async def test_a_plan_whose_answers_stay_malformed_doesnt_blame_the_brief() -> None:
    broken = calls(("plan_shots", '{"shots": [{"description": "The harbour'))
    with OpenAIServer(broken, broken, broken) as server, pytest.raises(SlateError) as raised:
        await director(server).plan("A fisherwoman waits for a boat at dawn.")
    message = str(raised.value)
    assert message.startswith("I couldn't plan that: the model's answer was malformed")
    assert "brief" not in message and "without planning" not in message
    assert server.overrun == 0


# --- the model server fails ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (500, "the model server failed (HTTP 500)"),
        (503, "the model server failed (HTTP 503)"),
        (401, "the model server refused the API key (HTTP 401)"),
        (404, "the model server doesn't know that model (HTTP 404)"),
        (429, "the model server is rate-limiting us (HTTP 429)"),
        (400, "the model server refused the request (HTTP 400)"),
    ],
)
async def test_a_server_error_is_named_by_its_status_and_asked_once(status: int, said: str) -> None:
    editor = await planned_editor()
    before = await editor.shotlist()
    leaky = f'{{"error": {{"message": "Incorrect API key provided: {SECRET}"}}}}'
    with OpenAIServer(Status(status, leaky), Status(status, leaky)) as server:
        slate = director(server)
        with pytest.raises(ModelUnavailable) as direct_failed:
            await slate.direct("Make shot 1 wider", editor)
        with pytest.raises(ModelUnavailable) as plan_failed:
            await slate.plan("A fisherwoman waits for a boat at dawn.")

    assert str(direct_failed.value) == f"I stopped: {said}. The shot list is unchanged."
    assert str(plan_failed.value) == f"I couldn't plan that: {said}."
    for raised in (direct_failed, plan_failed):
        shown = f"{raised.value} {raised.value!r} {raised.value.__cause__!r}"
        assert SECRET not in shown and "Error" not in shown.replace("ModelUnavailable", "")
    assert len(server.requests) == 2 and server.overrun == 0  # no silent client retries
    assert await editor.shotlist() == before


async def test_an_unreachable_server_is_named_by_host_and_port() -> None:
    with OpenAIServer() as server:
        pass  # closed: nothing listens there any more
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as raised:
        await director(server).direct("Make shot 1 wider", await planned_editor())
    assert str(raised.value) == (
        f"I stopped: the model server at {server.address} can't be reached. "
        "The shot list is unchanged."
    )
    assert time.monotonic() - started < 2, "a refused connection is not retried"


async def test_a_failure_after_some_edits_leaves_the_list_as_it_was() -> None:
    editor = await planned_editor()
    before = await editor.shotlist()
    server = OpenAIServer(call("remove_shot", shot="1"), Status(502))
    with server, pytest.raises(ModelUnavailable, match=r"failed \(HTTP 502\)\. The shot list is"):
        await director(server).direct("Lose the opening and tighten 2", editor)
    assert await editor.shotlist() == before


# --- the time limit is the whole wait --------------------------------------------------------


async def test_a_slow_server_ends_the_turn_at_the_timeout() -> None:
    editor = await planned_editor()
    before = await editor.shotlist()
    with OpenAIServer(Slow(10, say("too late"))) as server:
        slate = director(server, timeout_s=1)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as raised:
            await slate.direct("Make shot 1 wider", editor)
        waited = time.monotonic() - started
    assert 1 <= waited < 1 + MARGIN_S
    assert str(raised.value) == (
        "I stopped: the model didn't finish within 1 s. The shot list is unchanged."
    )
    assert len(server.requests) == 1 and await editor.shotlist() == before


async def test_a_request_timeout_shorter_than_the_turns_is_not_retried() -> None:
    with OpenAIServer(Slow(10, say("too late")), Slow(10, say("too late"))) as server:
        slate = director(server, client_timeout=0.5, timeout_s=5)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as raised:
            await slate.direct("Make shot 1 wider", await planned_editor())
        waited = time.monotonic() - started
    assert waited < 0.5 + MARGIN_S and len(server.requests) == 1
    assert str(raised.value) == (
        "I stopped: the model server didn't answer in time. The shot list is unchanged."
    )


async def test_the_timeout_spans_every_model_call_in_the_turn() -> None:
    editor = await planned_editor()
    before = await editor.shotlist()
    # Each answer alone is well within the limit; the turn as a whole is not.
    with OpenAIServer(
        Slow(0.5, call("update_shot", shot="1", changes={"size": "WS"})),
        Slow(0.5, call("update_shot", shot="2", changes={"size": "CU"})),
        Slow(0.5, call("remove_shot", shot="3")),
        Slow(0.5, say("Done.")),
    ) as server:
        slate = director(server, timeout_s=1.2)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match="didn't finish within 1.2 s"):
            await slate.direct("Wider on 1, tighter on 2, lose 3", editor)
        waited = time.monotonic() - started
    assert 1.2 <= waited < 1.2 + MARGIN_S
    assert await editor.shotlist() == before  # the staged edits were never committed


async def test_a_plan_that_runs_out_of_time_says_so() -> None:
    with OpenAIServer(Slow(10, say("too late"))) as server:
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as raised:
            await director(server, timeout_s=0.5).plan("A fisherwoman waits for a boat.")
    assert time.monotonic() - started < 0.5 + MARGIN_S
    assert str(raised.value) == "I couldn't plan that: the model didn't finish within 0.5 s."


def test_the_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        LLMDirector(make_chat_model("openai:x", api_key=SecretStr("x")), name="x", timeout_s=0)


# --- end to end: settings → director → production ---------------------------------------------


async def test_the_bot_plans_with_the_summary_and_reports_failures_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The composition root's director (from SLATE_* settings) through `Direction`: the plan's
    summary is in the "Planned …" reply, a failed turn is a reply, and the timeout is the turn's."""
    from bot.app import build_director
    from bot.production.direction import Direction
    from bot.settings import Settings
    from studio.store import Store

    summary = "Three shots, wide to close: the harbour, the pier, her eyes."
    with OpenAIServer(
        call("plan_shots", shots=PLAN),
        say(summary),
        Status(500),
        Slow(10, say("too late")),
    ) as server:
        monkeypatch.setenv("SLATE_LLM_MODEL", "openai:scripted")
        monkeypatch.setenv("SLATE_LLM_API_KEY", SECRET)
        monkeypatch.setenv("SLATE_LLM_BASE_URL", server.url)
        monkeypatch.setenv("SLATE_LLM_TIMEOUT_S", "1")
        settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
        slate = build_director(settings)
        assert isinstance(slate, LLMDirector) and slate.timeout_s == 1

        store = await Store.open(tmp_path / "slate.db")
        try:
            direction = Direction(store, slate)
            planned = await direction.start_project("chat", "ana", "Mara waits for a boat.")
            assert planned.reply.startswith("Planned ") and planned.reply.endswith(summary)

            failed = await direction.direct("chat", planned.project.id, "ana", "tighter on 2")
            assert failed.reply == (
                "I stopped: the model server failed (HTTP 500). The shot list is unchanged."
            )
            started = time.monotonic()
            late = await direction.direct("chat", planned.project.id, "ana", "tighter on 2")
            assert time.monotonic() - started < 1 + MARGIN_S
            assert "didn't finish within 1 s" in late.reply and not late.changes
        finally:
            await store.close()
    assert len(server.requests) == 4
