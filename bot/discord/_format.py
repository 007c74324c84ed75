"""What the bot says, as pure functions: shot list embeds, diff blocks, progress lines, take cards.

Nothing here touches the network, so every limit Discord imposes (25 fields and 6000 characters per
embed, 6000 characters and 10 embeds per message, 2000 characters of content) is tested offline.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

from bot.production import TakeCard
from bot.production.checks import clip
from studio.errors import InvalidValue
from studio.models import Shot, ShotList
from studio.records import JobState

MAX_FIELDS = 25
MAX_EMBED_CHARS = 6000
MAX_MESSAGE_EMBEDS = 10
MAX_CONTENT = 2000
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
# Room left in each embed for title, description and footer, so fields alone never hit the cap.
_EMBED_BUDGET = MAX_EMBED_CHARS - 600
# One colour per kind of card, so a scrolling crew can tell them apart at a glance.
SLATE_COLOUR = discord.Colour(0x5865F2)  # the shot list and single shots
TAKE_COLOUR = discord.Colour(0xE0A526)  # a take waiting for review
APPROVED_COLOUR = discord.Colour(0x57F287)  # a take approved for the cut
STATUS_COLOUR = discord.Colour(0x4F545C)  # render progress (the preview frame)
APPROVED_MARK = " · Approved ✓"
_SHOT_TEXT = 300  # a shot's description in the list: enough to recognise it, not a page


def strip_mentions(text: str, user_id: int | None, role_id: int | None = None) -> str:
    """`text` without mentions of the bot: `<@id>`, `<@!id>` and its managed role's `<@&id>`."""
    if user_id is not None:
        text = re.sub(rf"<@!?{user_id}>", "", text)
    if role_id is not None:
        text = text.replace(f"<@&{role_id}>", "")
    return text.strip()


def shot_field(shot: Shot) -> tuple[str, str]:
    name = (
        f"Shot {shot.number} · {shot.size.abbreviation} · {shot.move_label} · {shot.duration:g} s"
    )
    lines = [shot.description]
    if shot.dialogue:
        lines.append(f"> {shot.dialogue}")
    details = [shot.scene.slugline]
    if shot.characters:
        details.append(", ".join(shot.characters))
    if shot.status.value != "planned":
        details.append(shot.status.value)
    lines.append(f"-# {' · '.join(details)}")
    return clip(name, MAX_FIELD_NAME), clip("\n".join(lines), MAX_FIELD_VALUE)


def shot_entry(shot: Shot) -> str:
    """One shot in the list: number, size · move · length, what we see, any line, who is in it."""
    head = f"**{shot.number}** · {shot.size.abbreviation} · {shot.move_label} · {shot.duration:g} s"
    if shot.status.value != "planned":
        head += f" · *{shot.status.value}*"
    lines = [head, clip(shot.description, _SHOT_TEXT)]
    if shot.dialogue:
        lines.append(f"> “{clip(shot.dialogue, 200)}”")
    if shot.characters:
        lines.append(f"-# {clip(', '.join(shot.characters), 200)}")
    return clip("\n".join(lines), MAX_FIELD_VALUE)


def _scene_fields(shotlist: ShotList) -> list[tuple[str, str]]:
    """The shots grouped under their sluglines, one field per scene (continued when long)."""
    fields: list[tuple[str, str]] = []
    scenes = itertools.groupby(shotlist.shots, key=lambda shot: shot.scene.slugline)
    for number, (slugline, shots) in enumerate(scenes, 1):
        base = clip(f"Scene {number} · {slugline}", MAX_FIELD_NAME - 10)
        header = base
        entries: list[str] = []
        for entry in (shot_entry(shot) for shot in shots):
            if entries and len("\n\n".join([*entries, entry])) > MAX_FIELD_VALUE:
                fields.append((header, "\n\n".join(entries)))
                header, entries = f"{base} (cont.)", []
            entries.append(entry)
        fields.append((header, "\n\n".join(entries)))
    return fields


