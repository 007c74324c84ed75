from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_wan_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A random-weight Wan pipeline folder, built once per session; nothing is downloaded."""
    from tests.render.random_wan import build_random_wan

    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield build_random_wan(tmp_path_factory.mktemp("tiny-wan"))
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[None]:
    """One local Ray instance (2 CPU slots) for the whole session, started by the first test that
    asks for it: Ray's start-up stays out of every test. Skips where ray is not installed."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        root = Path(__file__).resolve().parents[1]
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            # the tests' renderers in the actors; the tiny Wan loads with nothing downloaded
            runtime_env={"env_vars": {"PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}},
        )
    yield
    if started:
        ray.shutdown()
