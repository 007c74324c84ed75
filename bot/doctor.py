"""`slate doctor`: check what Slate needs, one line each, with the fix when something is wrong.

Every check returns `Check`s and never raises: a network that can't be reached, a missing
package or a broken GPU stack is a line of the report, not a traceback. Secrets are never shown.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.settings import Settings

log = logging.getLogger(__name__)

# The least GPU memory (GiB) each preset renders in, with SLATE_CPU_OFFLOAD and SLATE_VAE_TILING
# on (the models' published minimums); without offload they need about twice as much.
PRESET_VRAM_GIB = {
    "wan2.1-1.3b": 8,
    "wan2.1-vace-1.3b": 8,
    "wan2.2-5b": 24,
    "ltx-distilled": 24,
    "cogvideox-2b": 6,
}
# Below this much free disk the data folder is reported: a 5 s clip is a few MB, a cut more.
LOW_DISK_GIB = 2.0
NETWORK_TIMEOUT_S = 15.0
PACKAGES = (
    "slate",
    "discord.py",
    "langchain",
    "pydantic",
    "torch",
    "diffusers",
    "transformers",
    "huggingface_hub",
    "av",
    "opentimelineio",
)


class Mark(Enum):
    OK = "✓"
    PROBLEM = "✗"
    OFF = "-"  # not configured, and not needed until it is


@dataclass(frozen=True)
class Check:
    mark: Mark
    text: str
    fix: str = ""

    def lines(self) -> list[str]:
        first = f"{self.mark.value} {self.text}"
        return [first, f"    fix: {self.fix}"] if self.fix else [first]


def ok(text: str) -> Check:
    return Check(Mark.OK, text)


def problem(text: str, fix: str) -> Check:
    return Check(Mark.PROBLEM, text, fix)


def off(text: str) -> Check:
    return Check(Mark.OFF, text)


# --- the checks --------------------------------------------------------------------------------


def check_python() -> list[Check]:
    # Slate doesn't import on older Pythons; the line says which interpreter runs it.
    version = ".".join(str(part) for part in sys.version_info[:3])
    return [ok(f"Python {version} ({sys.executable})")]


def check_packages() -> list[Check]:
    found, missing = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    checks = [ok("packages: " + ", ".join(found))]
    if missing:
        checks.append(
            problem(
                f"missing packages: {', '.join(missing)}",
                "pip install -e . (in Slate's folder, inside its virtual environment)",
            )
        )
    return checks


def check_gpu(settings: Settings) -> list[Check]:
    try:
        import torch
    except Exception as error:  # ImportError, or a broken CUDA library underneath
        return [
            problem(
                f"torch can't be imported ({type(error).__name__})",
                "install torch: see the README's 'The video model' section",
            )
        ]
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only build"
    try:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception as error:  # a driver that doesn't match the build
        return [
            problem(
                f"torch {torch.__version__} ({build}): CUDA fails ({type(error).__name__})",
                "update the NVIDIA driver or install the torch build that matches it",
            )
        ]
    diffusers = settings.renderer == "diffusers"
    if count == 0:
        text = f"torch {torch.__version__} ({build}), no CUDA GPU"
        if not diffusers:
            return [ok(f"{text}: fine for the animatic renderer")]
        return [
            problem(
                f"{text}: the diffusion model would render on the CPU (hours per shot)",
                "on a machine with an NVIDIA GPU install a CUDA build of torch (README: "
                "'The video model'), or use SLATE_RENDERER=animatic",
            )
        ]
    props = [torch.cuda.get_device_properties(index) for index in range(count)]
    names = ", ".join(f"{p.name} ({p.total_memory / 2**30:.0f} GiB)" for p in props)
    checks = [ok(f"torch {torch.__version__} ({build}), {count} GPU: {names}")]
    need = PRESET_VRAM_GIB.get(settings.model)
    if need is not None:
        memory = min(p.total_memory for p in props) / 2**30
        if memory >= 2 * need:
            checks.append(ok(f"{settings.model} fits in {memory:.0f} GiB"))
        elif memory >= need:
            checks.append(
                Check(
                    Mark.OK,
                    f"{settings.model} fits in {memory:.0f} GiB with offload",
                    "set SLATE_CPU_OFFLOAD=true and SLATE_VAE_TILING=true if a render runs "
                    "out of memory",
                )
            )
        else:
            checks.append(
                problem(
                    f"{settings.model} needs about {need} GiB of GPU memory; this GPU has "
                    f"{memory:.0f}",
                    "choose a smaller preset (SLATE_MODEL=cogvideox-2b or wan2.1-1.3b) with "
                    "SLATE_CPU_OFFLOAD=true",
                )
            )
    return checks


def model_source(model: str) -> tuple[str, bool]:
    """What `model` loads from, and whether that is a local folder (else a hub id)."""
    from render.diffusers import resolve_model

    source, _ = resolve_model(model)
    return source, Path(source).is_dir()


def cached_snapshot(repo_id: str) -> Path | None:
    """The local snapshot of a hub model, or None when it is not (fully) cached."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not cached, or a partial download
        return None


