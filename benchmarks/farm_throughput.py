"""Render farm: throughput of 1 vs 2 Ray workers on animatic renders, what two cores give the same
work without Ray (the machine's ceiling), and the Ray backend's per-job overhead against the
local thread pool.

    .venv/bin/python benchmarks/farm_throughput.py [--jobs 24] [--rounds 5] [--json out.json]

Targets (issue 12): 2 workers >= 1.8x one; overhead <= 50 ms a job.

Every configuration renders the same shots (animatic shots differ several-fold in cost), with
the clip cache emptied before each run, and each round runs every configuration in turn; the
figures are medians over rounds. On a shared 2-core machine the same job costs a lone worker
noticeably more or less from one minute to the next, so two figures don't lean on wall time:
- each worker's busy share of the wall (its takes' `render_seconds` + `develop_seconds` over the
  wall): how much of the workers' own capacity the farm delivers (1.0: they never wait on it);
- each backend's own cost a job, one worker rendering one job at a time: the wall beyond what the
  worker spent rendering and developing. The Ray overhead is its own cost minus the local pool's.
The ceiling renders and develops the same shots in one plain process, then in two at once.
`ray_1_two_cpus` is one actor granted both CPUs (`cpus_per_worker=2`): an actor develops within
its CPU share, so a one-CPU actor's takes cost more than the bot's own pool's, which uses every
core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402

from bot.app import renderer_loader  # noqa: E402
from bot.settings import Settings  # noqa: E402
from render.animatic import AnimaticRenderer  # noqa: E402
from render.develop import develop, limit_threads  # noqa: E402
from render.farm import QUIET, RayExecutor  # noqa: E402
from render.pool import (  # noqa: E402
    JobFailed,
    JobFinished,
    PoolEvent,
    RenderExecutor,
    RenderJob,
    RenderPool,
    ThreadExecutor,
)
from render.types import CancelToken, RenderRequest  # noqa: E402

SHOTS, WARM = 7, 99  # the measured shots' seeds, and the warm-up's


def _request(salt: int, i: int) -> RenderRequest:
    return RenderRequest(
        prompt=f"shot {i}", width=832, height=480, frames=81, fps=16, seed=salt * 1000 + i
    )


def _jobs(count: int, salt: int, run: int = 0) -> list[RenderJob]:
    """The same `count` shots for a given `salt` (animatic shots differ a lot in cost, so every
    configuration renders the same ones); `run` only tells the job ids apart."""
    return [
        RenderJob(f"j{salt}-{run}-{i}", f"user{i % 4}", _request(salt, i)) for i in range(count)
    ]


async def _run(pool: RenderPool, jobs: list[RenderJob]) -> tuple[float, float]:
    """Wall seconds for the jobs, and the seconds their workers spent on them (rendering and
    developing, as each take's info says): the rest is the backend's own cost."""
    for old in pool.out_dir.glob("*"):  # the same jobs again: no cache hits
        old.unlink()
    left = {job.job_id for job in jobs}
    work: list[float] = []
    done = asyncio.Event()

    def listen(event: PoolEvent) -> None:
        if isinstance(event, JobFinished | JobFailed) and event.job_id in left:
            assert isinstance(event, JobFinished), event
            work.append(event.info["render_seconds"] + event.info["develop_seconds"])
            left.discard(event.job_id)
            if not left:
                done.set()

    pool.add_listener(listen)
    started = time.perf_counter()
    for job in jobs:
        pool.submit(job)
    await done.wait()
    return time.perf_counter() - started, sum(work)


class Setup:
    """One configuration, started once and kept warm across rounds."""

    def __init__(self, out: Path, workers: int, executor: RenderExecutor) -> None:
        loader = renderer_loader(Settings(_env_file=None))  # type: ignore[call-arg]
        self.workers = workers
        self.pool = RenderPool(loader, out, workers=workers, executor=executor)

    async def start(self, run: int) -> Setup:
        await self.pool.start()
        for _ in range(3000):  # actors join within a minute
            if len(self.pool.slots()) >= self.workers:
                break
            await asyncio.sleep(0.02)
        # Renderers loaded, OpenCV imported: the warm-up's shots, not the measured ones.
        await _run(self.pool, _jobs(2 * self.workers, WARM, run))
        return self


def _develop_jobs(args: tuple[int, list[int]]) -> float:
    """One plain process: render and develop these jobs one after another (one thread each)."""
    salt, indexes = args
    limit_threads(1)
    renderer = AnimaticRenderer()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for i in indexes:
            request = _request(salt, i)
            result = renderer.render(request, None, CancelToken())
            develop(request, result, Path(folder) / f"{i}.mp4", Path(folder) / f"{i}.png")
        return time.perf_counter() - started


def _ceiling(jobs: int, salt: int, context: Any) -> tuple[float, float]:
    """Seconds for `jobs` renders on one plain process, and on two at once (each takes the next
    shot when it is free, as farm workers do)."""
    seconds = []
    for count in (1, 2):
        with context.Pool(count) as processes:
            processes.map(_develop_jobs, [(WARM, [i]) for i in range(count)])  # imports, first take
            started = time.perf_counter()
            processes.map(_develop_jobs, [(salt, [i]) for i in range(jobs)], chunksize=1)
            seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    ray.init(num_cpus=2, **QUIET)
    rows: dict[str, list[float]] = {
        name: []
        for name in (
            "local",
            "local_inline",
            "ray_1",
            "ray_1_two_cpus",
            "ray_2",
            "plain_1",
            "plain_2",
        )
    }
    # Render + develop a job, as its worker measured it: what a worker's CPU share changes.
    work_ms: dict[str, list[float]] = {
        name: [] for name in ("local_inline", "ray_1", "ray_1_two_cpus", "ray_2")
    }
    own: dict[str, list[float]] = {"local_inline": [], "ray_1": []}  # ms a job beyond the work
    busy: dict[str, list[float]] = {"ray_1": [], "ray_2": []}  # workers' busy share of the wall
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        setups = {
            "local": await Setup(out / "local", 1, ThreadExecutor()).start(1),
            "local_inline": await Setup(out / "inline", 1, ThreadExecutor(overlap=False)).start(2),
            "ray_1": await Setup(out / "ray1", 1, RayExecutor(max_workers=1)).start(3),
        }
        run = 0
        for _ in range(args.rounds):
            for name, setup in setups.items():
                run += 1
                wall, work = await _run(setup.pool, _jobs(args.jobs, SHOTS, run))
                rows[name].append(wall)
                if name in work_ms:
                    work_ms[name].append(work / args.jobs * 1000)
                if name in own:  # one job at a time: the wall is the work plus the backend
                    own[name].append((wall - work) / args.jobs * 1000)
                if name in busy:
                    busy[name].append(work / wall)
            # Two actors on two cores: the one-actor farm steps aside while they run.
            await setups["ray_1"].pool.close()
            run += 1
            two = await Setup(out / f"ray2-{run}", 2, RayExecutor(max_workers=2)).start(run)
            wall, work = await _run(two.pool, _jobs(args.jobs, SHOTS, run))
            rows["ray_2"].append(wall)
            work_ms["ray_2"].append(work / args.jobs * 1000)
            busy["ray_2"].append(work / (2 * wall))
            await two.pool.close()
            # One actor granted both CPUs: its encoder and OpenCV may use both threads.
            run += 1
            wide = RayExecutor(max_workers=1, cpus_per_worker=2)
            lone = await Setup(out / f"wide-{run}", 1, wide).start(run)
            wall, work = await _run(lone.pool, _jobs(args.jobs, SHOTS, run))
            rows["ray_1_two_cpus"].append(wall)
            work_ms["ray_1_two_cpus"].append(work / args.jobs * 1000)
            await lone.pool.close()
            run += 1
            setups["ray_1"] = await Setup(out / f"ray1-{run}", 1, RayExecutor(max_workers=1)).start(
                run
            )
            one, both = await asyncio.to_thread(_ceiling, args.jobs, SHOTS, context)
            rows["plain_1"].append(one)
            rows["plain_2"].append(both)
        for setup in setups.values():
            await setup.pool.close()
    ray.shutdown()
    median = {name: statistics.median(values) for name, values in rows.items()}
    per_round = [round(one / two, 2) for one, two in zip(rows["ray_1"], rows["ray_2"], strict=True)]
    ceiling = median["plain_1"] / median["plain_2"]
    speedup = median["ray_1"] / median["ray_2"]
    figures = {
        "jobs": args.jobs,
        "rounds": args.rounds,
        "seconds_median": {name: round(value, 3) for name, value in median.items()},
        "ray_speedup_2_vs_1": round(speedup, 2),
        "ray_speedup_per_round": per_round,
        # How much of the wall each Ray worker spent rendering and developing: the farm's own
        # share of scaling (1.0: workers never wait for the farm), whatever the cores give.
        "work_ms_per_job": {name: round(statistics.median(v)) for name, v in work_ms.items()},
        "ray_worker_busy_share": {name: round(statistics.median(v), 3) for name, v in busy.items()},
        "machine_ceiling_2_vs_1_processes": round(ceiling, 2),
        "ray_scaling_of_ceiling": round(speedup / ceiling, 2),
        # Each backend's own cost a job: wall time beyond what its worker spent rendering and
        # developing (one worker, one job at a time); the Ray backend's overhead is the difference.
        "own_ms_per_job": {name: round(statistics.median(v), 1) for name, v in own.items()},
        "ray_overhead_ms_per_job": round(
            statistics.median(own["ray_1"]) - statistics.median(own["local_inline"]), 1
        ),
        # Wall-clock difference, which also carries how fast each process's memory happens to be.
        "ray_1_minus_local_inline_wall_ms_per_job": round(
            (median["ray_1"] - median["local_inline"]) / args.jobs * 1000, 1
        ),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
