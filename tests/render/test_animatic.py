from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from render.animatic import AnimaticRenderer, camera_path
from render.types import (
    CameraMotion,
    CancelToken,
    Daylight,
    Framing,
    InvalidRenderRequest,
    MotionDirection,
    MotionKind,
    MotionSpeed,
    Previz,
    RenderCancelled,
    RenderProgress,
    RenderRequest,
    Setting,
)

LEFT, RIGHT, UP = MotionDirection.LEFT, MotionDirection.RIGHT, MotionDirection.UP

W, H = 192, 112


def _request(**previz: object) -> RenderRequest:
    card = Previz(
        number="12A",
        framing=Framing.MEDIUM,
        action="Mara slides the envelope across the table.",
        location="Diner on Route 9",
        setting=Setting.INTERIOR,
        daylight=Daylight.NIGHT,
        characters=("Mara", "Joe"),
    )
    return RenderRequest(
        prompt="a diner",
        width=W,
        height=H,
        frames=17,
        fps=16,
        previz=dataclasses.replace(card, **previz),
    )


def _picture(frames: np.ndarray) -> np.ndarray:
    """Frames without the caption band (the band never moves)."""
    band = _band_height(frames)
    return frames[:, : H - band].astype(np.float32)


def _band_height(frames: np.ndarray) -> int:
    # The caption band is the bottom block identical in every frame of a moving shot.
    same_rows = np.all(frames == frames[:1], axis=(0, 2, 3))
    return int(np.argmin(same_rows[::-1])) if not same_rows.all() else 0


def _shift(a: np.ndarray, b: np.ndarray, axis: int, max_shift: int = 40) -> int:
    """Whole-pixel shift s minimising |a[x + s] - b[x]| along `axis` (positive: content moved to lower x)."""
    best, best_err = 0, np.inf
    n = a.shape[axis]
    for s in range(-max_shift, max_shift + 1):
        lo, hi = max(0, -s), min(n, n - s)
        err = np.abs(
            np.take(a, range(lo + s, hi + s), axis) - np.take(b, range(lo, hi), axis)
        ).mean()
        if err < best_err:
            best, best_err = s, err
    return best


def test_deterministic() -> None:
    renderer = AnimaticRenderer()
    handheld = CameraMotion(MotionKind.HANDHELD)
    first = renderer.render(_request(motion=handheld)).frames
    again = AnimaticRenderer().render(_request(motion=handheld)).frames
    assert first.shape == (17, H, W, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)


def test_location_and_time_change_the_set() -> None:
    renderer = AnimaticRenderer()
    diner = renderer.render(_request(characters=())).frames[0]
    beach = renderer.render(
        _request(characters=(), location="Beach", setting=Setting.EXTERIOR)
    ).frames[0]
    day = renderer.render(_request(characters=(), daylight=Daylight.DAY)).frames[0]
    assert not np.array_equal(diner, beach)
    assert day[:40].mean() > diner[:40].mean() + 10  # day is brighter than night


def test_static_frames_identical() -> None:
    frames = AnimaticRenderer().render(_request(motion=CameraMotion())).frames
    assert all(np.array_equal(frames[0], f) for f in frames[1:])


def test_pan_shifts_horizontally() -> None:
    pan = CameraMotion(MotionKind.PAN, RIGHT)
    right = _picture(AnimaticRenderer().render(_request(motion=pan)).frames)
    left = _picture(
        AnimaticRenderer().render(_request(motion=dataclasses.replace(pan, direction=LEFT))).frames
    )
    # Panning right, the set slides left in frame: content at x + s in frame 0 sits at x later.
    assert _shift(right[0], right[-1], axis=1) > 10
    assert _shift(left[0], left[-1], axis=1) < -10
    assert _shift(right[0], right[-1], axis=0, max_shift=5) == 0


def test_tilt_shifts_vertically() -> None:
    tilt = CameraMotion(MotionKind.TILT, UP, MotionSpeed.FAST)
    frames = AnimaticRenderer().render(_request(motion=tilt)).frames
    picture = _picture(frames)
    assert _shift(picture[0], picture[-1], axis=0) < -5  # tilting up, the set slides down
    assert _shift(picture[0], picture[-1], axis=1, max_shift=5) == 0


def test_dolly_in_grows_scale_and_speed_scales_it() -> None:
    def render(speed: MotionSpeed) -> np.ndarray:
        dolly = CameraMotion(MotionKind.DOLLY, MotionDirection.IN, speed)
        request = _request(motion=dolly, characters=("Mara",))
        return _picture(AnimaticRenderer().render(request).frames)

    def scale_error(first: np.ndarray, last: np.ndarray, scale: float) -> float:
        # How well `last` matches the centre of `first` enlarged by `scale`.
        h, w = first.shape[:2]
        box = (
            w / 2 * (1 - 1 / scale),
            h / 2 * (1 - 1 / scale),
            w / 2 * (1 + 1 / scale),
            h / 2 * (1 + 1 / scale),
        )
        image = Image.fromarray(first.astype(np.uint8))
        enlarged = np.asarray(image.resize((w, h), Image.Resampling.BILINEAR, box=box), np.float32)
        return float(np.abs(enlarged - last).mean())

    slow, fast = render(MotionSpeed.SLOW), render(MotionSpeed.FAST)
    errors = {s: scale_error(fast[0], fast[-1], s) for s in (1.0, 1.2, 1.5, 1.7, 2.0)}
    assert min(errors, key=errors.__getitem__) == 1.7  # fast dolly: 1 + 0.35 * 2 = 1.7x
    slow_errors = {s: scale_error(slow[0], slow[-1], s) for s in (1.0, 1.175, 1.5)}
    assert min(slow_errors, key=slow_errors.__getitem__) == 1.175
    path = camera_path(Previz(motion=CameraMotion(MotionKind.DOLLY, MotionDirection.IN)), 17, 0)
    assert path.zoom[0] == 1.0 and np.all(np.diff(path.zoom) <= 0)


