"""Slate's settings: read once at the entry point (environment, then `.env`) and injected.

An empty value means "off" (or "the preset's default") for the optional settings, as
`.env.example` shows them, and for the data folder it means the per-user default; any other
setting with a default of its own must not be empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "slate"


def default_data_dir() -> Path:
    """The per-user data folder: ~/.local/share/slate on Linux (or $XDG_DATA_HOME/slate),
    ~/Library/Application Support/slate on macOS, %LOCALAPPDATA%\\slate on Windows."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SLATE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where projects, renders and cuts live; the same folder wherever Slate is started.
    data_dir: Path = Field(default_factory=default_data_dir)

    # The director. No model → the offline rule-based director.
    llm_model: str | None = Field(
        default=None, description="provider:model, e.g. openai:gpt-4.1-mini"
    )
    llm_api_key: SecretStr | None = None
    llm_base_url: str | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False)

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
    # Regional compile of the transformer's repeated blocks: empty = on with a CUDA GPU (each
    # worker warms up once at start, so no crew render pays for compilation), never on a CPU.
    compile: bool | None = None
    # FP8 dynamic quantisation through torchao, on GPUs that support it (finals and drafts).
    fp8: bool = False
    first_block_cache: float | None = Field(default=None, gt=0, lt=1, allow_inf_nan=False)
    # What drives the camera move: the prompt's words, or the previz as a control video (for
    # models that take one, e.g. the VACE presets), followed with this strength (0..2).
    camera_control: Literal["prompt", "previz"] = "prompt"
    control_strength: float = Field(default=1.0, ge=0, le=2, allow_inf_nan=False)
    # LoRAs on every render ("source[:weight.safetensors][@scale][#name],...") and camera LoRAs
    # chosen per shot by its move ("ltx-2", or "dolly in=source@scale,...").
    loras: str = ""
    camera_loras: str = ""
    # Render tiers: "draft" (few steps with a step-distillation LoRA; fast, for review),
    # "final", or "auto" (draft for a first pass when SLATE_DRAFT_LORA is set). SLATE_DRAFT_LORA:
    # one LoRA (as in SLATE_LORAS), "off", or empty for each preset's own draft LoRA when asked.
    quality: Literal["auto", "draft", "final"] = "auto"
    draft_lora: str = ""
    # Candidate portraits for casting: "animatic" (drawn cards, offline) or a text-to-image
    # preset, hub id or folder; empty follows the renderer.
    portrait_model: str = ""

    # --- render farm (issue 12) ---
    # Where renders run: "local" worker threads, or "ray" actors (one per GPU or CPU slot).
    render_backend: Literal["local", "ray"] = "local"
    # Ray cluster: empty starts a local instance (or joins one `ray start` began here); "local"
    # always starts its own; "auto" or "ray://host:port" joins one.
    ray_address: str = ""
    # A folder every farm machine and the bot see at the same path: actors write clips there
    # (it then holds the renders); empty = clips come back through Ray's object store.
    render_shared_dir: Path | None = None
    # --- end render farm ---

    # Discord.
    discord_token: SecretStr | None = None
    discord_dev_guild: int | None = Field(default=None, ge=1, lt=2**64)  # a Discord snowflake
    discord_crew_role: str = Field(default="Crew", max_length=100)
    discord_message_content: bool = False

    # Per-user limits.
    max_open_renders_per_user: int = Field(default=24, ge=1, le=10_000)
    directions_per_minute: int = Field(default=8, ge=1, le=600)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir(cls, value: Any) -> Any:
        if isinstance(value, str):
            return default_data_dir() if not value.strip() else Path(value.strip()).expanduser()
        return value.expanduser() if isinstance(value, Path) else value

    @field_validator(
        "llm_model",
        "llm_api_key",
        "llm_base_url",
        "render_steps",
        "render_width",
        "render_height",
        "first_block_cache",
        "compile",
        "render_shared_dir",
        "discord_token",
        "discord_dev_guild",
        mode="before",
    )
    @classmethod
    def _empty_is_off(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("model", "discord_crew_role", mode="before")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("loras", "camera_loras", "draft_lora")
    @classmethod
    def _lora_list(cls, value: str, info: Any) -> str:
        from render.lora import parse_camera_loras, parse_draft_lora, parse_loras

        where = f"SLATE_{info.field_name.upper()}"
        parsers = {"camera_loras": parse_camera_loras, "draft_lora": parse_draft_lora}
        parsers.get(info.field_name, parse_loras)(value, where)
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.strip() if value is not None else None

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
