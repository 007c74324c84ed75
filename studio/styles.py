"""Style presets, kept as data in prompts/styles.toml."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from studio.errors import InvalidValue
from studio.models import StyleBible

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def _presets() -> dict[str, tuple[StyleBible, tuple[str, ...]]]:
    data = tomllib.loads((PROMPTS_DIR / "styles.toml").read_text(encoding="utf-8"))
    presets = {}
    for name, table in data.items():
        aliases = tuple(a.lower() for a in table.pop("aliases", ()))
        presets[name] = (StyleBible(name=name, **table), aliases)
    return presets


def style_names() -> list[str]:
    return list(_presets())


def find_style(text: str) -> str | None:
    """The preset a phrase names ("noir", "Film Noir", "make it cyberpunk"), if any."""
    key = text.strip().lower()
    for name, (_, aliases) in _presets().items():
        if key == name or key in aliases:
            return name
    return None


def style_preset(name: str) -> StyleBible:
    found = find_style(name)
    if found is None:
        raise InvalidValue(f"I don't know the style '{name}'. Presets: {', '.join(style_names())}.")
    return _presets()[found][0]
