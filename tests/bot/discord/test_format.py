"""Formatting within Discord's limits, and the direction rate limiter."""

from __future__ import annotations

import discord
import pytest

from bot.discord._format import (
    APPROVED_COLOUR,
    MAX_CONTENT,
    MAX_EMBED_CHARS,
    MAX_FIELD_VALUE,
    MAX_FIELDS,
    SLATE_COLOUR,
    TAKE_COLOUR,
    JobLine,
    diff_block,
    direction_reply,
    mark_approved,
    message_pages,
    parse_shots,
    progress_bar,
    shotlist_embeds,
    status_text,
    take_embed,
)
from bot.discord._limits import SlidingWindow
from bot.production import TakeCard
from studio.errors import InvalidValue, LimitReached
from studio.models import Scene, Shot, ShotList
from studio.records import JobState, Take


def long_list(
    count: int, text: str = "A keeper climbs the spiral stair, lamp in hand. "
) -> ShotList:
    return ShotList(
        title="Lighthouse",
        shots=tuple(
            Shot(description=(text * 20)[:900], dialogue="Who's there?") for _ in range(count)
        ),
    )


def shots_listed(embeds: list[discord.Embed]) -> int:
    return sum(
        (field.value or "").count("\n**") + (field.value or "").startswith("**")
        for embed in embeds
        for field in embed.fields
    )


def test_short_lists_fit_one_embed() -> None:
    embeds = shotlist_embeds(long_list(3, "Wave."), 7)
    assert len(embeds) == 1 and shots_listed(embeds) == 3
    assert embeds[0].title == "Lighthouse · project #7"
    assert embeds[0].colour == SLATE_COLOUR


def test_shots_are_grouped_under_their_sluglines() -> None:
    bar, alley = (
        Scene(location="jazz bar", time_of_day="NIGHT"),
        Scene(int_ext="EXT", location="alley"),
    )
    shotlist = ShotList(
        title="Noir",
        shots=(
            Shot(scene=bar, description="Smoke curls over the piano.", characters=("Mack",)),
            Shot(
                number="2",
                scene=bar,
                description="Vera slides a photograph across.",
                dialogue="Find her.",
            ),
            Shot(number="3", scene=alley, description="A shot rings out."),
        ),
    )
    [embed] = shotlist_embeds(shotlist, 3)
    assert [f.name for f in embed.fields] == [
        "Scene 1 · INT. JAZZ BAR - NIGHT",
        "Scene 2 · EXT. ALLEY - DAY",
    ]
    first = embed.fields[0].value or ""
    assert first.startswith("**1** · ") and "\n\n**2** · " in first
    assert "-# Mack" in first and "> “Find her.”" in first
    assert embed.description and "**3 shots**" in embed.description


def test_an_empty_shot_list_says_what_to_do() -> None:
    [embed] = shotlist_embeds(ShotList(title="Blank"), 1)
    assert embed.fields[0].name == "No shots yet"


@pytest.mark.parametrize("count", [26, 60, 200])
def test_long_lists_are_paged_within_limits(count: int) -> None:
    embeds = shotlist_embeds(long_list(count), 1)
    assert shots_listed(embeds) == count
    assert all(len(f.value or "") <= MAX_FIELD_VALUE for e in embeds for f in e.fields)
    assert all(len(e.fields) <= MAX_FIELDS and len(e) <= MAX_EMBED_CHARS for e in embeds)
    pages = message_pages(embeds)
    assert [e for page in pages for e in page] == embeds
    assert all(len(page) <= 10 and sum(len(e) for e in page) <= MAX_EMBED_CHARS for page in pages)
    assert embeds[-1].footer.text == f"page {len(embeds)}/{len(embeds)}"


def test_progress_bar() -> None:
    assert progress_bar(12, 30) == "▰▰▰▰▱▱▱▱▱▱ 12/30"
    assert progress_bar(30, 30, width=6) == "▰▰▰▰▰▰ 30/30"
    assert progress_bar(0, 0, width=4) == "▱▱▱▱"
    assert progress_bar(99, 10, width=2) == "▰▰ 10/10"


def test_diff_block_truncates_at_a_line_and_counts_the_rest() -> None:
    lines = [f"~ shot {i}: size medium shot → close-up" for i in range(200)]
    block = diff_block(lines, limit=400)
    assert block.startswith("```diff\n") and block.endswith("\n```")
    assert len(block) < 500 and "more changes" in block
    assert diff_block([]) == ""
    assert "```" not in diff_block(["+ a ``` fence"])[8:-4]


def test_direction_reply_stays_under_2000_characters() -> None:
    text = direction_reply("x" * 3000, ["~ change"] * 500, ["note"] * 50)
    assert len(text) <= MAX_CONTENT


def test_a_long_reply_and_a_long_diff_never_cut_the_diff_open() -> None:
    """A 600-character reply and a 1500-character diff used to pass 2000 and lose the closing
    fence, turning the rest of the thread message into code."""
    changes = [
        f"~ shot {i}: size medium shot → close-up, move static → dolly in" for i in range(200)
    ]
    for notes in ((), ["a" * 300] * 3, ["note"] * 50):
        text = direction_reply("é" * 3000, changes, notes)
        assert len(text) <= MAX_CONTENT
        body = text.split("```diff\n", 1)[1]
        assert "\n```" in body and "more changes" in body.split("\n```")[0]
    block = diff_block(changes, limit=400)
    assert len(block) <= 400 and block.endswith("\n```")


