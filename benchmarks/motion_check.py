"""The move check: how fast it measures a take, and how well it reads every studio move.

1. Timing: `measure_motion` on 81-frame 832x480 animatic takes (a few moves), CPU seconds
   (time.process_time, all threads) and wall seconds, median of --repeats runs each.
2. Confusion table: every studio CameraMove x MoveDirection, staged by the animatic through
   bot.camera at 832x480x81, measured; rows are what was asked, columns what was measured,
   and the last column says whether `matches` accepted every take of the row.

    .venv/bin/python benchmarks/motion_check.py [--repeats 7] [--speed medium] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.camera import RenderDefaults, request_for  # noqa: E402
from render.animatic import AnimaticRenderer  # noqa: E402
from render.motion import measure_motion, measure_take  # noqa: E402
from render.types import RenderRequest  # noqa: E402
from studio.models import Scene, Shot, ShotList  # noqa: E402
from studio.vocab import (  # noqa: E402
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    TimeOfDay,
)

WIDTH, HEIGHT, FPS, SECONDS = 832, 480, 16, 81 / 16  # 81 frames, as Wan renders a shot
TIMED = (
    (CameraMove.STATIC, MoveDirection.NONE),
    (CameraMove.PAN, MoveDirection.LEFT),
    (CameraMove.DOLLY_IN, MoveDirection.NONE),
    (CameraMove.CRANE, MoveDirection.UP),
    (CameraMove.HANDHELD, MoveDirection.NONE),
    (CameraMove.WHIP_PAN, MoveDirection.RIGHT),
)


def _request(move: CameraMove, direction: MoveDirection, speed: MoveSpeed) -> RenderRequest:
    shot = Shot(
        number="4",
        description="Mara waits by the counter.",
        characters=("Mara", "Joe"),
        size=ShotSize.FULL,
        movement=move,
        direction=direction,
        speed=speed,
        duration=SECONDS,
        scene=Scene(int_ext=IntExt.INT, location="Diner on Route 9", time_of_day=TimeOfDay.DAY),
    )
    request = request_for(
        ShotList(fps=FPS, shots=(shot,)), shot, RenderDefaults(width=WIDTH, height=HEIGHT)
    )
    assert request.frames == 81, request.frames
    return request


def time_takes(speed: MoveSpeed, repeats: int) -> dict[str, dict[str, float]]:
    timings: dict[str, dict[str, float]] = {}
    for move, direction in TIMED:
        request = _request(move, direction, speed)
        result = AnimaticRenderer().render(request)
        picture = result.frames[:, : result.info["picture"][1]]
        measure_motion(picture, result.fps)  # warm-up: OpenCV's first call pays for its setup
        cpu, wall = [], []
        for _ in range(repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            measure_motion(picture, result.fps)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        timings[request.previz.motion.label] = {
            "cpu_s": statistics.median(cpu),
            "wall_s": statistics.median(wall),
        }
    return timings


def confusion(speed: MoveSpeed) -> tuple[dict[str, Counter[str]], dict[str, bool], int]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    ok: dict[str, bool] = {}
    pairs = 0
    for move in CameraMove:
        for direction in MoveDirection:
            request = _request(move, direction, speed)
            asked = request.previz.motion
            measured = measure_take(AnimaticRenderer().render(request))
            table[asked.label][measured.label] += 1
            ok[asked.label] = ok.get(asked.label, True) and measured.matches(asked)
            pairs += 1
    return table, ok, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--speed", choices=[s.value for s in MoveSpeed], default="medium")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    speed = MoveSpeed(args.speed)

    timings = time_takes(speed, args.repeats)
    print(f"measure_motion, 81 frames {WIDTH}x{HEIGHT}, median of {args.repeats}:")
    for label, timing in timings.items():
        print(
            f"  {label:16s} cpu {timing['cpu_s'] * 1000:6.1f} ms   wall {timing['wall_s'] * 1000:6.1f} ms"
        )
    worst = max(timing["cpu_s"] for timing in timings.values())
    print(f"  slowest: {worst * 1000:.1f} ms CPU (budget 300 ms)")

    table, ok, pairs = confusion(speed)
    columns = sorted({label for row in table.values() for label in row})
    width = max(len(label) for label in table) + 2
    print(f"\nasked x measured, {pairs} studio (move, direction) pairs, {speed} speed:")
    print(" " * width + "".join(f"{c:>12s}" for c in columns) + "   match")
    for asked in sorted(table):
        cells = "".join(f"{table[asked][c] or '':>12}" for c in columns)
        print(f"{asked:<{width}}{cells}   {'✓' if ok[asked] else '✗'}")
    matched = sum(ok.values())
    print(f"\n{matched}/{len(ok)} asked moves matched on every pair")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "timings": timings,
                    "confusion": {k: dict(v) for k, v in table.items()},
                    "matched": ok,
                    "speed": speed.value,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