def shotlist_embeds(shotlist: ShotList, project_id: int) -> list[discord.Embed]:
    """The shot list as embeds, scene by scene, each within Discord's field and character limits."""
    title = clip(f"{shotlist.title} · project #{project_id}", MAX_TITLE)
    count = len(shotlist.shots)
    summary = (
        f"**{count} shot{'s' if count != 1 else ''}** · {shotlist.runtime:g} s · "
        f"{shotlist.style.name} · {shotlist.aspect_ratio}"
    )
    if shotlist.logline:
        summary = f"*{clip(shotlist.logline, 1000)}*\n{summary}"
    embeds: list[discord.Embed] = []
    current = discord.Embed(title=title, description=summary, colour=SLATE_COLOUR)
    if not shotlist.shots:
        current.add_field(
            name="No shots yet",
            value="Mention me with what to shoot (“open on a wide of the harbour at dawn”).",
            inline=False,
        )
    for name, value in _scene_fields(shotlist):
        full = len(current.fields) >= MAX_FIELDS
        if full or len(current) + len(name) + len(value) > _EMBED_BUDGET:
            embeds.append(current)
            current = discord.Embed(colour=SLATE_COLOUR)
        current.add_field(name=name, value=value, inline=False)
    embeds.append(current)
    if len(embeds) > 1:
        for page, embed in enumerate(embeds, 1):
            embed.set_footer(text=f"page {page}/{len(embeds)}")
    return embeds


