from __future__ import annotations

import pytest

from studio.edits import (
    SetLocation,
    SetProp,
    SetStyle,
    ShotChanges,
    UpdateShot,
    apply_edit,
    apply_edits,
)
from studio.models import Shot, ShotList
from studio.prompting import compile_prompt, framing_phrase
from studio.styles import style_preset
from tests.studio.conftest import make_shotlist


def cast_shotlist() -> ShotList:
    base = make_shotlist(4)
    shots = list(base.shots)
    shots[1] = shots[1].model_copy(update={"characters": ("Mara", "Theo")})
    shots[2] = shots[2].model_copy(update={"characters": ("theo",)})
    shots[3] = shots[3].model_copy(update={"characters": ()})
    return base.model_copy(
        update={
            "characters": (
                *base.characters,
                base.characters[0].model_copy(
                    update={"name": "Theo", "description": "an old porter with a grey moustache"}
                ),
            ),
            "shots": tuple(shots),
        }
    )


def test_compile_is_deterministic() -> None:
    shotlist = cast_shotlist()
    for shot in shotlist.shots:
        first = compile_prompt(shotlist, shot)
        assert compile_prompt(shotlist, shot) == first
        assert compile_prompt(shotlist.model_copy(), shot.model_copy()) == first


def test_character_description_is_verbatim_wherever_they_appear() -> None:
    shotlist = cast_shotlist()
    mara = "a tired nurse in teal scrubs"
    theo = "an old porter with a grey moustache"
    for shot in shotlist.shots:
        prompt = compile_prompt(shotlist, shot).prompt
        names = {n.lower() for n in shot.characters}
        assert (mara in prompt) == ("mara" in names)
        assert (theo in prompt) == ("theo" in names)
    # The bible's spelling of the name is used even when the shot spells it differently.
    assert (
        "Theo: an old porter with a grey moustache."
        in compile_prompt(shotlist, shotlist.shots[2]).prompt
    )


def test_character_missing_from_the_bible_is_named() -> None:
    shotlist = make_shotlist(1)
    shot = shotlist.shots[0].model_copy(update={"characters": ("Stranger",)})
    assert "Stranger." in compile_prompt(shotlist, shot).prompt


def test_style_and_location_appear() -> None:
    shotlist = apply_edit(make_shotlist(2), SetStyle(preset="noir"))
    noir = style_preset("noir")
    prompt = compile_prompt(shotlist, shotlist.shots[0]).prompt
    for part in (noir.description, noir.palette, noir.lighting, noir.camera):
        assert part in prompt
    assert "interior, a cramped hospital break room, night" in prompt
    assert prompt.startswith("Medium shot, framed from the waist up")
    assert "action 1." in prompt


def test_unknown_location_falls_back_to_its_name() -> None:
    shotlist = make_shotlist(1)
    shot = shotlist.shots[0].model_copy(
        update={"scene": shotlist.shots[0].scene.model_copy(update={"location": "ROOFTOP"})}
    )
    assert "Setting: interior, rooftop, night." in compile_prompt(shotlist, shot).prompt


def test_dialogue_is_quoted_and_empty_lines_dropped() -> None:
    shotlist = make_shotlist(1)
    shot = shotlist.shots[0].model_copy(update={"dialogue": "Not tonight.", "characters": ()})
    prompt = compile_prompt(shotlist, shot).prompt
    assert 'They say: "Not tonight."' in prompt
    assert all(line.strip() for line in prompt.splitlines())


def test_negative_prompt_includes_style_negative() -> None:
    shotlist = make_shotlist(1)
    negative = compile_prompt(shotlist, shotlist.shots[0]).negative_prompt
    assert negative.startswith("cartoon, ")
    assert "watermark" in negative
    noir = apply_edit(shotlist, SetStyle(preset="noir"))
    assert style_preset("noir").negative in compile_prompt(noir, noir.shots[0]).negative_prompt


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "medium shot, framed from the waist up, locked-off static camera"),
        (
            {"size": "CU", "angle": "low"},
            "close-up on the face, low angle looking up, locked-off static camera",
        ),
        (
            {"movement": "pan", "direction": "left"},
            "medium shot, framed from the waist up, camera pans left",
        ),
        (
            {"movement": "push in", "speed": "slow", "lens_mm": 85},
            "medium shot, framed from the waist up, camera dollies in, slow, 85mm lens",
        ),
        (
            {
                "size": "EWS",
                "angle": "bird's eye",
                "movement": "crane",
                "direction": "up",
                "speed": "fast",
            },
            "extreme wide establishing shot, overhead bird's-eye view, sweeping crane move up, fast",
        ),
        # A static camera ignores direction and speed.
        (
            {"movement": "static", "direction": "left", "speed": "fast"},
            "medium shot, framed from the waist up, locked-off static camera",
        ),
    ],
)
def test_framing_phrase(fields: dict[str, object], expected: str) -> None:
    assert framing_phrase(Shot(description="x", **fields)) == expected  # type: ignore[arg-type]


def test_framing_leads_the_prompt() -> None:
    shotlist = make_shotlist(1)
    shot = shotlist.shots[0].model_copy(update={"lens_mm": 24})
    prompt = compile_prompt(shotlist, shot).prompt
    assert prompt.splitlines()[0].startswith(
        "Medium shot, framed from the waist up, locked-off static camera, 24mm lens. action 1."
    )


def test_props_are_described_in_the_shots_that_show_them() -> None:
    shotlist = apply_edits(
        make_shotlist(3),
        [
            SetProp(name="the letter", description="a yellowed envelope sealed with red wax."),
            UpdateShot(shot="2", changes=ShotChanges(props=["The Letter", "a kettle"])),
        ],
    )
    prompts = [compile_prompt(shotlist, shot).prompt for shot in shotlist.shots]
    described = "the letter: a yellowed envelope sealed with red wax."
    assert [described in prompt for prompt in prompts] == [False, True, False]
    assert "a kettle." in prompts[1]  # named in the shot, not described yet


def test_each_shot_takes_its_own_locations_description() -> None:
    shotlist = apply_edits(
        make_shotlist(2),
        [
            SetLocation(name="pier", description="a rotting wooden pier in fog"),
            UpdateShot(shot="2", changes=ShotChanges(location="Pier", int_ext="EXT")),
        ],
    )
    first, second = (compile_prompt(shotlist, shot).prompt for shot in shotlist.shots)
    assert "a cramped hospital break room" in first and "pier" not in first
    assert "Setting: exterior, a rotting wooden pier in fog, night." in second
    assert second.count("a rotting wooden pier in fog") == 1
