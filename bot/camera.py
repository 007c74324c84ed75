"""From a shot to a render request: the one place where studio's film meets render's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import assert_never

from render.animatic import AnimaticRenderer
from render.diffusers import (
    ModelPreset,
    check_request,
    draft_spec_for,
    frames_for_duration,
    request_tier,
    resolve_model,
)
from render.lora import parse_draft_lora
from render.types import (
    CameraAngle,
    CameraControl,
    CameraMotion,
    Daylight,
    ElementKind,
    Framing,
    InvalidRenderRequest,
    MotionDirection,
    MotionKind,
    MotionSpeed,
    Previz,
    ReferenceImage,
    RenderRequest,
    Setting,
    Tier,
)
from studio.models import Shot, ShotList
from studio.prompting import compile_prompt
from studio.vocab import (
    Angle,
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    TimeOfDay,
)
from studio.vocab import ElementKind as StudioElement

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
    camera_control: str = "prompt"  # "prompt" | "previz": the previz drives the move
    control_strength: float = 1.0
    # "draft" (fast: few steps, a distillation LoRA), "final", or "auto": draft when the model
    # has a draft tier, else final. `draft_lora` is SLATE_DRAFT_LORA (empty: the preset's own).
    tier: str = "auto"
    draft_lora: str = ""


def previz_card(shotlist: ShotList, shot: Shot) -> Previz:
    return Previz(
        number=shot.number,
        framing=framing_for(shot.size),
        angle=angle_for(shot.angle),
        motion=motion_for(shot.movement, shot.direction, shot.speed),
        action=shot.description,
        location=shot.scene.location.title(),
        setting=setting_for(shot.scene.int_ext),
        daylight=daylight_for(shot.scene.time_of_day),
        characters=shot.characters,
        look=shotlist.style.palette,
    )


# Studio's vocabulary → render's, one exhaustive `match` per vocabulary: a new studio term is a
# mypy error here until someone decides how the camera shows it.


def framing_for(size: ShotSize) -> Framing:
    match size:
        case ShotSize.EXTREME_WIDE:
            return Framing.EXTREME_WIDE
        case ShotSize.WIDE:
            return Framing.WIDE
        case ShotSize.FULL:
            return Framing.FULL
        case ShotSize.MEDIUM_WIDE:
            return Framing.MEDIUM_WIDE
        case ShotSize.MEDIUM | ShotSize.TWO_SHOT | ShotSize.POV:
            return Framing.MEDIUM
        case ShotSize.MEDIUM_CLOSE_UP | ShotSize.OVER_THE_SHOULDER:
            return Framing.MEDIUM_CLOSE_UP
        case ShotSize.CLOSE_UP:
            return Framing.CLOSE_UP
        case ShotSize.EXTREME_CLOSE_UP:
            return Framing.EXTREME_CLOSE_UP
        case ShotSize.INSERT:
            return Framing.INSERT
        case _ as unreachable:
            assert_never(unreachable)


def angle_for(angle: Angle) -> CameraAngle:
    match angle:
        case Angle.EYE_LEVEL:
            return CameraAngle.EYE_LEVEL
        case Angle.HIGH:
            return CameraAngle.HIGH
        case Angle.LOW:
            return CameraAngle.LOW
        case Angle.OVERHEAD:
            return CameraAngle.OVERHEAD
        case Angle.WORMS_EYE:
            return CameraAngle.WORMS_EYE
        case Angle.DUTCH:
            return CameraAngle.DUTCH
        case _ as unreachable:
            assert_never(unreachable)


def move_for(move: CameraMove) -> tuple[MotionKind, MotionDirection]:
    """The kind of move, and the direction the studio move names itself ("dolly out")."""
    match move:
        case CameraMove.STATIC:
            return MotionKind.STATIC, MotionDirection.NONE
        case CameraMove.PAN:
            return MotionKind.PAN, MotionDirection.NONE
        case CameraMove.WHIP_PAN:
            return MotionKind.WHIP_PAN, MotionDirection.NONE
        case CameraMove.TILT:
            return MotionKind.TILT, MotionDirection.NONE
        case CameraMove.DOLLY_IN:
            return MotionKind.DOLLY, MotionDirection.IN
        case CameraMove.DOLLY_OUT:
            return MotionKind.DOLLY, MotionDirection.OUT
        case CameraMove.TRUCK | CameraMove.FOLLOW:  # following alongside the subject
            return MotionKind.TRUCK, MotionDirection.NONE
        case CameraMove.PEDESTAL:
            return MotionKind.PEDESTAL, MotionDirection.NONE
        case CameraMove.CRANE:
            return MotionKind.CRANE, MotionDirection.NONE
        case CameraMove.ARC:
            return MotionKind.ARC, MotionDirection.NONE
        case CameraMove.ZOOM_IN:
            return MotionKind.ZOOM, MotionDirection.IN
        case CameraMove.ZOOM_OUT:
            return MotionKind.ZOOM, MotionDirection.OUT
        case CameraMove.DOLLY_ZOOM:
            return MotionKind.DOLLY_ZOOM, MotionDirection.NONE
        case CameraMove.HANDHELD:
            return MotionKind.HANDHELD, MotionDirection.NONE
        case CameraMove.STEADICAM:
            return MotionKind.STEADICAM, MotionDirection.NONE
        case _ as unreachable:
            assert_never(unreachable)


def direction_for(direction: MoveDirection) -> MotionDirection:
    match direction:
        case MoveDirection.NONE:
            return MotionDirection.NONE
        case MoveDirection.LEFT:
            return MotionDirection.LEFT
        case MoveDirection.RIGHT:
            return MotionDirection.RIGHT
        case MoveDirection.UP:
            return MotionDirection.UP
        case MoveDirection.DOWN:
            return MotionDirection.DOWN
        case _ as unreachable:
            assert_never(unreachable)


def speed_for(speed: MoveSpeed) -> MotionSpeed:
    match speed:
        case MoveSpeed.SLOW:
            return MotionSpeed.SLOW
        case MoveSpeed.MEDIUM:
            return MotionSpeed.MEDIUM
        case MoveSpeed.FAST:
            return MotionSpeed.FAST
        case _ as unreachable:
            assert_never(unreachable)


def motion_for(move: CameraMove, direction: MoveDirection, speed: MoveSpeed) -> CameraMotion:
    """The camera move for a shot. A direction in the move's name wins ("dolly out" + "left" is a
    dolly out); a direction the move cannot take is dropped ("static" + "left" is static, "pan" +
    "up" a pan in its usual direction)."""
    kind, named = move_for(move)
    asked = direction_for(direction)
    way = named or (asked if asked in kind.directions else MotionDirection.NONE)
    return CameraMotion(kind, way, speed_for(speed))


def daylight_for(time_of_day: TimeOfDay) -> Daylight:
    match time_of_day:
        case TimeOfDay.DAY | TimeOfDay.MORNING | TimeOfDay.CONTINUOUS:
            return Daylight.DAY
        case TimeOfDay.DAWN:
            return Daylight.DAWN
        case TimeOfDay.DUSK | TimeOfDay.EVENING:
            return Daylight.DUSK
        case TimeOfDay.NIGHT:
            return Daylight.NIGHT
        case _ as unreachable:
            assert_never(unreachable)


def setting_for(int_ext: IntExt) -> Setting:
    match int_ext:
        case IntExt.INT | IntExt.INT_EXT:  # a car, a doorway: staged from inside
            return Setting.INTERIOR
        case IntExt.EXT:
            return Setting.EXTERIOR
        case _ as unreachable:
            assert_never(unreachable)


def element_for(kind: StudioElement) -> ElementKind:
    match kind:
        case StudioElement.CHARACTER:
            return ElementKind.CHARACTER
        case StudioElement.LOCATION:
            return ElementKind.LOCATION
        case StudioElement.PROP:
            return ElementKind.PROP
        case _:
            assert_never(kind)


def references_for(shotlist: ShotList, shot: Shot, images: Path) -> tuple[ReferenceImage, ...]:
    """The reference images of what the shot shows (its characters, its location, its props),
    each element's front view first; `images` is the image store's folder."""
    return tuple(
        ReferenceImage(
            path=str(images / reference.sha256[:2] / reference.file_name),
            sha256=reference.sha256,
            kind=element_for(kind),
            name=element.name,
            view=reference.view.value,
        )
        for kind, element in shotlist.elements_in(shot)
        for reference in element.references
    )


def request_for(
    shotlist: ShotList,
    shot: Shot,
    defaults: RenderDefaults,
    *,
    seed: int | None = None,
    images: Path | None = None,
    first_frame: ReferenceImage | None = None,
) -> RenderRequest:
    """The render request for one shot; `seed` overrides the shot's own (rerolls). With the
    image store's folder (`images`) the request carries the references of what the shot shows;
    `first_frame` starts it from a still (a continued shot's previous last frame).
    Raises `InvalidRenderRequest` when the model could not render it (size, frame rules)."""
    prompt = compile_prompt(shotlist, shot)
    base = RenderRequest(
        prompt=prompt.prompt,
        negative_prompt=prompt.negative_prompt,
        seed=shot.seed if seed is None else seed,
        previz=previz_card(shotlist, shot),
        references=references_for(shotlist, shot, images) if images is not None else (),
        first_frame=first_frame,
    )
    if defaults.camera_control != "prompt":  # prompt-only requests keep their clip cache key
        base = replace(
            base,
            camera_control=CameraControl(defaults.camera_control),
            control_strength=defaults.control_strength,
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
        if defaults.tier == Tier.DRAFT:  # previz has no faster tier; the take is labelled so
            request = replace(request, tier=Tier.DRAFT)
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
        request = _tiered(request, preset, defaults)
    return request


def _tiered(request: RenderRequest, preset: ModelPreset, defaults: RenderDefaults) -> RenderRequest:
    """The request at the tier asked for: a draft takes the model's draft steps, guidance, size
    and LoRA. "auto" drafts when the crew configured a draft LoRA (SLATE_DRAFT_LORA): a preset's
    own draft LoRA may carry a licence they must accept first, so it is never a silent default."""
    override = parse_draft_lora(defaults.draft_lora)
    draft = draft_spec_for(preset, override)
    if defaults.tier == "auto":
        wanted = Tier.DRAFT if draft is not None and override not in (None, "off") else Tier.FINAL
    else:
        wanted = Tier(defaults.tier)
    if wanted is Tier.FINAL:
        return request
    if draft is None:
        raise InvalidRenderRequest(
            f"{defaults.model} has no draft tier: set SLATE_DRAFT_LORA to a step-distillation "
            "LoRA for it, or render final."
        )
    drafted = request_tier(request, preset, Tier.DRAFT, draft)
    check_request(drafted, preset)
    return drafted