def message_pages(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages: at most 10 per message and 6000 characters in all."""
    pages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if current and (len(current) >= MAX_MESSAGE_EMBEDS or size + length > MAX_EMBED_CHARS):
            pages.append(current)
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        pages.append(current)
    return pages


def diff_block(changes: Sequence[str], limit: int = 1500) -> str:
    """The diff lines as a ```diff block of at most `limit` characters, fences included, cut at a
    line boundary with a count of what was left."""
    if not changes:
        return ""
    opening, closing = "```diff\n", "\n```"
    room = limit - len(opening) - len(closing)
    lines = [clip(line.replace("```", "ˋˋˋ"), 300) for line in changes]
    if len("\n".join(lines)) <= room:
        return opening + "\n".join(lines) + closing
    room -= len(_more_changes(len(lines))) + 1  # the "… and N more" line must fit too
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > room:
            break
        kept.append(line)
        used += len(line) + 1
    if not kept and room < 0:
        return ""
    return opening + "\n".join([*kept, _more_changes(len(lines) - len(kept))]) + closing


def _more_changes(count: int) -> str:
    return f"… and {count} more change{'s' if count > 1 else ''}"


def direction_reply(
    reply: str, changes: Sequence[str], notes: Iterable[str] = (), footer: str = ""
) -> str:
    """The director's answer, what changed, any film-grammar notes and an optional footer line,
    within 2000 characters: the diff block gets the room left and is never cut open."""
    head = clip(reply, 600)
    tail = [f"-# note: {clip(note, 200)}" for note in notes]
    if footer:
        tail.append(footer)
    # Notes give way (the footer, last, is kept) until the diff keeps a useful share.
    reserve = 600 if changes else 0
    while tail and len(head) + len("\n".join(tail)) + 2 + reserve > MAX_CONTENT:
        tail.pop(-2 if footer and len(tail) > 1 else -1)
    room = MAX_CONTENT - len(head) - len("\n".join(tail)) - 2
    block = diff_block(changes, min(1500, room)) if changes else ""
    text = "\n".join(part for part in (head, block, *tail) if part)
    return clip(text, MAX_CONTENT)


def progress_bar(step: int, total: int, width: int = 10) -> str:
    """`▰▰▰▱▱▱▱▱▱▱ 12/30`."""
    if total <= 0:
        return "▱" * width
    step = max(0, min(step, total))
    filled = round(width * step / total)
    return f"{'▰' * filled}{'▱' * (width - filled)} {step}/{total}"


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


@dataclass
class JobLine:
    """One shot's state on a batch's status message."""

    shot_number: str
    state: JobState = JobState.QUEUED
    position: int = 0
    step: int = 0
    total: int = 0
    eta_s: float | None = None
    take_id: int | None = None
    reason: str = ""
    note: str = ""  # e.g. a lost render worker: the shot renders again
    seconds: float | None = None  # the finished take's render time

    @property
    def open(self) -> bool:
        return self.state.open


def seconds_text(seconds: float) -> str:
    """`0.4 s`, `12 s`, `2m05s`."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{round(seconds)} s" if seconds < 60 else eta_text(seconds)


def job_line(job: JobLine) -> str:
    head = f"**Shot {job.shot_number}**"
    match job.state:
        case JobState.QUEUED if job.note:
            return f"{head} · 🔁 {clip(job.note, 200)}"
        case JobState.QUEUED:
            return f"{head} · queued #{job.position}" if job.position else f"{head} · queued"
        case JobState.RUNNING:
            if not job.total:
                return f"{head} · starting…"
            eta = eta_text(job.eta_s)
            return f"{head} · `{progress_bar(job.step, job.total)}`" + (
                f" · ETA {eta}" if eta else ""
            )
        case JobState.DONE:
            took = f" · {seconds_text(job.seconds)}" if job.seconds else ""
            return f"{head} · ✅ take #{job.take_id}{took}" if job.take_id else f"{head} · ✅ done"
        case JobState.FAILED:
            return f"{head} · ❌ {clip(job.reason or 'failed', 200)}"
        case _:
            return f"{head} · cancelled"


def _summary(jobs: Sequence[JobLine]) -> str:
    """`4 takes in 1.3 s · 1 failed`: the final line of a finished batch."""
    done = [job for job in jobs if job.state is JobState.DONE]
    took = sum(job.seconds or 0 for job in done)
    parts = [
        f"{len(done)} take{'s' if len(done) != 1 else ''}"
        + (f" in {seconds_text(took)}" if took else "")
    ]
    failed = sum(1 for job in jobs if job.state is JobState.FAILED)
    cancelled = sum(1 for job in jobs if job.state is JobState.CANCELLED)
    if failed:
        parts.append(f"{failed} failed")
    if cancelled:
        parts.append(f"{cancelled} cancelled")
    return " · ".join(parts)


def status_text(title: str, jobs: Sequence[JobLine]) -> str:
    """The body of a batch's status message: a header and one line per shot."""
    done = sum(1 for job in jobs if not job.open)
    name = clip(title, 100)
    if done < len(jobs):
        header = (
            f"🎬 Rendering **{name}** · {done}/{len(jobs)} shots finished\n"
            f"`{progress_bar(done, len(jobs), width=16).split(' ')[0]}`"
        )
    else:
        header = f"🎬 **{name}** · batch finished · {_summary(jobs)}"
    lines = [header, *(job_line(job) for job in jobs)]
    text = "\n".join(lines)
    if len(text) <= MAX_CONTENT:
        return text
    # Many shots: keep the open ones visible, whole lines only, and summarise the rest.
    kept = [header, f"-# {done} finished"]
    open_lines = [job_line(job) for job in jobs if job.open]
    used = len("\n".join(kept))
    for index, line in enumerate(open_lines):
        if used + 1 + len(line) > MAX_CONTENT - 40:  # room for the "… more" line
            kept.append(f"-# … and {len(open_lines) - index} more waiting or rendering")
            break
        kept.append(line)
        used += 1 + len(line)
    return "\n".join(kept)


def take_embed(card: TakeCard, *, note: str = "") -> discord.Embed:
    """The card under a posted take: what was rendered and how to reproduce it, titled with the
    take's place among its shot's takes (Take 2); the footer keeps the take's id for `/approve`."""
    take, shot = card.take, card.shot
    embed = discord.Embed(title=f"Shot {card.shot_number} · Take {card.number}", colour=TAKE_COLOUR)
    request = take.request
    if shot is not None:
        embed.description = f"{clip(shot.description, 1000)}\n-# {shot.scene.slugline}"
        embed.add_field(name="Size", value=shot.size.value)
        embed.add_field(name="Move", value=shot.move_label)
        embed.add_field(name="Length", value=f"{shot.duration:g} s")
    motion = take.info.get("motion")
    if isinstance(motion, dict) and motion.get("measured"):
        mark = "✓" if motion.get("matches") else "✗"
        hint = "" if motion.get("matches") else " · `/reroll number:mismatched`"
        embed.add_field(
            name="Move check",
            value=clip(
                f"asked: {motion.get('asked', '?')} · measured: {motion['measured']} {mark}{hint}",
                300,
            ),
            inline=False,
        )
    references = take.info.get("references")
    if isinstance(references, str) and references and references != "none":
        embed.add_field(name="References", value=clip(references, 300), inline=False)
    embed.add_field(name="Seed", value=f"`{take.seed}`")
    embed.add_field(name="Model", value=clip(take.model, 200))
    embed.add_field(
        name="Render time", value=seconds_text(take.seconds) if take.seconds else "cached"
    )
    size = f"{request.get('width', '?')}×{request.get('height', '?')}"
    frames = f"{request.get('frames', '?')} frames @ {request.get('fps', '?')} fps · {size}"
    prompt = " ".join(str(request.get("prompt") or "").split())
    if prompt:
        embed.add_field(name="Prompt", value=f"-# {clip(prompt, 300)}\n-# {frames}", inline=False)
    else:
        embed.add_field(name="Frames", value=frames, inline=False)
    embed.set_footer(text=f"take #{take.id}" + (f" · {note}" if note else ""))
    return mark_approved(embed, True) if card.approved else embed


def mark_approved(embed: discord.Embed, approved: bool) -> discord.Embed:
    """A take card turned to (or back from) its approved state: the title says so in green."""
    title = (embed.title or "").removesuffix(APPROVED_MARK)
    embed.title = clip(title, MAX_TITLE - len(APPROVED_MARK)) + (APPROVED_MARK if approved else "")
    embed.colour = APPROVED_COLOUR if approved else TAKE_COLOUR
    return embed


_RANGE = re.compile(r"^\s*(\d+[A-Za-z]?)\s*(?:-\s*(\d+[A-Za-z]?))?\s*$")


def parse_shots(text: str | None, numbers: Sequence[str]) -> list[str]:
    """'1,3-5' → ['1', '3', '4', '5'] against the shot list's own numbers (which may be '12A')."""
    if not text or not text.strip() or text.strip().lower() == "all":
        return []
    chosen: list[str] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise InvalidValue(f"I can't read “{clip(part.strip(), 40)}” as shots; try “1,3-5”.")
        start, end = match.group(1).upper(), (match.group(2) or match.group(1)).upper()
        if start not in numbers or end not in numbers:
            missing = start if start not in numbers else end
            raise InvalidValue(
                f"There is no shot {missing}; this list has shots {numbers[0]}–{numbers[-1]}."
                if numbers
                else "This list has no shots."
            )
        first, last = numbers.index(start), numbers.index(end)
        if first > last:
            first, last = last, first
        chosen.extend(n for n in numbers[first : last + 1] if n not in chosen)
    return chosen


HELP = """**Slate · your director's assistant**

**Plan**
`/direct brief [style]` plan a shot list from a brief; I open a thread for the film
`/shots` the shot list · `/shot n` one shot · `/style set|show`

**Cast** (the same Mia in every shot)
`/cast add|list` · `/cast image name image` a reference picture, or “@Slate this is Mia” with one
`/cast generate name` portraits to pick from · **Use as reference** under any take

**Revise**
In the film's thread, mention me with a note: “shot 2: slow dolly-in, close-up”
`/revise n instruction` change one shot · `/undo` the last change

**Shoot & review**
`/render [shots] [model] [quality] [camera]` render all, or e.g. `1,3-5` · `/queue`
`quality:draft` fast takes for review · `/finish` the approved drafts at final quality
`camera:previz` the previz drives the move · each take says “asked · measured ✓/✗”
`/reroll n` a new take with a new seed (`mismatched`: every failed move check)
`/approve n [take]` pick the take for the cut · `/cancel [shot|all]` stop renders

**Deliver**
`/cut` the final cut · `/storyboard` contact sheet · `/export [format]` md, csv, json, otio

-# Outside a thread, pass `project`. Anyone may direct and revise; the owner and the crew role \
may also render, approve, cancel, undo, delete (`/delete`), set the style and add to the cast."""
