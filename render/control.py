"""The previz as a control video: the animatic's staging and camera move, for models that follow one.

`WanVACEPipeline` takes a control video (`video=`), a mask saying where to generate (`mask=`: white
generates, black keeps) and how strongly to follow the video (`conditioning_scale=`). With
`camera_control=previz` Slate hands it the shot's staging pass (render.animatic.staging_pass): the
same set, figures and camera path the crew approved in the animatic, as depth-style layers or a grey
layout, so the render's composition and move follow the previz instead of a prompt's wish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from render.animatic import staging_pass
from render.types import CameraControl, InvalidRenderRequest, RenderRequest

if TYPE_CHECKING:
    from PIL import Image

ControlKind = Literal["depth", "layout"]
# VACE's conditioning_scale: 0 ignores the control video, 1 is as trained; past 2 it overcooks.
MAX_CONTROL_STRENGTH = 2.0


def control_strength_error(request: RenderRequest) -> str | None:
    """One sentence when the request's control strength is out of range, else None."""
    strength = request.control_strength
    if not 0.0 <= strength <= MAX_CONTROL_STRENGTH:  # also catches NaN
        return f"Control strength must be between 0 and {MAX_CONTROL_STRENGTH:g}; got {strength}."
    return None


def control_video(request: RenderRequest, kind: ControlKind = "depth") -> list[Image.Image]:
    """The shot's staging pass as RGB frames at the request's size, one per frame (VACE `video=`).

    Raises `InvalidRenderRequest` for sizes or lengths the animatic cannot stage."""
    from PIL import Image

    if kind not in ("depth", "layout"):
        raise InvalidRenderRequest(f"A control video is 'depth' or 'layout', not {kind!r}.")
    return [Image.fromarray(frame, "L").convert("RGB") for frame in staging_pass(request, kind)]


def previz_control(
    request: RenderRequest, kind: ControlKind = "depth", first_frame: Image.Image | None = None
) -> dict[str, Any]:
    """VACE's arguments for a previz-driven render: the control video, a mask that generates
    everywhere, and the strength. With a `first_frame`, frame one is that still, kept (black
    mask), and the previz drives the rest."""
    from PIL import Image

    video = control_video(request, kind)
    size = (request.width, request.height)
    generate = Image.new("RGB", size, (255, 255, 255))
    mask = [generate] * len(video)
    if first_frame is not None:
        video[0] = first_frame.convert("RGB").resize(size)
        mask[0] = Image.new("RGB", size, (0, 0, 0))
    return {"video": video, "mask": mask, "conditioning_scale": request.control_strength}


def describe_camera_control(
    request: RenderRequest, takes_control_video: bool, kind: ControlKind = "depth"
) -> str:
    """The take card's line on how the move was given: "prompt", "previz (depth, strength 0.8)",
    or why a previz ask fell back to the prompt."""
    if request.camera_control is CameraControl.PROMPT:
        return "prompt"
    if not takes_control_video:
        return "prompt only: this model takes no control video"
    return f"previz ({kind}, strength {request.control_strength:g})"