def test_camera_path_reports_the_move_with_its_direction() -> None:
    def kind(kind: MotionKind, direction: MotionDirection = MotionDirection.NONE) -> str:
        return camera_path(Previz(motion=CameraMotion(kind, direction)), 9, 0).motion.label

    assert kind(MotionKind.DOLLY, MotionDirection.OUT) == "dolly out"
    assert kind(MotionKind.DOLLY) == "dolly in"  # a move's usual direction when none is given
    assert kind(MotionKind.ZOOM, MotionDirection.OUT) == "zoom out"
    assert kind(MotionKind.TRUCK, LEFT) == "truck left"
    assert kind(MotionKind.PEDESTAL, UP) == "pedestal up"
    assert kind(MotionKind.CRANE) == "crane up"
    assert kind(MotionKind.ARC) == "arc right"
    assert kind(MotionKind.HANDHELD) == "handheld"
    assert kind(MotionKind.STATIC) == "static"


def test_result_names_framing_and_move() -> None:
    fast_out = CameraMotion(MotionKind.DOLLY, MotionDirection.OUT, MotionSpeed.FAST)
    result = AnimaticRenderer().render(_request(framing=Framing.CLOSE_UP, motion=fast_out))
    assert result.info["size"] == "close-up" and result.info["move"] == "dolly out"


def test_shot_size_sets_figure_scale() -> None:
    def figure_pixels(framing: Framing) -> int:
        plain = AnimaticRenderer().render(_request(framing=framing, characters=())).frames[0]
        with_figure = (
            AnimaticRenderer().render(_request(framing=framing, characters=("Mara",))).frames[0]
        )
        return int(np.any(plain != with_figure, axis=2).sum())

    sizes = [Framing.EXTREME_WIDE, Framing.WIDE, Framing.FULL, Framing.MEDIUM, Framing.CLOSE_UP]
    pixels = [figure_pixels(s) for s in sizes]
    assert pixels == sorted(pixels) and pixels[0] < pixels[-1] / 8


def test_caption_band_shows_shot_number() -> None:
    a = AnimaticRenderer().render(_request(number="12A")).frames[0]
    b = AnimaticRenderer().render(_request(number="13")).frames[0]
    differing_rows = np.flatnonzero(np.any(a != b, axis=(1, 2)))
    assert differing_rows.size and differing_rows.min() > H * 0.7  # only the band differs
    band = a[int(H * 0.85) :]
    assert band.mean() < 80 and band.max() > 200  # dark band with bright text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 191}, "even"),
        ({"height": 32}, "at least"),
        ({"frames": 0}, "at least one frame"),
        ({"frames": 16 * 31}, "limited to 30"),
    ],
)
def test_check_inputs(changes: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidRenderRequest, match=message):
        AnimaticRenderer().render(dataclasses.replace(_request(), **changes))


def test_single_frame() -> None:
    dolly = CameraMotion(MotionKind.DOLLY, MotionDirection.IN)
    result = AnimaticRenderer().render(dataclasses.replace(_request(motion=dolly), frames=1))
    assert result.frames.shape[0] == 1


def test_progress_per_chunk() -> None:
    updates: list[RenderProgress] = []
    AnimaticRenderer().render(_request(), progress=updates.append)
    assert [u.step for u in updates] == [1, 2, 3]  # 17 frames in chunks of 8
    assert {u.total for u in updates} == {3}
    assert updates[0].preview is not None and updates[0].preview.size == (W, H)


def test_cancel_between_chunks() -> None:
    token = CancelToken()
    steps: list[int] = []

    def on_progress(update: RenderProgress) -> None:
        steps.append(update.step)
        token.cancel()

    with pytest.raises(RenderCancelled):
        AnimaticRenderer().render(_request(), progress=on_progress, cancel=token)
    assert steps == [1]


def test_style_look_grades_the_set() -> None:
    base = RenderRequest(
        prompt="x",
        width=160,
        height=96,
        frames=2,
        fps=8,
        previz=Previz(location="Alley", setting=Setting.EXTERIOR, daylight=Daylight.DAY),
    )
    plain = AnimaticRenderer().render(base).frames[0, :60].astype(int)
    noir = (
        AnimaticRenderer()
        .render(
            dataclasses.replace(
                base, previz=dataclasses.replace(base.previz, look="monochrome black and white")
            )
        )
        .frames[0, :60]
        .astype(int)
    )
    assert np.abs(plain[..., 0] - plain[..., 2]).mean() > 5  # a colour picture...
    assert np.abs(noir[..., 0] - noir[..., 2]).max() == 0  # ...graded to black and white
