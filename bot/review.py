"""The review page: one self-contained index.html with the final cut on top and a card per shot."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from studio.models import ShotList

# The player is taller than the picture by the height of the browser's controls, with the picture
# at the top: the controls sit on black below it and never cover the caption burned into the
# bottom of each frame. --h (height / width) comes from the aspect ratio, then from the clip.
_CONTROLS_PX = 72
_STYLE = (
    f":root{{--controls:{_CONTROLS_PX}px}}"
    + """
body{margin:0;font:15px/1.45 system-ui,sans-serif;background:#111;color:#eee}
header{padding:24px 32px;border-bottom:1px solid #333}
h1{margin:0 0 4px;font-size:26px} .meta{color:#aaa}
main{padding:24px 32px} .cut .player{max-width:960px;border-radius:6px;overflow:hidden}
.player{container-type:inline-size;background:#000}
.player video{display:block;width:100%;height:calc(100cqw * var(--h) + var(--controls));
  object-fit:contain;object-position:center top;background:#000}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:18px;margin-top:24px}
.card{background:#1c1c1c;border-radius:8px;overflow:hidden;border:1px solid #2a2a2a}
.card .body{padding:10px 14px} .num{font-weight:700;font-size:18px;margin-right:8px}
.tags span{display:inline-block;background:#2d2d2d;border-radius:4px;padding:1px 6px;margin:2px 4px 2px 0;font-size:12px}
.prompt{color:#999;font-size:12px;margin-top:6px;white-space:pre-wrap}
.check{color:#cbd;font-size:12px;margin-top:4px}
.approved{color:#7bd88f}
"""
)
# Once a clip's size is known, the player takes its exact proportions.
_FIT_SCRIPT = (
    "<script>for(const v of document.querySelectorAll('.player video')){"
    "const fit=()=>{if(v.videoWidth)v.parentElement.style.setProperty('--h',v.videoHeight/v.videoWidth)};"
    "v.addEventListener('loadedmetadata',fit);fit()}</script>"
)


def _height_ratio(aspect_ratio: str) -> float:
    """Height over width for an aspect ratio such as "16:9" or "2.39:1"; 16:9 if unreadable."""
    width, _, height = aspect_ratio.partition(":")
    try:
        ratio = float(height) / float(width)
    except (ValueError, ZeroDivisionError):
        return 9 / 16
    return ratio if 0.1 < ratio < 10 else 9 / 16


@dataclass(frozen=True)
class ShotCard:
    number: str
    clip: str  # relative to the page
    poster: str
    seed: int
    model: str
    seconds: float
    prompt: str
    approved: bool
    notes: tuple[str, ...] = ()  # the move check, the references used


def write_review_page(
    out: Path, shotlist: ShotList, cards: list[ShotCard], film: str, sheet: str
) -> Path:
    """Write `out` (index.html); paths in `cards`, `film` and `sheet` are relative to it."""
    e = html.escape

    def url(path: str) -> str:  # a relative path as an attribute: "#", "?", "%" are not syntax
        return e(quote(path))

    player = f"<div class=player style='--h:{_height_ratio(shotlist.aspect_ratio):.4f}'>"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{e(shotlist.title)} — Slate review</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{e(shotlist.title)}</h1><div class=meta>{e(shotlist.logline)}</div>",
        f"<div class=meta>{len(shotlist.shots)} shots · {shotlist.runtime:g} s · "
        f"style: {e(shotlist.style.name)} · {e(shotlist.aspect_ratio)}</div></header><main>",
        f"<section class=cut><h2>Final cut</h2>{player}<video id=final-cut controls "
        f"preload=auto src='{url(film)}'></video></div>",
        f"<p><a href='{url(sheet)}'>Storyboard contact sheet</a></p></section><div class=grid>",
    ]
    for shot, card in zip(shotlist.shots, cards, strict=True):
        tags = "".join(
            f"<span>{e(t)}</span>"
            for t in (
                shot.scene.slugline,
                shot.size.value,
                shot.angle.value,
                shot.move_label,
                f"{shot.duration:g}s",
                f"seed {card.seed}",
                card.model,
                f"rendered in {card.seconds:.1f}s",
            )
        )
        status = "<span class=approved>✔ approved</span>" if card.approved else ""
        notes = "".join(f"<div class=check>{e(line)}</div>" for line in card.notes)
        dialogue = f"<div>“{e(shot.dialogue)}”</div>" if shot.dialogue else ""
        parts.append(
            f"<article class=card id='shot-{e(shot.number)}'>{player}<video class=shot controls "
            f"preload=auto poster='{url(card.poster)}' src='{url(card.clip)}'></video></div>"
            "<div class=body>"
            f"<span class=num>{e(shot.number)}</span>{e(shot.description)} {status}{dialogue}"
            f"<div class=tags>{tags}</div>{notes}<div class=prompt>{e(card.prompt)}</div></div>"
            "</article>"
        )
    parts.append(f"</div></main>{_FIT_SCRIPT}</body></html>")
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
