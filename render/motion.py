"""Every take's camera move, measured on its frames.

A few frame pairs spread over the take are shrunk to grey thumbnails; dense optical flow
(OpenCV's Farneback, seeded with a phase-correlation shift so whip pans do not lose it) is
sampled on the textured points of each pair, and a similarity transform (scale, rotation,
translation) is fitted to it with RANSAC, so a figure walking through the frame does not read as
a camera move. The pair transforms, chained, give the move from the first frame to the last; the
path between them gives the shake. Whichever of scale, sideways travel, vertical travel and roll
moved the picture most names the move.

Frames tell the picture's motion, not the camera's: a pan and a truck, a dolly and a zoom, a tilt,
a crane and a pedestal look alike on a flat set (and nearly alike on most real ones), so
`MeasuredMotion.matches` compares families of moves, not their names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from render.types import CameraMotion, MotionDirection, MotionKind

if TYPE_CHECKING:
    from render.types import RenderResult

MotionAxis = Literal["none", "scale", "horizontal", "vertical", "rotation", "jitter"]

# Below this much travel over the whole take (in frame fractions, see `_amounts`) the camera
# stood still: a locked-off take measures ~0.001; a slow handheld take wanders ~0.01.
STATIC_LIMIT = 0.006
# Shake: path travelled beyond the net move, in frame fractions. A locked-off take has ~0.
JITTER_LIMIT = 0.004
# Net travel below this that is not static is a wander (handheld), not a move: the slowest
# studio moves go ten times as far.
DRIFT_LIMIT = 0.03
# A take whose shake is at least this share of its net move is handheld, whatever else it does.
SHAKE_SHARE = 0.5

MAX_PAIRS = 10  # frame pairs measured per take
_THUMB_SIDE = 240  # long side of the grey thumbnails the flow runs on
_GRID_STEP = 4  # px between sampled flow points on the thumbnail
_MARGIN = 0.06  # border left out of the fit (new content enters there)
_MIN_POINTS = 12
_MIN_INLIERS = 0.3
_FAR = 0.2  # a pair whose picture shifts more than this share of the frame is split...
_MAX_SPLITS = 3  # ...at most this deep, when frames lie between
_TRUSTED = 0.8  # below this share of inliers a pair is split too; unsplit and far, it is dropped
_MAX_FLOWS = 3 * MAX_PAIRS  # flow computations per take, splits included: the cost stays bounded


@dataclass(frozen=True)
class MeasuredMotion:
    """The move found in a take, in the camera's terms.

    `scale`: how much the picture grew from the first frame to the last (>1: the camera moved in).
    `horizontal`: camera travel across, in frame widths (+ right; the picture slid left).
    `vertical`: camera travel, in frame heights (+ up; the picture slid down).
    `roll`: camera roll in degrees (+ clockwise, i.e. to the right; the picture turned the other way).
    `jitter`: path travelled beyond the net move, in frame fractions (shake).
    `axis` is what moved the picture most, and `kind`/`direction` its name in render's
    vocabulary: scale → dolly, sideways → pan, vertical → tilt, roll → arc (the vocabulary has no
    roll), jitter → handheld, nothing → static. `confidence` (0..1) drops when the flow fits
    poorly or two components are close.
    """

    kind: MotionKind
    direction: MotionDirection
    axis: MotionAxis
    scale: float
    horizontal: float
    vertical: float
    roll: float
    jitter: float
    confidence: float
    seconds: float  # how long the measured stretch of the take lasts
    pairs: int  # frame pairs measured

    @property
    def label(self) -> str:
        """How a take card writes it: "dolly in", "pan left", "roll right", "static"."""
        if self.axis == "rotation":
            return f"roll {self.direction}"
        return f"{self.kind} {self.direction}".strip()

    @property
    def magnitude(self) -> float:
        """The dominant component's size in frame fractions (comparable across axes)."""
        if self.axis == "jitter":
            return self.jitter
        amounts = _amounts(self)
        return amounts[self.axis] if self.axis in amounts else max(amounts.values())

    def matches(self, asked: CameraMotion) -> bool:
        """Whether the take shows the move that was asked for, up to what frames can tell.

        Frames cannot tell apart, so these count as one move each way:
        - pan, whip pan, truck and arc (the picture slides sideways; an arc may also read as roll),
        - tilt, pedestal and crane (the picture slides up or down; a crane's pull-back is extra),
        - dolly and zoom (the picture grows or shrinks); a dolly zoom keeps its subject's size and
          may read as either direction or as static,
        - steadicam: a stabilised body, static or floating (a small drift reads as handheld).
        Handheld must show shake; static must show no move. Directions must agree."""
        heading = asked.heading
        match asked.kind:
            case MotionKind.STATIC:
                return self.axis == "none"
            case MotionKind.HANDHELD:
                return self.axis == "jitter"
            case MotionKind.STEADICAM:
                return self.axis in ("none", "jitter")
            case MotionKind.DOLLY_ZOOM:
                return self.axis in ("scale", "none")
            case MotionKind.DOLLY | MotionKind.ZOOM:
                return self.axis == "scale" and self.direction is heading
            case MotionKind.PAN | MotionKind.WHIP_PAN | MotionKind.TRUCK:
                return self.axis == "horizontal" and self.direction is heading
            case MotionKind.ARC:
                return self.axis in ("horizontal", "rotation") and self.direction is heading
            case MotionKind.TILT | MotionKind.PEDESTAL | MotionKind.CRANE:
                return self.axis == "vertical" and self.direction is heading
        return False  # pragma: no cover - the match is exhaustive

    def named_for(self, asked: CameraMotion) -> str:
        """The measured move in the words of the ask when they match ("zoom in" for an asked zoom
        measured as growth), else its own label."""
        if self.matches(asked):
            return asked.label
        return self.label

    def verdict(self, asked: CameraMotion) -> str:
        """ "dolly in ✓" or "pan left ✗": what a take card shows after "measured:"."""
        return f"{self.named_for(asked)} {'✓' if self.matches(asked) else '✗'}"

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, to store with the take."""
        return {
            "kind": self.kind.value,
            "direction": self.direction.value,
            "axis": self.axis,
            "scale": self.scale,
            "horizontal": self.horizontal,
            "vertical": self.vertical,
            "roll": self.roll,
            "jitter": self.jitter,
            "confidence": self.confidence,
            "seconds": self.seconds,
            "pairs": self.pairs,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MeasuredMotion:
        """Read what `to_data` wrote; raises `ValueError` on anything else."""
        try:
            axis = str(data["axis"])
            if axis not in _AXES:
                raise ValueError(f"unknown axis {axis!r}")
            return cls(
                kind=MotionKind(data["kind"]),
                direction=MotionDirection(data["direction"]),
                axis=axis,
                scale=float(data["scale"]),
                horizontal=float(data["horizontal"]),
                vertical=float(data["vertical"]),
                roll=float(data["roll"]),
                jitter=float(data["jitter"]),
                confidence=float(data["confidence"]),
                seconds=float(data["seconds"]),
                pairs=int(data["pairs"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Not a measured camera move: {exc}") from None


_AXES: tuple[MotionAxis, ...] = ("none", "scale", "horizontal", "vertical", "rotation", "jitter")


def _amounts(
    motion: MeasuredMotion | tuple[float, float, float, float],
) -> dict[MotionAxis, float]:
    """Each component as how far it moves the picture's edge, in frame fractions: a 10% growth
    moves the edges ~5% of the frame, as a 5% pan does."""
    if isinstance(motion, MeasuredMotion):
        scale, horizontal, vertical, roll = (
            motion.scale,
            motion.horizontal,
            motion.vertical,
            motion.roll,
        )
    else:
        scale, horizontal, vertical, roll = motion
    return {
        "scale": 0.5 * abs(math.log(max(scale, 1e-6))),
        "horizontal": abs(horizontal),
        "vertical": abs(vertical),
        "rotation": 0.5 * abs(math.radians(roll)),
    }


def measure_take(result: RenderResult) -> MeasuredMotion:
    """`measure_motion` on a render result's picture: an animatic's caption band (below the
    `info["picture"]` height) is left out, since it never moves."""
    frames = result.frames
    picture = result.info.get("picture")
    if isinstance(picture, list | tuple) and len(picture) == 2:
        frames = frames[:, : int(picture[1])]
    return measure_motion(frames, result.fps)


def measure_motion(frames: np.ndarray, fps: float) -> MeasuredMotion:
    """Measure the camera move in `frames` ((T, H, W, 3) uint8 RGB, or (T, H, W) grey) at `fps`.

    Raises `ValueError` for arrays that are not a video."""
    import cv2

    if frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[3] not in (1, 3)):
        raise ValueError(f"Expected (frames, height, width, 3) video, got shape {frames.shape}.")
    if fps <= 0:
        raise ValueError(f"The frame rate must be positive; got {fps}.")
    count = frames.shape[0]
    seconds = (count - 1) / fps if count > 1 else 0.0
    if count < 2:
        return _classify(np.eye(3), [np.eye(3)], [], seconds, 0, (1, 1))
    pairs = min(count - 1, MAX_PAIRS)
    indices = sorted({int(i) for i in np.linspace(0, count - 1, pairs + 1).round()})
    height, width = frames.shape[1:3]
    shrink = min(1.0, _THUMB_SIDE / max(height, width))
    size = (max(16, round(width * shrink)), max(16, round(height * shrink)))
    pairs_of = _Spans(frames, size, cv2)
    chain = [np.eye(3)]
    qualities: list[float] = []
    for first, last in zip(indices, indices[1:], strict=False):
        for step, quality in pairs_of.span(first, last, 0):
            chain.append(step @ chain[-1])
            qualities.append(quality)
    return _classify(chain[-1], chain, qualities, seconds, len(qualities), size)


class _Spans:
    """The moves between pairs of frames, each frame's thumbnail made once. A class, not nested
    functions: a recursive closure is a reference cycle, and it kept every take's frames (about
    100 MB) alive until the garbage collector's next full pass."""

    def __init__(self, frames: np.ndarray, size: tuple[int, int], cv2: Any) -> None:
        self.frames, self.size, self.cv2 = frames, size, cv2
        self.thumbs: dict[int, np.ndarray] = {}
        self.grid = _grid(size)
        self.budget = _MAX_FLOWS

    def thumb(self, index: int) -> np.ndarray:
        if index not in self.thumbs:
            self.thumbs[index] = _thumbnail(self.frames[index], self.size, self.cv2)
        return self.thumbs[index]

    def span(self, first: int, last: int, depth: int) -> list[tuple[np.ndarray, float]]:
        """The pair (first, last), split at frames in between while it moves too far to match
        or its flow disagrees, as far as the budget of flow computations allows."""
        step, quality, far = _pair_transform(
            self.thumb(first), self.thumb(last), self.grid, self.size, self.cv2
        )
        self.budget -= 1
        if (
            (far or quality < _TRUSTED)
            and last - first > 1
            and depth < _MAX_SPLITS
            and self.budget >= 2
        ):
            middle = (first + last) // 2
            return self.span(first, middle, depth + 1) + self.span(middle, last, depth + 1)
        if far and quality < _TRUSTED:
            return [(np.eye(3), 0.0)]  # a weak match over a large shift is a guess: leave it out
        return [(step, quality)]


