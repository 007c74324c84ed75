"""The composition root: settings in, a wired production out. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from agents.base import Director
from bot.camera import RenderDefaults
from bot.service import Production
from bot.settings import Settings
from render.types import Renderer
from studio.store import Store

log = logging.getLogger(__name__)


def build_director(settings: Settings) -> Director:
    """The LLM director when a model is configured, else the offline rule-based director."""
    if settings.llm_model:
        # Imported here: langchain is only needed when an LLM is configured.
        from agents.chat_model import make_chat_model
        from agents.llm import LLMDirector

        model = make_chat_model(
            settings.llm_model, api_key=settings.llm_api_key, base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_s,
        )
        return LLMDirector(model, name=f"director ({settings.llm_model})")
    from agents.offline import OfflineDirector

    return OfflineDirector()


def renderer_loader(settings: Settings) -> Callable[[str], Renderer]:
    """What each render worker calls, once per model, to get its renderer."""

    def load(model: str) -> Renderer:
        if model == "animatic":
            from render.animatic import AnimaticRenderer

            return AnimaticRenderer()
        from render.diffusers import DiffusersOptions, DiffusersRenderer

        options = DiffusersOptions(
            cpu_offload=settings.cpu_offload, vae_tiling=settings.vae_tiling,
            compile=settings.compile, first_block_cache=settings.first_block_cache,
        )
        return DiffusersRenderer(model, options)

    return load


@asynccontextmanager
async def production(settings: Settings, *, render: bool = False) -> AsyncIterator[Production]:
    """Open the store (and, with `render`, the render pool) and yield the wired production.
    Jobs a previous run left queued or running are resubmitted on start."""
    async with AsyncExitStack() as stack:
        store = await Store.open(settings.database)
        stack.push_async_callback(store.close)
        pool = None
        if render:
            from render.pool import RenderPool

            pool = RenderPool(renderer_loader(settings), settings.renders_dir,
                              workers=settings.render_workers)
            await pool.start()
            stack.push_async_callback(pool.close)
        prod = Production(
            store, build_director(settings), pool=pool,
            render_defaults=RenderDefaults(
                model=settings.render_model, width=settings.render_width,
                height=settings.render_height, steps=settings.render_steps),
            cuts_dir=settings.data_dir / "cuts",
            max_open_renders=settings.max_open_renders_per_user,
        )
        await prod.start()
        stack.push_async_callback(prod.close)
        yield prod
