"""Run as a script: a Ray cluster of separate nodes on this machine (`ray.cluster_utils`), where
machines join and leave under a running render pool, with no restart. Prints one line per stage
and "OK" at the end. tests/render/test_farm.py runs it in a subprocess: a process holds one Ray
session, and the test module's is a single node."""

import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from render.farm import RayExecutor  # noqa: E402
from render.pool import JobFinished, JobRetried, PoolEvent, RenderJob, RenderPool  # noqa: E402
from render.types import RenderRequest  # noqa: E402
from tests.render.farm_renderers import FarmTestLoader  # noqa: E402


async def until(
    check: Callable[[], bool], what: str, pool: RenderPool, seconds: float = 60.0
) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}; workers: {pool.workers()}")
        await asyncio.sleep(0.05)


async def main(folder: Path) -> None:
    # The farm's own news on stderr, shown when the test fails: who joined, who left, when.
    logging.basicConfig(level=logging.INFO, format="%(relativeCreated)d %(name)s %(message)s")
    logging.getLogger("ray").setLevel(logging.WARNING)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    ray.init(
        address=cluster.address,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    try:
        events: list[PoolEvent] = []
        executor = RayExecutor(rescale_s=0.3, max_workers=4)
        pool = RenderPool(
            FarmTestLoader(str(folder)), folder / "clips", workers=4, executor=executor
        )
        pool.add_listener(events.append)
        async with pool:
            await asyncio.sleep(1.0)
            assert pool.workers() == [], pool.workers()
            print("no CPU in the cluster: no worker")
            cluster.add_node(num_cpus=1)
            await until(lambda: len(pool.workers()) == 1, "a worker on the first machine", pool)
            second = cluster.add_node(num_cpus=1)
            await until(lambda: len(pool.workers()) == 2, "a worker on the second machine", pool)
            assert len({w.node for w in pool.workers()}) == 2, pool.workers()
            print("two machines joined: two workers on two nodes")
            for name in ("a", "b"):
                request = RenderRequest(prompt=name, width=64, height=64, frames=3, model="gated")
                pool.submit(RenderJob(name, "ana", request))
            await until(lambda: all(w.job_id for w in pool.workers()), "both workers busy", pool)
            leaving = next(w for w in pool.workers() if w.node.endswith(f"({second.node_id[:8]})"))
            cluster.remove_node(second)
            await until(
                lambda: any(isinstance(e, JobRetried) for e in events), "the job retried", pool
            )
            (retried,) = [e.job_id for e in events if isinstance(e, JobRetried)]
            assert retried == leaving.job_id, (retried, leaving)
            await until(lambda: len(pool.workers()) == 1, "the second machine's worker gone", pool)
            print(f"a machine left: its job {retried} queued again, one worker left")
            (folder / "open").touch()
            await until(
                lambda: {e.job_id for e in events if isinstance(e, JobFinished)} == {"a", "b"},
                "both jobs finished",
                pool,
            )
            print("both jobs finished on the remaining machine")
    finally:  # also on failure: the cluster leaves no address file behind for later tests
        ray.shutdown()
        cluster.shutdown()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp)))
    print("OK")
