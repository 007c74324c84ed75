"""A busy day on a render farm, simulated: 20 crews, 10 GPUs, 8 hours of Poisson arrivals of draft
and final shot batches, scheduled by the render pool's own fairness policy.

    .venv/bin/python benchmarks/farm_busy_day.py [--crews 20] [--gpus 10] [--hours 8] [--seed 12]
                                                 [--json out.json]

Nothing renders: a simulated clock stands in for the GPUs. Which job a free GPU takes next is
decided by `RenderPool._pick`, the very code the pool runs (higher priority first; within a
priority the user served longest ago, a new user first; then submission order), with the pool's
serve clock advanced exactly as `RenderPool._next_job` does. A GPU is busy for a shot's denoise
only: the pool's slots develop a take (poster, clip, move check) on the CPU while the next one
denoises (issue 11), so developing never holds a GPU.

Per-shot GPU times (FIELD-NOTES, issue 11; Wan 2.1 1.3B, 832x480, 81 frames, one H200): a final
takes 52-61 s, a 4-step draft 2-6 s (uniform in those ranges). The crews:
- 16 regular crews: a draft batch of 4-12 shots every 8 minutes on average, a final batch of
  6-16 shots every 40 minutes;
- 4 heavy crews, finishing films: the same drafts, plus a final batch of 30-60 shots every
  90 minutes on average.
All Poisson, seeded: the same seed gives the same day. Queue wait is from a shot's submission
to a GPU starting it. Three policies run the same day: Slate's as the product submits today
(the pool's fair scheduler, drafts one priority step ahead of finals); the same scheduler with
every job at one priority (as before drafts went first); and FIFO (submission order).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from render.pool import RenderJob, RenderPool  # noqa: E402
from render.types import RenderRequest  # noqa: E402

FINAL_S = (52.0, 61.0)  # seconds per final shot on a GPU
DRAFT_S = (2.0, 6.0)  # seconds per 4-step draft shot
DRAFT_EVERY_S = 8 * 60.0
FINAL_EVERY_S = 40 * 60.0
HEAVY_FINAL_EVERY_S = 90 * 60.0
HEAVY_CREWS = 4

Picker = Callable[[dict[str, int], dict[str, tuple[int, RenderJob]]], str]


@dataclass(frozen=True)
class Batch:
    at: float
    crew: str
    tier: str  # "draft" | "final"
    shots: tuple[float, ...]  # GPU seconds of each shot


@dataclass
class Shot:
    batch: int
    crew: str
    tier: str
    gpu_s: float
    submitted: float
    started: float = -1.0


def busy_day(crews: int, hours: float, seed: int) -> list[Batch]:
    """Every crew's batches for the day, in arrival order."""
    rng = random.Random(seed)
    day = hours * 3600.0
    batches: list[Batch] = []

    def arrivals(crew: str, tier: str, every_s: float, sizes: tuple[int, int]) -> None:
        at = rng.expovariate(1 / every_s)
        while at < day:
            low, high = FINAL_S if tier == "final" else DRAFT_S
            shots = tuple(rng.uniform(low, high) for _ in range(rng.randint(*sizes)))
            batches.append(Batch(at, crew, tier, shots))
            at += rng.expovariate(1 / every_s)

    for index in range(crews):
        crew = f"crew{index + 1:02d}"
        heavy = index < HEAVY_CREWS
        arrivals(crew, "draft", DRAFT_EVERY_S, (4, 12))
        arrivals(crew, "final", FINAL_EVERY_S, (6, 16))
        if heavy:
            arrivals(crew, "final", HEAVY_FINAL_EVERY_S, (30, 60))
    return sorted(batches, key=lambda batch: batch.at)


