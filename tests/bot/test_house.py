"""A render size the model can't take: /render and /cut say the same rule, in the production and
in the terminal chat, and nothing else breaks."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.app import production
from bot.errors import GENERIC_ERROR, user_message
from bot.production import Production
from bot.settings import Settings
from bot.terminal import ChatSession
from studio.errors import SlateError

SCOPE = "local"
BRIEF = "Mia waits in a rain-soaked alley at night. Cole steps out of a car holding a letter."

# What each camera says about a 65x67 frame (the animatic wants even sides, Wan multiples of 16).
RULES = {
    "animatic": "Width and height must be even, got 65x67.",
    "diffusers": "Wan needs width and height in multiples of 16; got 65x67 (try 64x64).",
}


@pytest.fixture(params=sorted(RULES))
def renderer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def prod(tmp_path: Path, renderer: str) -> AsyncIterator[Production]:
    """A production with a render pool whose frame size no model can render. Nothing loads:
    the request is checked before a renderer is asked for (no torch, no weights)."""
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",  # type: ignore[call-arg]
        renderer=renderer,  # type: ignore[arg-type]
        model="wan2.1-1.3b",
        render_width=65,
        render_height=67,
    )
    async with production(settings, render=True) as opened:
        yield opened


def rule_for(renderer: str) -> str:
    return RULES[renderer]


async def test_render_and_cut_refuse_with_the_same_size_rule(
    prod: Production, renderer: str
) -> None:
    project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    with pytest.raises(SlateError) as rendered:
        await prod.render(SCOPE, project.id, "ana")
    with pytest.raises(SlateError) as cut:
        await prod.cut(SCOPE, project.id)
    with pytest.raises(SlateError) as checked:
        await prod.check_cut(SCOPE, project.id)
    assert str(rendered.value) == rule_for(renderer)
    assert str(cut.value) == str(checked.value) == str(rendered.value)
    # Both front-ends answer with the text itself, not the generic error.
    assert user_message(cut.value) == rule_for(renderer) != GENERIC_ERROR
    assert not await prod.store.open_jobs(project.id)  # nothing was queued


def chat(prod: Production, tmp_path: Path) -> tuple[ChatSession, io.StringIO]:
    out = io.StringIO()
    screen = Console(file=out, width=200, highlight=False, color_system=None)
    return ChatSession(prod, screen, "you", database=tmp_path / "data" / "slate.db"), out


async def test_the_terminal_says_the_size_rule_for_render_and_cut(
    prod: Production, tmp_path: Path, renderer: str
) -> None:
    session, out = chat(prod, tmp_path)
    await session.start(BRIEF)
    said: dict[str, str] = {}
    for line in ("/render", "/cut", "render it"):
        mark = len(out.getvalue())
        assert await session.handle(line)
        said[line] = out.getvalue()[mark:]
        assert said[line].splitlines()[-1] == rule_for(renderer), said[line]
        assert "Traceback" not in said[line] and "went wrong" not in said[line]
    # The chat goes on.
    assert await session.handle("shot 1: close-up")
    assert session.project_id is not None
    project = await prod.project(SCOPE, session.project_id)
    assert project.shotlist.shots[0].size.value == "close-up"
