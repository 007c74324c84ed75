"""The composition root: settings in, a wired production out. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from agents.base import Director
from bot.camera import RenderDefaults
from bot.production import Production
from bot.settings import Settings
from render.types import Renderer

if TYPE_CHECKING:
    from render.diffusers import DiffusersOptions
    from render.pool import RendererLoader, RenderExecutor
    from render.portrait import PortraitRenderer
from studio.store import Store

log = logging.getLogger(__name__)


def build_director(settings: Settings) -> Director:
    """The LLM director when a model is configured, else the offline rule-based director."""
    if settings.llm_model:
        # Imported here: langchain is only needed when an LLM is configured.
        from agents.chat_model import make_chat_model
        from agents.llm import LLMDirector

        model = make_chat_model(
            settings.llm_model,
            api_key=settings.llm_api_key,
            base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_s,
        )
        return LLMDirector(
            model, name=f"director ({settings.llm_model})", timeout_s=settings.llm_timeout_s
        )
    from agents.offline import OfflineDirector

    return OfflineDirector()


def cuda_device_count() -> int:
    """How many CUDA devices this process sees; 0 without torch or CUDA. Imports torch."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def render_device(worker: int, device_count: Callable[[], int] = cuda_device_count) -> str:
    """Where render worker `worker` puts its pipeline: its own GPU when there are several
    (`cuda:{worker}`, wrapping round when workers outnumber GPUs), else "auto"."""
    count = device_count()
    if count < 2:
        return "auto"
    if worker >= count:
        log.warning("render worker %d shares cuda:%d: only %d GPUs", worker, worker % count, count)
    return f"cuda:{worker % count}"


def portrait_renderer(settings: Settings) -> PortraitRenderer | None:
    """What renders candidate portraits for casting: None for the animatic's drawn cards."""
    model = settings.portrait_model or ("animatic" if settings.renderer == "animatic" else "")
    if model == "animatic":
        return None
    from render.portrait import DEFAULT_PORTRAIT_PRESET, DiffusersPortraits

    return DiffusersPortraits(model or DEFAULT_PORTRAIT_PRESET, diffusers_options(settings))


def diffusers_options(settings: Settings, device: str = "auto") -> DiffusersOptions:
    from render.diffusers import DiffusersOptions
    from render.lora import parse_camera_loras, parse_draft_lora, parse_loras

    return DiffusersOptions(
        device=device,
        cpu_offload=settings.cpu_offload,
        vae_tiling=settings.vae_tiling,
        compile=settings.compile,
        first_block_cache=settings.first_block_cache,
        loras=parse_loras(settings.loras),
        camera_loras=parse_camera_loras(settings.camera_loras),
        draft_lora=parse_draft_lora(settings.draft_lora),
        fp8=settings.fp8,
    )


@dataclass(frozen=True)
class RendererFactory:
    """What each render worker calls, once per model, to get its renderer (on its own GPU).
    A plain picklable value, not a closure: the Ray farm ships it to its actors, which build
    their renderers where they run (there each actor sees one GPU, so "auto" finds it)."""

    options: DiffusersOptions
    device_count: Callable[[], int] = cuda_device_count

    def __call__(self, model: str, worker: int = 0) -> Renderer:
        if model == "animatic":
            from render.animatic import AnimaticRenderer

            return AnimaticRenderer()
        from render.diffusers import DiffusersRenderer

        device = render_device(worker, self.device_count)
        return DiffusersRenderer(model, replace(self.options, device=device))


def renderer_loader(
    settings: Settings, device_count: Callable[[], int] = cuda_device_count
) -> RendererLoader:
    """What each render worker calls, once per model, to get its renderer (on its own GPU)."""
    return RendererFactory(diffusers_options(settings), device_count)


def render_cache_salt(settings: Settings) -> Callable[[str], str]:
    """What besides the request changes a model's pixels: the diffusers options (not the device
    index: every worker's GPU renders the same clip)."""
    tag = diffusers_options(settings).cache_tag()
    return lambda model: "" if model == "animatic" else tag


# --- render farm (issue 12) ---
def render_executor(settings: Settings) -> RenderExecutor:
    """Ray actors when SLATE_RENDER_BACKEND=ray (ray is imported only then), one per GPU for
    diffusion models, else one per CPU slot up to SLATE_RENDER_WORKERS; else worker threads.
    With SLATE_RENDER_SHARED_DIR the actors write clips straight into that folder."""
    if settings.render_backend != "ray":
        from render.pool import ThreadExecutor

        # On a GPU each worker loads and warms up the session's model at start, so the first
        # crew render pays neither; takes develop while the next shot denoises.
        gpu = settings.renderer == "diffusers" and cuda_device_count() > 0
        preload = (settings.render_model,) if gpu else ()
        return ThreadExecutor(preload=preload)
    from render.farm import RayExecutor

    return RayExecutor(
        settings.ray_address,
        gpus_per_worker=1.0 if settings.renderer == "diffusers" else 0.0,
        shared_folder=settings.render_shared_dir is not None,
    )


# --- end render farm ---


@asynccontextmanager
async def production(settings: Settings, *, render: bool = False) -> AsyncIterator[Production]:
    """Open the store (and, with `render`, the render pool) and yield the wired production.
    Jobs a previous run left queued or running are resubmitted on start."""
    async with AsyncExitStack() as stack:
        store = await Store.open(settings.database)
        stack.push_async_callback(store.close)
        pool = None
        if render:
            from render.encode import remove_partial_files
            from render.pool import RenderPool

            # Clips a killed encoder left half-written: never a take, only litter.
            await asyncio.to_thread(remove_partial_files, settings.renders_dir)

            pool = RenderPool(
                renderer_loader(settings),
                settings.render_shared_dir or settings.renders_dir,  # render farm (issue 12)
                workers=settings.render_workers,
                cache_salt=render_cache_salt(settings),
                executor=render_executor(settings),  # render farm (issue 12)
            )
            await pool.start()
            stack.push_async_callback(pool.close)
        prod = Production(
            store,
            build_director(settings),
            pool=pool,
            render_defaults=RenderDefaults(
                model=settings.render_model,
                width=settings.render_width,
                height=settings.render_height,
                steps=settings.render_steps,
                camera_control=settings.camera_control,
                control_strength=settings.control_strength,
                tier=settings.quality,
                draft_lora=settings.draft_lora,
            ),
            cuts_dir=settings.data_dir / "cuts",
            max_open_renders=settings.max_open_renders_per_user,
            portraits=portrait_renderer(settings),
        )
        await prod.start()
        stack.push_async_callback(prod.close)
        yield prod