def check_video_model(settings: Settings) -> list[Check]:
    model = settings.model
    try:
        source, local = model_source(model)
    except Exception as error:  # ModelLoadError: an unknown name or a missing folder
        return [problem(f"video model {model}: {error}", "set SLATE_MODEL to a preset or folder")]
    if local:
        if (Path(source) / "model_index.json").is_file():
            return [ok(f"video model {model}: local folder {source}")]
        return [
            problem(
                f"video model {model}: {source} has no model_index.json",
                "point SLATE_MODEL at a folder saved with diffusers' save_pretrained",
            )
        ]
    snapshot = cached_snapshot(source)
    using = settings.renderer == "diffusers"
    if snapshot is not None:
        return [ok(f"video model {model} ({source}) is downloaded: {snapshot}")]
    if not using:
        return [
            off(
                f"video model {model} not downloaded (the animatic renderer needs none; "
                f"for real renders: slate models pull {model})"
            )
        ]
    return [
        problem(
            f"video model {model} ({source}) is not in the local Hugging Face cache",
            f"slate models pull {model} (once, online), or set SLATE_MODEL to a local folder",
        )
    ]


def check_encoding() -> list[Check]:
    try:
        import av
        import numpy as np

        from render.encode import encode_clip, probe

        with tempfile.TemporaryDirectory(prefix="slate-doctor-") as folder:
            clip = Path(folder) / "check.mp4"
            frames = np.zeros((8, 64, 64, 3), dtype=np.uint8)
            frames[:, 16:48, 16:48] = (200, 40, 40)
            encode_clip(frames, 8, clip)
            info = probe(clip)
        if info.frames != 8 or info.codec != "h264":
            raise RuntimeError(f"wrote {info.frames} {info.codec} frames instead of 8 h264")
    except Exception as error:
        return [
            problem(
                f"video encoding fails ({type(error).__name__}: {error})",
                "reinstall PyAV with its bundled FFmpeg: pip install --force-reinstall av",
            )
        ]
    return [ok(f"PyAV {av.__version__} encodes H.264")]


async def check_data_folder(settings: Settings) -> list[Check]:
    folder = settings.data_dir.expanduser().resolve()
    fix = "set SLATE_DATA_DIR to a folder you can write (empty: the per-user data folder)"
    try:
        await asyncio.to_thread(_probe_writable, folder)
    except OSError as error:
        return [problem(f"data folder {folder} is not writable ({error.strerror or error})", fix)]
    free = shutil.disk_usage(folder).free / 2**30
    checks = [ok(f"data folder {folder} is writable, {free:.1f} GiB free")]
    if free < LOW_DISK_GIB:
        checks = [problem(f"data folder {folder}: only {free:.1f} GiB free", "free some space")]
    backups = await _backups_dir(settings)
    if backups is None:
        checks.append(ok("no projects yet: the database and its daily backups start with one"))
    else:
        count = len(list(backups.glob("*"))) if backups.is_dir() else 0
        checks.append(ok(f"database backups in {backups} ({count} kept)"))
    return checks


def _probe_writable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".slate-doctor-"):
        pass


async def _backups_dir(settings: Settings) -> Path | None:
    """Where the store keeps its backups; the store is opened only when it already exists, so
    the doctor creates no database."""
    if not settings.database.is_file():
        return None
    from studio.store import Store

    try:
        store = await Store.open(settings.database)
    except Exception:
        log.debug("could not open the store", exc_info=True)
        return None
    try:
        return store.backups_dir
    finally:
        await store.close()


async def check_llm(settings: Settings) -> list[Check]:
    spec = settings.llm_model
    if spec is None:
        return [off("director model: not set; the offline rule-based director plans (offline)")]
    from langchain_core.tools import tool

    from agents.chat_model import make_chat_model
    from studio.errors import SlateError

    @tool
    def mark_shot(number: int, size: str) -> str:
        """Record the size of one shot of the shot list."""
        return f"shot {number}: {size}"

    try:
        chat = make_chat_model(
            spec,
            temperature=0,
            api_key=settings.llm_api_key,
            base_url=settings.llm_base_url,
            timeout=min(settings.llm_timeout_s, NETWORK_TIMEOUT_S),
        )
    except SlateError as error:  # its messages never quote the key
        return [
            problem(f"director model {spec}: {error}", "see the README: 'The director's model'")
        ]
    started = time.perf_counter()
    try:
        reply = await asyncio.wait_for(
            chat.bind_tools([mark_shot]).ainvoke(
                "Call mark_shot once with number 1 and size 'close-up'. Reply with nothing else."
            ),
            NETWORK_TIMEOUT_S + 5,
        )
    except Exception as error:
        where = f" at {settings.llm_base_url}" if settings.llm_base_url else ""
        return [
            problem(
                f"director model {spec}{where} unreachable or refused ({_why(error)})",
                "check SLATE_LLM_BASE_URL, SLATE_LLM_API_KEY and the model name; is the "
                "server running?",
            )
        ]
    seconds = time.perf_counter() - started
    calls = [call for call in getattr(reply, "tool_calls", []) if call.get("name") == "mark_shot"]
    if not calls:
        return [
            problem(
                f"director model {spec} answered but made no tool call",
                "the director edits the shot list through tool calls: choose a model that "
                "supports them (README: 'The director's model')",
            )
        ]
    return [ok(f"director model {spec}: a tool-calling round trip in {seconds:.1f} s")]


