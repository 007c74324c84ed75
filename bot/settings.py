"""Slate's settings: read once at the entry point (environment, then `.env`) and injected."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SLATE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where projects, renders and cuts live.
    data_dir: Path = Path("slate-data")

    # The director. No model → the offline rule-based director.
    llm_model: str | None = Field(
        default=None, description="provider:model, e.g. openai:gpt-4.1-mini"
    )
    llm_api_key: SecretStr | None = None
    llm_base_url: str | None = None
    llm_timeout_s: float = 60.0

    # The camera.
    renderer: Literal["animatic", "diffusers"] = "animatic"
    model: str = Field(
        default="wan2.1-1.3b", description="diffusers preset, hub id or local folder"
    )
    render_workers: int = Field(default=1, ge=1, le=16)
    render_steps: int | None = Field(default=None, ge=1, le=200)
    render_width: int | None = Field(default=None, ge=64, le=4096)
    render_height: int | None = Field(default=None, ge=64, le=4096)
    cpu_offload: bool = False
    vae_tiling: bool = False
    compile: bool = False
    first_block_cache: float | None = Field(default=None, gt=0, lt=1)

    # Discord.
    discord_token: SecretStr | None = None
    discord_dev_guild: int | None = None
    discord_crew_role: str = "Crew"
    discord_message_content: bool = False

    # Per-user limits.
    max_open_renders_per_user: int = Field(default=24, ge=1)
    directions_per_minute: int = Field(default=8, ge=1)

    @property
    def database(self) -> Path:
        return self.data_dir / "slate.db"

    @property
    def renders_dir(self) -> Path:
        return self.data_dir / "renders"

    @property
    def render_model(self) -> str:
        """What a render request names: the animatic, or the configured diffusion model."""
        return "animatic" if self.renderer == "animatic" else self.model
