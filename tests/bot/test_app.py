"""The composition root's render wiring: which device each worker gets, and the cache salt."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import render_cache_salt, render_device, renderer_loader
from bot.settings import Settings
from render.diffusers import DiffusersRenderer


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, **overrides)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("gpus", "worker", "device"),
    [
        (0, 0, "auto"),
        (1, 0, "auto"),
        (1, 1, "auto"),
        (2, 0, "cuda:0"),
        (2, 1, "cuda:1"),
        (2, 2, "cuda:0"),
        (4, 3, "cuda:3"),
    ],
)
def test_render_device(gpus: int, worker: int, device: str) -> None:
    assert render_device(worker, lambda: gpus) == device


def test_each_worker_gets_its_own_gpu(tmp_path: Path) -> None:
    load = renderer_loader(settings_for(tmp_path, compile=True), device_count=lambda: 2)
    first, second = load("wan2.1-1.3b", 0), load("wan2.1-1.3b", 1)
    assert isinstance(first, DiffusersRenderer) and isinstance(second, DiffusersRenderer)
    assert (first.options.device, second.options.device) == ("cuda:0", "cuda:1")
    assert first.options.compile and not first.loaded  # settings carried; nothing loaded yet


def test_the_animatic_never_asks_for_devices(tmp_path: Path) -> None:
    def no_torch_here() -> int:
        raise AssertionError("the animatic path must not look for GPUs")

    load = renderer_loader(settings_for(tmp_path), device_count=no_torch_here)
    assert load("animatic", 1).name == "animatic"


def test_cache_salt_follows_pixel_changing_options(tmp_path: Path) -> None:
    plain = render_cache_salt(settings_for(tmp_path))
    cached = render_cache_salt(settings_for(tmp_path, first_block_cache=0.05))
    offloaded = render_cache_salt(settings_for(tmp_path, cpu_offload=True))
    assert plain("animatic") == cached("animatic") == ""  # animatic clips keep their keys
    assert plain("wan2.1-1.3b") != cached("wan2.1-1.3b")
    assert plain("wan2.1-1.3b") == offloaded("wan2.1-1.3b")  # offload moves weights, not pixels
