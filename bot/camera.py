"""From a shot to a render request: the one place where studio's film meets render's plain shapes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from render.animatic import AnimaticRenderer
from render.diffusers import check_request, frames_for_duration, resolve_model
from render.types import Previz, RenderRequest
from studio.models import Shot, ShotList
from studio.prompting import compile_prompt

ANIMATIC = "animatic"

# Animatic frame sizes per aspect ratio: Wan-like 480p, even dimensions.
# fmt: off
_ANIMATIC_SIZES = {
    "16:9": (832, 480), "9:16": (480, 832), "1:1": (512, 512), "4:3": (640, 480),
    "2.39:1": (960, 400), "1.85:1": (880, 480),
}
# fmt: on


@dataclass(frozen=True)
class RenderDefaults:
    model: str = ANIMATIC  # "animatic", a diffusers preset, hub id or folder
    width: int | None = None  # None: the model's (or aspect ratio's) default
    height: int | None = None
    steps: int | None = None


def previz_card(shotlist: ShotList, shot: Shot) -> Previz:
    return Previz(
        number=shot.number,
        size=shot.size.value,
        angle=shot.angle.value,
        movement=shot.movement.value,
        direction=shot.direction.value,
        speed=shot.speed.value,
        action=shot.description,
        location=shot.scene.location.title(),
        int_ext=shot.scene.int_ext.value,
        time_of_day=shot.scene.time_of_day.value,
        characters=shot.characters,
        look=shotlist.style.palette,
    )


def request_for(
    shotlist: ShotList, shot: Shot, defaults: RenderDefaults, *, seed: int | None = None
) -> RenderRequest:
    """The render request for one shot; `seed` overrides the shot's own (rerolls).
    Raises `InvalidRenderRequest` when the model could not render it (size, frame rules)."""
    prompt = compile_prompt(shotlist, shot)
    base = RenderRequest(
        prompt=prompt.prompt,
        negative_prompt=prompt.negative_prompt,
        seed=shot.seed if seed is None else seed,
        previz=previz_card(shotlist, shot),
    )
    if defaults.model == ANIMATIC:
        width, height = _ANIMATIC_SIZES.get(shotlist.aspect_ratio, (832, 480))
        fps = shotlist.fps
        request = replace(
            base,
            width=defaults.width or width,
            height=defaults.height or height,
            frames=max(1, round(shot.duration * fps)),
            fps=fps,
            steps=1,
            guidance=0.0,
            model=ANIMATIC,
        )
        AnimaticRenderer.check_inputs(request)
    else:
        _, preset = resolve_model(defaults.model)
        width, height = preset.width, preset.height
        if shotlist.aspect_ratio == "9:16":
            width, height = height, width
        request = replace(
            base,
            width=defaults.width or width,
            height=defaults.height or height,
            frames=frames_for_duration(shot.duration, preset.fps, preset),
            fps=preset.fps,
            steps=defaults.steps or preset.steps,
            guidance=preset.guidance,
            model=defaults.model,
        )
        check_request(request, preset)
    return request
