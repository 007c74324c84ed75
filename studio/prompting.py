"""The prompt compiler: shot + scene + bibles + style → the text a video model renders.

Deterministic by construction, so a character is described with the same words in every shot
they appear in — the cheapest consistency tool a text-to-video model offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from studio.models import Shot, ShotList
from studio.styles import PROMPTS_DIR
from studio.vocab import Angle, CameraMove, IntExt, ShotSize

_SIZE_PHRASES = {
    ShotSize.EXTREME_WIDE: "extreme wide establishing shot",
    ShotSize.WIDE: "wide shot",
    ShotSize.FULL: "full shot, head to toe",
    ShotSize.MEDIUM_WIDE: "medium wide shot, framed from the knees up",
    ShotSize.MEDIUM: "medium shot, framed from the waist up",
    ShotSize.MEDIUM_CLOSE_UP: "medium close-up, framed from the chest up",
    ShotSize.CLOSE_UP: "close-up on the face",
    ShotSize.EXTREME_CLOSE_UP: "extreme close-up, macro detail",
    ShotSize.INSERT: "insert shot, close detail of an object",
    ShotSize.TWO_SHOT: "two-shot, both characters in frame",
    ShotSize.OVER_THE_SHOULDER: "over-the-shoulder shot",
    ShotSize.POV: "point-of-view shot",
}

_ANGLE_PHRASES = {
    Angle.EYE_LEVEL: "",
    Angle.HIGH: "high angle looking down",
    Angle.LOW: "low angle looking up",
    Angle.OVERHEAD: "overhead bird's-eye view",
    Angle.WORMS_EYE: "worm's-eye view from the ground",
    Angle.DUTCH: "dutch angle, tilted horizon",
}

_MOVE_PHRASES = {
    CameraMove.STATIC: "locked-off static camera",
    CameraMove.PAN: "camera pans",
    CameraMove.TILT: "camera tilts",
    CameraMove.DOLLY_IN: "camera dollies in",
    CameraMove.DOLLY_OUT: "camera dollies out",
    CameraMove.TRUCK: "camera trucks sideways",
    CameraMove.PEDESTAL: "camera rises on a pedestal",
    CameraMove.CRANE: "sweeping crane move",
    CameraMove.ARC: "camera arcs around the subject",
    CameraMove.ZOOM_IN: "lens zooms in",
    CameraMove.ZOOM_OUT: "lens zooms out",
    CameraMove.DOLLY_ZOOM: "dolly zoom, vertigo effect",
    CameraMove.HANDHELD: "handheld camera",
    CameraMove.STEADICAM: "smooth steadicam glide",
    CameraMove.FOLLOW: "camera follows the subject",
    CameraMove.WHIP_PAN: "fast whip pan",
}


@dataclass(frozen=True)
class RenderPrompt:
    prompt: str
    negative_prompt: str


@cache
def _template(name: str) -> str:
    return (PROMPTS_DIR / name).read_text(encoding="utf-8").strip()


def framing_phrase(shot: Shot) -> str:
    move = _MOVE_PHRASES[shot.movement]
    if shot.movement is not CameraMove.STATIC:
        if shot.direction.value:
            move = f"{move} {shot.direction.value}"
        if shot.speed.value != "medium":
            move = f"{move}, {shot.speed.value}"
    parts = [_SIZE_PHRASES[shot.size], _ANGLE_PHRASES[shot.angle], move]
    if shot.lens_mm:
        parts.append(f"{shot.lens_mm}mm lens")
    return ", ".join(p for p in parts if p)


def compile_prompt(shotlist: ShotList, shot: Shot) -> RenderPrompt:
    """The render prompt and negative prompt for one shot of one version: its characters' and
    props' bible descriptions, its location's description (else the location's name)."""
    cast_lines = []
    for name in shot.characters:
        character = shotlist.character(name)
        if character is not None and character.description:
            cast_lines.append(f"{character.name}: {character.description}.")
        else:
            cast_lines.append(f"{name}.")
    for name in shot.props:  # the props it shows, described like the cast
        prop = shotlist.prop(name)
        if prop is not None and prop.description:
            cast_lines.append(f"{prop.name}: {prop.description.rstrip('.')}.")
        else:
            cast_lines.append(f"{name}.")
    scene = shot.scene
    location = shotlist.location(scene.location)
    place = location.description if location and location.description else scene.location.lower()
    inside = {IntExt.INT: "interior", IntExt.EXT: "exterior", IntExt.INT_EXT: "interior/exterior"}
    setting = f"{inside[scene.int_ext]}, {place}, {scene.time_of_day.value.lower()}"
    style = shotlist.style
    look = ", ".join(
        p for p in (style.description, style.palette, style.lighting, style.camera) if p
    )
    dialogue = f' They say: "{shot.dialogue}"' if shot.dialogue else ""
    prompt = _template("shot_prompt.txt").format(
        framing=framing_phrase(shot)[:1].upper() + framing_phrase(shot)[1:],
        action=shot.description.rstrip(".") + ".",
        dialogue=dialogue,
        cast=" ".join(cast_lines),
        setting=setting,
        look=look or "cinematic",
    )
    prompt = "\n".join(line for line in prompt.splitlines() if line.strip())
    negative = ", ".join(p for p in (style.negative, _template("negative_prompt.txt")) if p)
    return RenderPrompt(prompt=prompt, negative_prompt=negative)