def simulate(
    batches: list[Batch], gpus: int, pick: Picker, draft_priority: int = 0
) -> tuple[list[Shot], float, float]:
    """Run the day; returns the shots (with start times), the GPUs' busy seconds and the time
    the last shot finished."""
    request = RenderRequest(prompt="a shot", width=832, height=480, frames=81, fps=16)
    shots: list[Shot] = []
    queued: dict[str, tuple[int, RenderJob]] = {}  # as the pool keeps it: job_id -> (seq, job)
    last_served: dict[str, int] = {}
    serve_clock = itertools.count()
    seq = itertools.count()
    finishing: list[float] = []  # a heap of the times busy GPUs come free
    free, busy_s, now, end = gpus, 0.0, 0.0, 0.0
    arrivals = iter(enumerate(batches))
    upcoming = next(arrivals, None)
    while upcoming is not None or queued or finishing:
        now = min(
            upcoming[1].at if upcoming is not None else float("inf"),
            finishing[0] if finishing else float("inf"),
        )
        while finishing and finishing[0] <= now:
            heapq.heappop(finishing)
            free += 1
        while upcoming is not None and upcoming[1].at <= now:
            index, batch = upcoming
            for gpu_s in batch.shots:
                job_id = str(len(shots))
                shots.append(Shot(index, batch.crew, batch.tier, gpu_s, batch.at))
                priority = draft_priority if batch.tier == "draft" else 0
                queued[job_id] = (next(seq), RenderJob(job_id, batch.crew, request, priority))
            upcoming = next(arrivals, None)
        while free and queued:  # as RenderPool._next_job: pick, pop, mark the user served
            _, job = queued.pop(pick(last_served, queued))
            last_served[job.user] = next(serve_clock)
            shot = shots[int(job.job_id)]
            shot.started = now
            free -= 1
            busy_s += shot.gpu_s
            end = max(end, now + shot.gpu_s)
            heapq.heappush(finishing, now + shot.gpu_s)
    return shots, busy_s, end


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(
    shots: list[Shot], busy_s: float, end: float, gpus: int, day_s: float
) -> dict[str, Any]:
    def waits(tier: str, crew: str | None = None) -> list[float]:
        return [
            s.started - s.submitted
            for s in shots
            if s.tier == tier and (crew is None or s.crew == crew)
        ]

    def stats(values: list[float]) -> dict[str, float]:
        return {
            "n": len(values),
            "p50_s": round(percentile(values, 50), 1),
            "p99_s": round(percentile(values, 99), 1),
        }

    turnaround: dict[int, float] = {}  # draft batch -> its last shot's finish, from submission
    for s in shots:
        if s.tier == "draft":
            done = s.started + s.gpu_s - s.submitted
            turnaround[s.batch] = max(turnaround.get(s.batch, 0.0), done)
    crews = sorted({s.crew for s in shots})
    return {
        "gpu_utilisation_day": round(busy_s / (gpus * day_s), 3),
        "gpu_utilisation_until_done": round(busy_s / (gpus * end), 3),
        "last_shot_done_h": round(end / 3600, 2),
        "draft": stats(waits("draft")),
        "final": stats(waits("final")),
        "draft_batch_back": stats(list(turnaround.values())),
        "crews": {
            crew: {"draft": stats(waits("draft", crew)), "final": stats(waits("final", crew))}
            for crew in crews
        },
    }


def fifo(last_served: dict[str, int], queued: dict[str, tuple[int, RenderJob]]) -> str:
    return min(queued.items(), key=lambda item: item[1][0])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crews", type=int, default=20)
    parser.add_argument("--gpus", type=int, default=10)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    batches = busy_day(args.crews, args.hours, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        # The pool is only built, never started: its scheduler is what decides.
        pool = RenderPool(lambda model, worker: None, Path(folder))  # type: ignore[arg-type,return-value]
        policies: list[tuple[str, Picker, int]] = [
            ("Slate today (fair, drafts one priority step ahead)", pool._pick, 1),
            ("fair, every job at one priority", pool._pick, 0),
            ("FIFO (comparison)", fifo, 0),
        ]
        results = {}
        for name, pick, draft_priority in policies:
            shots, busy_s, end = simulate(batches, args.gpus, pick, draft_priority)
            results[name] = summary(shots, busy_s, end, args.gpus, args.hours * 3600)

    total = sum(len(b.shots) for b in batches)
    drafts = sum(len(b.shots) for b in batches if b.tier == "draft")
    print(
        f"{args.crews} crews ({HEAVY_CREWS} heavy), {args.gpus} GPUs, {args.hours:g} h, "
        f"seed {args.seed}: {len(batches)} batches, {total} shots ({drafts} drafts, "
        f"{total - drafts} finals)"
    )
    for name, result in results.items():
        print(
            f"\n{name}: GPU utilisation {result['gpu_utilisation_day']:.0%} of the day "
            f"(last shot done at {result['last_shot_done_h']:.2f} h)"
        )
        for tier in ("draft", "final"):
            figures = result[tier]
            print(
                f"  {tier:<5} queue wait p50 {figures['p50_s']:>7.1f} s   p99 "
                f"{figures['p99_s']:>7.1f} s   ({figures['n']} shots)"
            )
        back = result["draft_batch_back"]
        print(f"  a draft batch back in p50 {back['p50_s']:.1f} s, p99 {back['p99_s']:.1f} s")
    fair = results[policies[0][0]]["crews"]
    plain = results[policies[2][0]]["crews"]
    print("\nqueue wait per crew (s), Slate today / FIFO:")
    print(f"  {'crew':<8} {'draft p50':>10} {'draft p99':>10} {'final p50':>10} {'final p99':>10}")
    for crew, figures in fair.items():
        kind = "heavy" if int(crew[4:]) <= HEAVY_CREWS else ""
        cells = [
            f"{figures[t][p]:.0f}/{plain[crew][t][p]:.0f}"
            for t in ("draft", "final")
            for p in ("p50_s", "p99_s")
        ]
        print(f"  {crew:<8} " + " ".join(f"{c:>10}" for c in cells) + f"  {kind}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
