"""The review page: one self-contained index.html with the final cut on top and a card per shot."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from studio.models import ShotList

_STYLE = """
body{margin:0;font:15px/1.45 system-ui,sans-serif;background:#111;color:#eee}
header{padding:24px 32px;border-bottom:1px solid #333}
h1{margin:0 0 4px;font-size:26px} .meta{color:#aaa}
main{padding:24px 32px} .cut video{width:100%;max-width:960px;background:#000;border-radius:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:18px;margin-top:24px}
.card{background:#1c1c1c;border-radius:8px;overflow:hidden;border:1px solid #2a2a2a}
.card video{width:100%;display:block;background:#000}
.card .body{padding:10px 14px} .num{font-weight:700;font-size:18px;margin-right:8px}
.tags span{display:inline-block;background:#2d2d2d;border-radius:4px;padding:1px 6px;margin:2px 4px 2px 0;font-size:12px}
.prompt{color:#999;font-size:12px;margin-top:6px;white-space:pre-wrap}
.approved{color:#7bd88f}
"""


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


def write_review_page(
    out: Path, shotlist: ShotList, cards: list[ShotCard], film: str, sheet: str
) -> Path:
    """Write `out` (index.html); paths in `cards`, `film` and `sheet` are relative to it."""
    e = html.escape

    def url(path: str) -> str:  # a relative path as an attribute: "#", "?", "%" are not syntax
        return e(quote(path))

    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{e(shotlist.title)} — Slate review</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{e(shotlist.title)}</h1><div class=meta>{e(shotlist.logline)}</div>",
        f"<div class=meta>{len(shotlist.shots)} shots · {shotlist.runtime:g} s · "
        f"style: {e(shotlist.style.name)} · {e(shotlist.aspect_ratio)}</div></header><main>",
        f"<section class=cut><h2>Final cut</h2><video id=final-cut controls preload=auto "
        f"src='{url(film)}'></video>",
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
        dialogue = f"<div>“{e(shot.dialogue)}”</div>" if shot.dialogue else ""
        parts.append(
            f"<article class=card id='shot-{e(shot.number)}'><video class=shot controls preload=auto "
            f"poster='{url(card.poster)}' src='{url(card.clip)}'></video><div class=body>"
            f"<span class=num>{e(shot.number)}</span>{e(shot.description)} {status}{dialogue}"
            f"<div class=tags>{tags}</div><div class=prompt>{e(card.prompt)}</div></div></article>"
        )
    parts.append("</div></main></body></html>")
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