def _thumbnail(frame: np.ndarray, size: tuple[int, int], cv2: Any) -> np.ndarray:
    grey = (
        frame
        if frame.ndim == 2
        else (frame[..., 0] if frame.shape[2] == 1 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    )
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    if (grey.shape[1], grey.shape[0]) == size:
        return np.ascontiguousarray(grey)
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))


def _grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Sample points (row, column indices) inside the margin."""
    width, height = size
    mx, my = max(2, int(width * _MARGIN)), max(2, int(height * _MARGIN))
    ys, xs = np.mgrid[my : height - my : _GRID_STEP, mx : width - mx : _GRID_STEP]
    return ys.ravel(), xs.ravel()


def _pair_transform(
    before: np.ndarray,
    after: np.ndarray,
    grid: tuple[np.ndarray, np.ndarray],
    size: tuple[int, int],
    cv2: Any,
) -> tuple[np.ndarray, float, bool]:
    """The similarity taking `before`'s content to `after`'s, as a 3x3 matrix in pixels about the
    thumbnail's centre; the share of sampled points that agree with it (0 for featureless frames,
    where it is the identity); and whether the picture shifted far (see `_FAR`)."""
    if np.array_equal(before, after):
        return np.eye(3), 1.0, False
    width, height = size
    ys, xs = grid
    texture = cv2.cornerMinEigenVal(before, 5)[ys, xs]
    strongest = float(np.percentile(texture, 99))
    if strongest <= 1e-6:
        return np.eye(3), 0.0, False
    keep = texture >= 0.03 * strongest
    if int(keep.sum()) < _MIN_POINTS:
        keep = texture >= np.sort(texture)[-_MIN_POINTS]
    ys, xs = ys[keep], xs[keep]

    # A global shift first, so large translations (whip pans) start the flow near the answer.
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    (sx, sy), response = cv2.phaseCorrelate(
        before.astype(np.float32), after.astype(np.float32), window
    )
    far = abs(sx) > _FAR * width or abs(sy) > _FAR * height
    flow = np.empty((height, width, 2), np.float32)
    flow[..., 0], flow[..., 1] = sx, sy
    flow = cv2.calcOpticalFlowFarneback(
        before, after, flow, 0.5, 3, 15, 3, 5, 1.2, cv2.OPTFLOW_USE_INITIAL_FLOW
    )
    centre = np.array([(width - 1) / 2, (height - 1) / 2], np.float32)
    source = np.stack([xs, ys], axis=1).astype(np.float32) - centre
    target = source + flow[ys, xs]
    matrix, inliers = cv2.estimateAffinePartial2D(
        source,
        target,
        method=cv2.RANSAC,
        ransacReprojThreshold=1.0,
        maxIters=500,
        confidence=0.99,
        refineIters=10,
    )
    quality = float(inliers.mean()) if inliers is not None else 0.0
    if matrix is None or quality < _MIN_INLIERS:
        # The flow does not agree on one move; trust the phase correlation's shift alone.
        step = np.eye(3)
        step[0, 2], step[1, 2] = sx, sy
        return step, min(quality, float(response)), far
    step = np.eye(3)
    step[:2] = matrix
    far = far or abs(matrix[0, 2]) > _FAR * width or abs(matrix[1, 2]) > _FAR * height
    return step, quality, far


def _classify(
    net: np.ndarray,
    chain: list[np.ndarray],
    qualities: list[float],
    seconds: float,
    pairs: int,
    size: tuple[int, int],
) -> MeasuredMotion:
    width, height = size
    scale = float(math.sqrt(max(np.linalg.det(net[:2, :2]), 1e-12)))
    turn = math.degrees(math.atan2(net[1, 0], net[0, 0]))  # the picture's turn, clockwise on screen
    horizontal = -float(net[0, 2]) / width  # the picture slides left when the camera goes right
    vertical = float(net[1, 2]) / height  # ...and down when it goes up
    roll = -turn
    # Shake: how far the picture's centre wandered beyond the straight way from start to end.
    centres = np.array([[m[0, 2] / width, m[1, 2] / height] for m in chain])
    travelled = float(np.linalg.norm(np.diff(centres, axis=0), axis=1).sum())
    jitter = max(0.0, travelled - float(np.linalg.norm(centres[-1] - centres[0])))
    # How far apart the picture's positions lay, across or up and down: a hand that wanders out
    # and back ends where it started, but not without going somewhere.
    wander = float((centres.max(axis=0) - centres.min(axis=0)).max())

    amounts = _amounts((scale, horizontal, vertical, roll))
    ranked = sorted(amounts.items(), key=lambda item: item[1], reverse=True)
    (axis, biggest), (_, second) = ranked[0], ranked[1]
    fit = float(np.mean(qualities)) if qualities else 1.0
    kind: MotionKind
    direction = MotionDirection.NONE
    found: MotionAxis
    if max(biggest, wander) < STATIC_LIMIT and jitter < JITTER_LIMIT:
        kind, found = MotionKind.STATIC, "none"
        confidence = 1.0 - max(biggest / STATIC_LIMIT, wander / STATIC_LIMIT, jitter / JITTER_LIMIT)
    elif biggest < DRIFT_LIMIT or jitter >= SHAKE_SHARE * biggest:
        # The picture wanders, or shakes about as much as it goes anywhere: a hand holds it.
        kind, found = MotionKind.HANDHELD, "jitter"
        confidence = min(1.0, max(jitter / JITTER_LIMIT, wander / STATIC_LIMIT) - 1.0)
        if biggest >= DRIFT_LIMIT:
            confidence *= min(1.0, jitter / (SHAKE_SHARE * biggest) - 1.0)
    else:
        found = axis
        confidence = 1.0 - second / biggest
        match axis:
            case "scale":
                kind = MotionKind.DOLLY
                direction = MotionDirection.IN if scale > 1 else MotionDirection.OUT
            case "horizontal":
                kind = MotionKind.PAN
                direction = MotionDirection.RIGHT if horizontal > 0 else MotionDirection.LEFT
            case "vertical":
                kind = MotionKind.TILT
                direction = MotionDirection.UP if vertical > 0 else MotionDirection.DOWN
            case _:
                kind = MotionKind.ARC
                direction = MotionDirection.RIGHT if roll > 0 else MotionDirection.LEFT
    return MeasuredMotion(
        kind=kind,
        direction=direction,
        axis=found,
        scale=round(scale, 5),
        horizontal=round(horizontal, 5),
        vertical=round(vertical, 5),
        roll=round(roll, 4),
        jitter=round(jitter, 5),
        confidence=round(max(0.0, min(1.0, confidence)) * fit, 3),
        seconds=seconds,
        pairs=pairs,
    )
