"""Render-pool overhead: the same N shots through `RenderPool` vs direct renderer calls + encode.

Uses a random-weight Wan pipeline ("bench" scale, built offline by tests/render/random_wan.py) so
one shot is seconds of real CPU work. Prints both timings and the ratio pool/direct (target <= 1.05)
and writes them as JSON.

    .venv/bin/python benchmarks/pool_overhead.py [--shots 3] [--steps 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from render.diffusers import DiffusersRenderer  # noqa: E402
from render.encode import encode_clip, write_poster  # noqa: E402
from render.pool import JobFailed, JobFinished, PoolEvent, RenderJob, RenderPool  # noqa: E402
from render.types import RenderRequest  # noqa: E402
from tests.render.random_wan import build_random_wan  # noqa: E402


def _requests(model: str, shots: int, steps: int, salt: int) -> list[RenderRequest]:
    # Distinct seeds per shot and per round: the pool's cache must not short-circuit the work.
    return [
        RenderRequest(
            prompt="a slow dolly in on a neon diner",
            width=128,
            height=128,
            frames=17,
            fps=16,
            steps=steps,
            seed=salt * 1000 + i,
            model=model,
        )
        for i in range(shots)
    ]


def run_direct(renderer: DiffusersRenderer, requests: list[RenderRequest], out: Path) -> None:
    for request in requests:
        result = renderer.render(request)
        key = request.cache_key()
        write_poster(result.frames, out / f"{key}.png")
        encode_clip(result.frames, result.fps, out / f"{key}.mp4")


async def run_pool(pool: RenderPool, requests: list[RenderRequest]) -> None:
    done = asyncio.get_running_loop().create_future()
    waiting = {request.cache_key(): request for request in requests}

    def on_event(event: PoolEvent) -> None:
        if event.job_id not in waiting or done.done():
            return
        if isinstance(event, JobFailed):
            done.set_exception(RuntimeError(f"{event.job_id}: {event.reason}"))
        elif isinstance(event, JobFinished):
            del waiting[event.job_id]
            if not waiting:
                done.set_result(None)

    pool.add_listener(on_event)
    for job_id, request in list(waiting.items()):
        pool.submit(RenderJob(job_id, "bench", request))
    await done


async def timed(run: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(wall, process CPU) seconds; CPU time is the steadier figure on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    return time.perf_counter() - wall, time.process_time() - cpu


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, list[tuple[float, float]]]:
    model = str(build_random_wan(tmp / "wan-bench", scale="bench"))
    renderer = DiffusersRenderer(model)
    # One long-lived pool, as in production: its worker thread is warmed up like the main thread.
    pool = RenderPool(lambda name, worker: renderer, tmp / "pool", workers=1)
    await pool.start()
    warm = time.perf_counter()
    run_direct(renderer, _requests(model, 1, args.steps, salt=998), tmp)
    await run_pool(pool, _requests(model, 1, args.steps, salt=999))
    print(f"load + warm-up (one shot each way): {time.perf_counter() - warm:.2f} s")
    runs: dict[str, list[tuple[float, float]]] = {"direct": [], "pool": []}
    # Alternate so drift (other load, caches) hits both sides alike; keep the best of each.
    # Distinct seeds per round and side: the pool's cache must not short-circuit the work.
    for round_ in range(args.rounds):
        direct = _requests(model, args.shots, args.steps, 2 * round_)
        pooled = _requests(model, args.shots, args.steps, 2 * round_ + 1)

        async def direct_run(requests: list[RenderRequest] = direct) -> None:
            run_direct(renderer, requests, tmp)  # blocks the loop on purpose: nothing else runs

        async def pool_run(requests: list[RenderRequest] = pooled) -> None:
            await run_pool(pool, requests)

        runs["direct"].append(await timed(direct_run))
        runs["pool"].append(await timed(pool_run))
        (dw, dc), (pw, pc) = runs["direct"][-1], runs["pool"][-1]
        print(
            f"round {round_}: direct {dw:.2f} s ({dc:.2f} s cpu)  pool {pw:.2f} s ({pc:.2f} s cpu)"
        )
    await pool.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/pool_overhead.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = asyncio.run(bench(args, Path(tmp)))
    best = {side: (min(w for w, _ in r), min(c for _, c in r)) for side, r in runs.items()}
    wall_ratio = best["pool"][0] / best["direct"][0]
    cpu_ratio = best["pool"][1] / best["direct"][1]
    print(
        f"{args.shots} shots x {args.steps} steps, 128x128x17: best direct {best['direct'][0]:.2f} s, "
        f"best pool {best['pool'][0]:.2f} s"
    )
    print(f"pool/direct = {wall_ratio:.3f} wall, {cpu_ratio:.3f} cpu (target <= 1.05)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "shots": args.shots,
                "steps": args.steps,
                "runs_wall_cpu_s": runs,
                "ratio_wall": wall_ratio,
                "ratio_cpu": cpu_ratio,
            },
            indent=2,
        )
    )
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
