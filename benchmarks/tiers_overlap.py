"""Six shots back to back through the render pool, with and without overlapped developing.

Developing a take (poster, H.264 clip, the camera move measured) runs on the CPU; with overlap
(`ThreadExecutor(overlap=True)`, the default) it runs while the next shot denoises. On a GPU the
denoise runs on the card, so the overlap hides developing entirely; on CPU both compete for the
same cores, so the gain here is a floor, not the GPU figure. Uses a random-weight Wan pipeline
built offline (tests/render/random_wan.py). Prints wall times, the ratio and the render-only sum
(six times one shot's denoise+decode, from the takes' own `render_seconds`).

    .venv/bin/python benchmarks/tiers_overlap.py [--shots 6] [--scale bench] [--steps 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from render.diffusers import DiffusersOptions, DiffusersRenderer  # noqa: E402
from render.pool import (  # noqa: E402
    JobFailed,
    JobFinished,
    PoolEvent,
    RenderJob,
    RenderPool,
    ThreadExecutor,
)
from render.types import RenderRequest  # noqa: E402
from tests.render.random_wan import build_random_wan  # noqa: E402


def requests(model: str, args: argparse.Namespace, salt: int) -> list[RenderRequest]:
    # Distinct seeds per shot and per run: the clip cache must not short-circuit the work.
    return [
        RenderRequest(
            prompt="a slow dolly in on a neon diner at night",
            width=args.width,
            height=args.height,
            frames=args.frames,
            fps=16,
            steps=args.steps,
            seed=salt * 1000 + i,
            model=model,
        )
        for i in range(args.shots + 1)  # the first is untimed: it pays loading
    ]


async def run(
    model: str, args: argparse.Namespace, overlap: bool, out: Path, salt: int
) -> dict[str, Any]:
    renderer = DiffusersRenderer(model, DiffusersOptions(preview_every=0))
    executor = ThreadExecutor(overlap=overlap)
    finished: dict[str, JobFinished] = {}
    done, warm = asyncio.Event(), asyncio.Event()
    batch = requests(model, args, salt=salt * 2 + overlap)

    def listen(event: PoolEvent) -> None:
        if isinstance(event, JobFailed):
            raise SystemExit(f"render failed: {event.reason}")
        if isinstance(event, JobFinished):
            finished[event.job_id] = event
            warm.set()
            if len(finished) == len(batch):
                done.set()

    async with RenderPool(lambda m, w: renderer, out, executor=executor) as pool:
        pool.add_listener(listen)
        pool.submit(RenderJob("warm", "crew", batch[0]))
        await warm.wait()
        started = time.perf_counter()
        for i, request in enumerate(batch[1:]):
            pool.submit(RenderJob(f"shot{i}", "crew", request))
        await done.wait()
        wall = time.perf_counter() - started
    shots = [finished[f"shot{i}"] for i in range(args.shots)]
    render_sum = sum(float(shot.info["render_seconds"]) for shot in shots)
    return {"overlap": overlap, "wall_seconds": wall, "render_seconds_sum": render_sum}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=6)
    parser.add_argument("--scale", choices=("tiny", "bench"), default="bench")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--frames", type=int, default=33)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model = str(build_random_wan(Path(tmp) / "wan", scale=args.scale))
        # Alternate the two and keep each one's fastest round: other load on the machine
        # (tests, another process) then hurts both alike instead of whichever ran second.
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for round_ in range(args.rounds):
            for overlap in (False, True):
                out = Path(tmp) / f"{overlap}-{round_}"
                runs[overlap].append(asyncio.run(run(model, args, overlap, out, salt=round_)))
        sequential = min(runs[False], key=lambda r: float(r["wall_seconds"]))
        overlapped = min(runs[True], key=lambda r: float(r["wall_seconds"]))
    ratio = overlapped["wall_seconds"] / sequential["wall_seconds"]
    floor = overlapped["render_seconds_sum"]
    print(
        f"{args.shots} shots, {args.scale} Wan, {args.width}x{args.height}x{args.frames}, "
        f"{args.steps} steps, {os.cpu_count()} CPUs"
    )
    print(f"  develop on the render thread: {sequential['wall_seconds']:.2f} s")
    print(f"  develop overlapped:           {overlapped['wall_seconds']:.2f} s")
    print(f"  overlapped / sequential:      {ratio:.3f}")
    print(f"  overlapped / renders alone:   {overlapped['wall_seconds'] / floor:.3f}")
    if args.json:
        args.json.write_text(
            json.dumps({"sequential": sequential, "overlapped": overlapped, "ratio": ratio})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
