"""Render farm: throughput of 1 vs 2 Ray workers on animatic renders, and the Ray backend's
per-job overhead against the local thread pool (same jobs, one worker each).

    .venv/bin/python benchmarks/farm_throughput.py [--jobs 16] [--json out.json]

Targets (issue 12): 2 workers >= 1.8x one on a 2-core machine; overhead <= 50 ms a job.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402

from bot.app import renderer_loader  # noqa: E402
from bot.settings import Settings  # noqa: E402
from render.farm import RayExecutor  # noqa: E402
from render.pool import JobFailed, JobFinished, PoolEvent, RenderJob, RenderPool  # noqa: E402
from render.types import RenderRequest  # noqa: E402


def _jobs(count: int, salt: int) -> list[RenderJob]:
    return [
        RenderJob(
            f"j{salt}-{i}",
            f"user{i % 4}",
            RenderRequest(
                prompt=f"shot {i}", width=832, height=480, frames=81, fps=16, seed=salt * 1000 + i
            ),
        )
        for i in range(count)
    ]


async def _run(pool: RenderPool, jobs: list[RenderJob]) -> float:
    left = {job.job_id for job in jobs}
    done = asyncio.Event()

    def listen(event: PoolEvent) -> None:
        if isinstance(event, JobFinished | JobFailed):
            assert isinstance(event, JobFinished), event
            left.discard(event.job_id)
            if not left:
                done.set()

    pool.add_listener(listen)
    started = time.perf_counter()
    for job in jobs:
        pool.submit(job)
    await done.wait()
    return time.perf_counter() - started


async def _measure(
    out: Path, workers: int, executor: RayExecutor | None, jobs: int, salt: int
) -> float:
    loader = renderer_loader(Settings(_env_file=None))  # type: ignore[call-arg]
    pool = RenderPool(loader, out / str(salt), workers=workers, executor=executor)
    await pool.start()
    try:
        for _ in range(3000):  # actors join within a minute
            if len(pool.slots()) >= workers:
                break
            await asyncio.sleep(0.02)
        await _run(pool, _jobs(2, salt + 100))  # warm: renderers loaded, workers started
        return await _run(pool, _jobs(jobs, salt))
    finally:
        await pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        local1 = await _measure(out, 1, None, args.jobs, 1)
        ray1 = await _measure(out, 1, RayExecutor(), args.jobs, 2)
        ray2 = await _measure(out, 2, RayExecutor(), args.jobs, 3)
    ray.shutdown()
    figures = {
        "jobs": args.jobs,
        "local_1_worker_s": round(local1, 3),
        "ray_1_worker_s": round(ray1, 3),
        "ray_2_workers_s": round(ray2, 3),
        "speedup_2_vs_1": round(ray1 / ray2, 2),
        "ray_overhead_ms_per_job": round((ray1 - local1) / args.jobs * 1000, 1),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
