from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.render.random_wan import Kind, build_random_wan


def _offline_build(factory: pytest.TempPathFactory, kind: Kind) -> Iterator[Path]:
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield build_random_wan(factory.mktemp(f"tiny-{kind}"), kind=kind)
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


@pytest.fixture(scope="session")
def tiny_vace_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A random-weight WanVACEPipeline folder (references, first frame, control video)."""
    yield from _offline_build(tmp_path_factory, "vace")


@pytest.fixture(scope="session")
def tiny_ti2v_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A random-weight Wan 2.2 TI2V-style WanPipeline folder (first frame via image-to-video)."""
    yield from _offline_build(tmp_path_factory, "ti2v")