def _why(error: BaseException) -> str:
    """An error's type and HTTP status, never its message (which can quote credentials)."""
    status = getattr(error, "status_code", None) or getattr(error, "status", None)
    name = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
    return f"{name}, HTTP {status}" if isinstance(status, int) else name


async def check_discord(settings: Settings) -> list[Check]:
    if settings.discord_token is None:
        return [off("Discord: SLATE_DISCORD_TOKEN not set (needed only for slate bot)")]
    import discord

    from bot.discord import invite_url

    token = settings.discord_token.get_secret_value().strip()
    client = discord.Client(intents=discord.Intents.none())
    try:
        await asyncio.wait_for(client.login(token), NETWORK_TIMEOUT_S)
        app = await asyncio.wait_for(client.application_info(), NETWORK_TIMEOUT_S)
    except discord.LoginFailure:
        return [
            problem(
                "Discord rejected the bot token",
                "Developer Portal → your application → Bot → Reset Token, then set "
                "SLATE_DISCORD_TOKEN",
            )
        ]
    except (OSError, TimeoutError, discord.HTTPException) as error:
        return [
            problem(
                f"Discord unreachable ({_why(error)})",
                "check the network (and any proxy), then run slate doctor again",
            )
        ]
    finally:
        await client.close()
    checks = [ok(f"Discord: token valid for {app.name} (application {app.id})")]
    flags = app.flags
    content = flags.gateway_message_content or flags.gateway_message_content_limited
    if settings.discord_message_content and not content:
        checks.append(
            problem(
                "SLATE_DISCORD_MESSAGE_CONTENT is true but the Message Content intent is off",
                "Developer Portal → Bot → Privileged Gateway Intents → Message Content Intent, "
                "or set SLATE_DISCORD_MESSAGE_CONTENT=false",
            )
        )
    elif settings.discord_message_content:
        checks.append(ok("Message Content intent on: every message in a film's thread is read"))
    else:
        checks.append(ok("Message Content intent not used: Slate answers when mentioned"))
    url = invite_url(token)
    if url is not None:
        checks.append(ok(f"invite link: {url}"))
    return checks


# --- the report --------------------------------------------------------------------------------


async def diagnose(settings: Settings) -> list[Check]:
    """Every check, in the order a newcomer meets them."""
    checks: list[Check] = []
    blocking: list[Callable[[], list[Check]]] = [
        check_python,
        check_packages,
        lambda: check_gpu(settings),
        lambda: check_video_model(settings),
        check_encoding,
    ]
    for run in blocking:
        checks += await _guarded(asyncio.to_thread(run))
    for step in (check_data_folder, check_llm, check_discord):
        checks += await _guarded(step(settings))
    return checks


async def _guarded(pending: Awaitable[list[Check]]) -> list[Check]:
    try:
        return await pending
    except Exception as error:  # a check's own bug must not hide the others
        log.debug("a doctor check failed", exc_info=True)
        return [
            problem(f"a check failed unexpectedly ({type(error).__name__})", "run slate -v doctor")
        ]


def report(checks: list[Check], settings: Settings) -> str:
    lines = [f"Slate doctor · renderer {settings.renderer} · model {settings.model}"]
    for check in checks:
        lines += check.lines()
    problems = sum(check.mark is Mark.PROBLEM for check in checks)
    lines.append(
        "All good." if not problems else f"{problems} problem{'s' * (problems > 1)} to fix."
    )
    return "\n".join(lines)


async def run_doctor(settings: Settings, out: Callable[[str], Any] = print) -> int:
    checks = await diagnose(settings)
    out(report(checks, settings))
    return 1 if any(check.mark is Mark.PROBLEM for check in checks) else 0


# --- slate models ------------------------------------------------------------------------------


class PullError(Exception):
    """A model could not be downloaded; the message is one line for the user."""


def pull_model(model: str) -> Path:
    """Download a preset or hub id into the local Hugging Face cache (huggingface_hub shows a
    progress bar per file) and return its folder. Raises `PullError` with one line."""
    try:
        source, local = model_source(model)
    except Exception as error:
        raise PullError(str(error)) from None
    if local:
        return Path(source)  # a folder: nothing to download
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source))
    except Exception:
        cached = cached_snapshot(source)
        if cached is not None:
            return cached
        from huggingface_hub import constants

        why = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else "no network"
        raise PullError(
            f"Could not download {model} ({source}): the Hugging Face hub can't be reached "
            f"({why}). Run this once on a machine that is online, then copy its cache folder, "
            "or set SLATE_MODEL to a local diffusers folder."
        ) from None


def model_rows() -> list[tuple[str, str, bool]]:
    """Each preset: its name, hub id, and whether it is downloaded."""
    from render.diffusers import PRESETS

    return [
        (name, preset.hub_id or "", bool(preset.hub_id and cached_snapshot(preset.hub_id)))
        for name, preset in PRESETS.items()
    ]