def test_the_footer_fits_inside_the_limit() -> None:
    """/direct's intro adds a hint line: with many notes it used to reach 2000 first and the
    thread message was refused (50035)."""
    footer = "-# Mention me here with notes to revise"
    text = direction_reply("Planned " + "t" * 700, [], ["a long note " * 30] * 12, footer=footer)
    assert len(text) <= MAX_CONTENT and text.endswith(footer)


def test_status_text_shows_each_shot() -> None:
    jobs = [
        JobLine("1", JobState.DONE, take_id=4),
        JobLine("2", JobState.RUNNING, step=12, total=30, eta_s=75),
        JobLine("3", JobState.QUEUED, position=2),
        JobLine("4", JobState.FAILED, reason="out of memory"),
    ]
    text = status_text("Lighthouse", jobs)
    assert "2/4 shots finished" in text and "take #4" in text
    assert "▰▰▰▰▱▱▱▱▱▱ 12/30" in text and "ETA 1m15s" in text
    assert "queued #2" in text and "out of memory" in text
    many = [JobLine(str(i), JobState.DONE, take_id=i) for i in range(300)] + [JobLine("300")]
    assert len(status_text("Epic", many)) <= MAX_CONTENT and "Shot 300" in status_text("Epic", many)


def test_a_200_shot_batch_status_keeps_whole_lines() -> None:
    """Cutting mid-line left an unclosed ** or ` that garbled the status message."""
    jobs = [JobLine(str(i), JobState.RUNNING, step=3, total=30, eta_s=90) for i in range(200)]
    text = status_text("🎬" * 150, jobs)
    assert len(text) <= MAX_CONTENT and not text.endswith("…")
    assert all(line.count("**") % 2 == 0 and line.count("`") % 2 == 0 for line in text.splitlines())
    assert "more waiting or rendering" in text.splitlines()[-1]


def test_parse_shots() -> None:
    numbers = ["1", "2", "3", "3A", "4", "5"]
    assert parse_shots("1,3-5", numbers) == ["1", "3", "3A", "4", "5"]
    assert parse_shots(" 2 , 2 ", numbers) == ["2"]
    assert parse_shots("all", numbers) == [] and parse_shots(None, numbers) == []
    assert parse_shots("3a", numbers) == ["3A"]
    with pytest.raises(InvalidValue, match="no shot 9"):
        parse_shots("9", numbers)
    with pytest.raises(InvalidValue, match="can't read"):
        parse_shots("one", numbers)


def test_sliding_window_limits_per_guild_and_user() -> None:
    now = [0.0]
    window = SlidingWindow(2, 60, clock=lambda: now[0])
    window.hit((1, 10))
    window.hit((1, 10))
    window.hit((2, 10))  # another guild: its own budget
    window.hit((1, 11))  # another user
    with pytest.raises(LimitReached, match="Try again in 60 s"):
        window.hit((1, 10))
    now[0] = 59.0
    with pytest.raises(LimitReached, match="in 1 s"):
        window.hit((1, 10))
    now[0] = 60.0
    window.hit((1, 10))  # the oldest left the window


def test_a_finished_batch_ends_with_a_summary() -> None:
    jobs = [
        JobLine("1", JobState.DONE, take_id=1, seconds=4.25),
        JobLine("2", JobState.DONE, take_id=2, seconds=8.0),
        JobLine("3", JobState.FAILED, reason="out of memory"),
    ]
    text = status_text("Noir", jobs)
    assert text.splitlines()[0] == "🎬 **Noir** · batch finished · 2 takes in 12 s · 1 failed"
    assert "**Shot 1** · ✅ take #1 · 4.2 s" in text


def _take(**request: object) -> Take:
    return Take(7, 1, "u", "f", 42, "animatic", dict(request), "c.mp4", "p.png", 1.5, None, "")


def test_take_card_title_fields_and_approved_state() -> None:
    shot = Shot(description="Vera lights a cigarette.")
    embed = take_embed(TakeCard(_take(prompt="noir\nrain", width=832), shot, "3", 2, False))
    assert embed.title == "Shot 3 · Take 2" and embed.colour == TAKE_COLOUR
    fields = {f.name: f.value for f in embed.fields}
    assert {"Size", "Move", "Length", "Seed", "Model", "Render time", "Prompt"} <= set(fields)
    assert "noir rain" in (fields["Prompt"] or "")
    assert embed.footer.text == "take #7"
    removed = take_embed(TakeCard(_take(), None, "3", 1, False))  # its shot was cut since
    assert removed.title == "Shot 3 · Take 1" and removed.description is None
    assert TakeCard(_take(), None, "3", 1, False).clip_name == "shot-3-take-1.mp4"
    shown_approved = take_embed(TakeCard(_take(), shot, "3", 1, True))
    assert shown_approved.title == "Shot 3 · Take 1 · Approved ✓"
    approved = mark_approved(embed, True)
    assert approved.title == "Shot 3 · Take 2 · Approved ✓" and approved.colour == APPROVED_COLOUR
    assert mark_approved(mark_approved(embed, True), True).title == "Shot 3 · Take 2 · Approved ✓"
    back = mark_approved(approved, False)
    assert back.title == "Shot 3 · Take 2" and back.colour == TAKE_COLOUR
    assert isinstance(back, discord.Embed)


def test_a_job_rendering_again_says_why() -> None:
    job = JobLine("3", JobState.QUEUED, note="The render worker was lost; rendering it again.")
    assert "🔁" in status_text("Noir", [job]) and "worker was lost" in status_text("Noir", [job])
