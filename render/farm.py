"""The render farm: the pool's slots as Ray actors, one per GPU (or per CPU slot) in a cluster.

The pool keeps deciding everything in the bot's process (who goes next, the cache, joins,
cancellation, events); the farm only renders. Each actor (`FarmWorker`) loads a renderer once per
model and keeps it, renders one job at a time on a thread of its own, and streams back what it
does through a Ray generator: progress (step, total, now and then a preview), then the clip and
poster as bytes (written atomically on the bot's side), or nothing when it wrote them straight
into a folder the bot shares (`shared_folder`). A `cancel` call (actors run with
`max_concurrency` > 1, so it runs beside the render) sets the job's CancelToken, and the renderer
stops at its next step.

`RayExecutor` sizes the farm to the cluster every `rescale_s` seconds: `cluster_resources()`
GPUs (one actor each) or, for CPU slots, CPUs up to `max_workers`; machines that join add actors,
machines that leave take theirs with them. An actor that dies under a job raises `WorkerLost`;
the pool runs the job once more on another actor and the executor starts a replacement.

A GPU actor develops each take (poster, clip, move check) on the CPU while its GPU denoises the
next one, as the local pool's worker does: it says `_Rendered` when denoising ends, and the pool
hands it its next job then. A CPU actor gets its next job then too, but renders it only once the
take before is developed (its one CPU would only be shared): the job waits in the actor, not on a
round trip to the bot. Each actor keeps its encoder and OpenCV within its CPU share
(`cpus_per_worker`), so actors sharing a machine don't all fight over every core; previews cross
the network as glances (`render.types.glance`), never as full frames.

Actors are named in the `slate` namespace (`render-<host>-<pid>-<n>`), so `slate farm status`,
run anywhere that joins the cluster, finds the running bot's workers and what each renders. They
are not detached: they end with the bot. A restarted bot starts new ones and the production
resubmits its open jobs (held in the store under leases); a clip an actor finished is already in
the cache, so nothing renders twice.

ray is imported only when a farm starts: `pip install 'slate[ray]'`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import queue
import socket
import tempfile
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from render.develop import develop, limit_threads
from render.encode import temp_sibling
from render.pool import RendererLoader, RenderJob, WorkerInfo, WorkerLost
from render.types import (
    CancelToken,
    ProgressCallback,
    RenderCancelled,
    Renderer,
    RenderError,
    RenderProgress,
    RenderRequest,
    glance,
)

if TYPE_CHECKING:
    from render.pool import RenderPool

log = logging.getLogger(__name__)

NAMESPACE = "slate"  # every Slate render actor is named here, so any process can list them
ACTOR_PREFIX = "render-"
# What a bot-started Ray says on stderr: errors only (our own log says what the farm does; an
# actor's failure comes back with the job, its traceback in the bot's log).
QUIET: dict[str, Any] = {
    "logging_level": logging.ERROR,
    "log_to_driver": False,
    "include_dashboard": False,
}

MISSING_RAY = (
    "The Ray render farm needs Ray: pip install 'slate[ray]' (or set SLATE_RENDER_BACKEND=local)."
)


class FarmUnavailable(RenderError):
    """Ray is missing or its cluster cannot be reached; `str(error)` says which and what to do."""


# -- what an actor streams back ----------------------------------------------------------------


@dataclass(frozen=True)
class _Progress:
    step: int
    total: int
    preview: Image.Image | None


@dataclass(frozen=True)
class _Rendered:
    """Denoising is over and the take develops now: send the next job."""


@dataclass(frozen=True)
class _Done:
    info: dict[str, Any]
    clip: bytes | None  # None: written straight into the shared folder
    poster: bytes | None


@dataclass(frozen=True)
class _Failed:
    kind: str  # "cancelled", "render", "os", "crash"
    message: str
    errno: int | None = None

    def error(self) -> Exception:
        match self.kind:
            case "cancelled":
                return RenderCancelled(self.message)
            case "render":
                return RenderError(self.message)
            case "os":
                return OSError(self.errno, self.message)
            case _:
                return RuntimeError(f"the farm worker crashed:\n{self.message}")


_Update = _Progress | _Rendered | _Done | _Failed


# -- the actor ---------------------------------------------------------------------------------


class FarmWorker:
    """The body of one farm actor (wrapped with `ray.remote` when the farm starts)."""

    def __init__(
        self,
        load_renderer: RendererLoader,
        index: int,
        *,
        threads: int = 1,
        overlap: bool = False,
    ) -> None:
        limit_threads(threads)  # this actor's CPU share, not every core of its machine
        self._load_renderer = load_renderer
        self._index = index
        self._overlap = overlap
        self._renderers: dict[str, Renderer] = {}
        self._lock = threading.Lock()
        self._denoising = threading.Lock()  # one render on the accelerator at a time
        # One take develops at a time, and the next job is asked for only once the take before
        # is developed: at most two takes' frames in memory.
        self._developing = threading.Lock()
        self._turn = threading.Lock()  # not overlapping: one take at a time, start to end
        self._tokens: dict[str, CancelToken] = {}
        self._cancelled_early: set[str] = set()
        self._job: str | None = None

    def describe(self) -> dict[str, Any]:
        """Where this actor runs and what it holds; also answers "are you alive?"."""
        import ray

        context = ray.get_runtime_context()
        return {
            "pid": os.getpid(),
            "node": context.get_node_id(),
            "host": socket.gethostname(),
            "gpus": [str(gpu) for gpu in ray.get_gpu_ids()],
            "models": sorted(self._renderers),
            "job": self._job,
        }

    def render(
        self, job_id: str, request: RenderRequest, write_to: tuple[str, str] | None
    ) -> Iterator[_Update]:
        """Stream `_Progress` updates, then one `_Done` or `_Failed`."""
        token = CancelToken()
        with self._lock:
            self._tokens[job_id] = token
            if job_id in self._cancelled_early:
                self._cancelled_early.discard(job_id)
                token.cancel()
        updates: queue.SimpleQueue[_Update] = queue.SimpleQueue()
        thread = threading.Thread(
            target=self._render,
            args=(job_id, request, token, updates, write_to),
            name=f"render-{job_id}",
            daemon=True,
        )
        thread.start()
        try:
            while True:
                update = updates.get()
                yield update
                if not isinstance(update, _Progress | _Rendered):
                    return
        finally:
            with self._lock:
                self._tokens.pop(job_id, None)

    def cancel(self, job_id: str) -> None:
        with self._lock:
            token = self._tokens.get(job_id)
            if token is None:
                self._cancelled_early.add(job_id)  # the render call has not arrived yet
            else:
                token.cancel()

    def _render(
        self,
        job_id: str,
        request: RenderRequest,
        token: CancelToken,
        updates: queue.SimpleQueue[_Update],
        write_to: tuple[str, str] | None,
    ) -> None:
        def progress(update: RenderProgress) -> None:
            updates.put(
                _Progress(update.step, update.total, update.preview and glance(update.preview))
            )

        try:
            # Not overlapping, a take renders only once the one before is developed; its job
            # was still sent early (`_Rendered`), so no round trip to the bot comes between.
            with contextlib.nullcontext() if self._overlap else self._turn:
                with self._denoising:
                    self._job = job_id
                    try:
                        renderer = self._renderers.get(request.model)
                        if renderer is None:
                            renderer = self._load_renderer(request.model, self._index)
                            self._renderers[request.model] = renderer
                        result = renderer.render(request, progress, token)
                    finally:
                        self._job = None
                with self._developing:
                    if token.cancelled:
                        raise RenderCancelled("The render was cancelled.")
                    updates.put(_Rendered())
                    if write_to is not None:
                        info = develop(request, result, Path(write_to[0]), Path(write_to[1]))
                        updates.put(_Done(info, None, None))
                        return
                    with tempfile.TemporaryDirectory(prefix="slate-farm-") as folder:
                        clip, poster = Path(folder) / "clip.mp4", Path(folder) / "poster.png"
                        info = develop(request, result, clip, poster)
                        updates.put(_Done(info, clip.read_bytes(), poster.read_bytes()))
        except RenderCancelled as error:
            updates.put(_Failed("cancelled", str(error)))
        except RenderError as error:
            updates.put(_Failed("render", str(error)))
        except OSError as error:
            updates.put(_Failed("os", error.strerror or str(error), error.errno))
        except BaseException:
            updates.put(_Failed("crash", traceback.format_exc()))


# -- the bot's side ----------------------------------------------------------------------------


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary sibling and rename, so `path` is either absent or whole."""
    tmp = temp_sibling(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(eq=False)  # each slot is itself: hashed and compared by identity
class FarmSlot:
    """One actor, as the pool sees it. It takes its next job when a take's denoising ends, so it
    holds two jobs for a moment: one developing, the next denoising or waiting its turn."""

    actor: Any
    index: int
    where: dict[str, Any]
    shared_folder: bool
    lost: asyncio.Event  # the executor's: set when a worker dies, to replace it at once
    name: str = ""
    overlaps: bool = field(default=True, init=False)  # the pool passes `released=`
    retired: bool = False
    models: set[str] = field(default_factory=set, init=False)  # loaded there, kept
    _tokens: dict[str, CancelToken] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.name = self.name or f"ray-{self.index}"

    async def render(
        self,
        job: RenderJob,
        clip: Path,
        poster: Path,
        token: CancelToken,
        progress: ProgressCallback,
        released: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        from ray.exceptions import NodeDiedError, ObjectLostError, RayActorError, WorkerCrashedError

        write_to = (str(clip), str(poster)) if self.shared_folder else None
        self._tokens[job.job_id] = token
        try:
            stream = self.actor.render.remote(job.job_id, job.request, write_to)
            if token.cancelled:
                self.interrupt()
            async for ref in stream:
                update: _Update = await ref
                self.models.add(job.request.model)  # rendering: its renderer is loaded
                if isinstance(update, _Progress):
                    progress(RenderProgress(update.step, update.total, update.preview))
                elif isinstance(update, _Rendered):
                    if released is not None:
                        released()
                elif isinstance(update, _Failed):
                    raise update.error()
                else:
                    if update.clip is not None and update.poster is not None:
                        await asyncio.to_thread(
                            _write_clip, clip, update.clip, poster, update.poster
                        )
                    return update.info
        except (RayActorError, WorkerCrashedError, NodeDiedError, ObjectLostError) as error:
            self.retired = True
            self.lost.set()
            raise WorkerLost(
                f"{self.name} on node {str(self.where.get('node', '?'))[:8]} died"
            ) from error
        finally:
            self._tokens.pop(job.job_id, None)
        raise WorkerLost(f"{self.name} stopped without a clip")

    def interrupt(self) -> None:
        for job_id, token in list(self._tokens.items()):
            if token.cancelled:
                self.actor.cancel.remote(job_id)


def _write_clip(clip: Path, clip_bytes: bytes, poster: Path, poster_bytes: bytes) -> None:
    clip.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(poster, poster_bytes)
    write_atomically(clip, clip_bytes)  # last: an existing clip marks the job done


class RayExecutor:
    """Farm slots: one actor per GPU (`gpus_per_worker` > 0) or per CPU slot.

    `address`: "" joins the cluster `ray start` began on this machine or else starts a local Ray
    instance, "local" always starts one of its own, "auto" joins the cluster this machine belongs
    to, "ray://host:port" joins through Ray Client. When Ray is already initialised in this process
    the farm uses it as it is (and leaves it running on close).
    CPU slots are capped at `max_workers` (default: the pool's `workers`); GPU actors at
    `max_workers` if given, else one per GPU in the cluster. `overlap` (default: on for GPU
    actors) develops each take while the next denoises.
    """

    def __init__(
        self,
        address: str = "",
        *,
        gpus_per_worker: float = 0.0,
        cpus_per_worker: float = 1.0,
        max_workers: int | None = None,
        shared_folder: bool = False,
        overlap: bool | None = None,
        rescale_s: float = 10.0,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        if gpus_per_worker < 0 or cpus_per_worker <= 0:
            raise ValueError("a farm worker needs a positive share of a CPU and no negative GPUs")
        self.address = address
        self.gpus_per_worker = gpus_per_worker
        self.cpus_per_worker = cpus_per_worker
        self.max_workers = max_workers
        self.shared_folder = shared_folder
        self.overlap = gpus_per_worker > 0 if overlap is None else overlap
        self.rescale_s = rescale_s
        self._init_options = QUIET | (init_options or {})
        self._tag = f"{socket.gethostname()}-{os.getpid()}"  # this bot's actors, by name
        self._owns_ray = False
        self._pool: RenderPool | None = None
        self._actor_class: Any = None
        self._actor_options: dict[str, Any] = {}
        self._slots: list[FarmSlot] = []
        self._pending: dict[int, Any] = {}  # index -> actor not yet placed
        self._spawns: set[asyncio.Task[None]] = set()
        self._indexes = iter(range(10**9))
        self._shrinking = 0  # rescales in a row that found more workers than room for them
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # set once the farm has at least one worker

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, pool: RenderPool) -> None:
        ray = _ray()
        self._pool = pool
        if not ray.is_initialized():
            _connect(self.address or None, self._init_options)
            self._owns_ray = True
        self._actor_class = ray.remote(FarmWorker)
        self._actor_options = dict(
            num_cpus=self.cpus_per_worker,
            num_gpus=self.gpus_per_worker,
            max_concurrency=6,  # cancel, describe and a developing take run beside a render
            max_restarts=0,  # a dead actor is replaced by a fresh one, not restarted under a job
        )
        self._rescale()
        if not self._pending:
            kind = "GPU" if self.gpus_per_worker else "CPU"
            log.warning("the Ray cluster has no %s free for a render worker: jobs wait", kind)
        self._task = asyncio.create_task(self._keep_scaled(), name="render-farm-scale")

    async def close(self) -> None:
        import ray

        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._spawns):
            task.cancel()
        await asyncio.gather(*self._spawns, return_exceptions=True)
        for actor in [*(slot.actor for slot in self._slots), *self._pending.values()]:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
        self._slots.clear()
        self._pending.clear()
        if self._owns_ray:
            ray.shutdown()

    # -- status ----------------------------------------------------------------------------

    def target(self) -> int:
        """How many workers the cluster has room for now."""
        import ray

        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        if self.gpus_per_worker:
            fits = math.floor(resources.get("GPU", 0) / self.gpus_per_worker + 1e-9)
            cap = self.max_workers
        else:
            fits = math.floor(resources.get("CPU", 0) / self.cpus_per_worker + 1e-9)
            cap = self.max_workers or (self._pool.worker_count if self._pool else 1)
        return int(max(0, min(fits, cap) if cap is not None else fits))

    def workers(self) -> list[WorkerInfo]:
        """The live actors: machine (host and Ray node), GPU or CPU slot, models, job, pid."""
        pool = self._pool
        return [
            _worker_info(
                slot.name, slot.where, slot.models, pool.job_on(slot) if pool is not None else None
            )
            for slot in self._slots
            if not slot.retired
        ]

    # -- scaling ---------------------------------------------------------------------------

    async def _keep_scaled(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.rescale_s)
            self._poke.clear()
            try:
                await self._check_idle()
                self._rescale()
            except Exception:
                log.exception("could not rescale the render farm")

    async def _check_idle(self) -> None:
        """Drop idle actors that no longer answer (their machine left)."""
        from ray.exceptions import RayError

        assert self._pool is not None
        for slot in list(self._slots):
            if slot.retired or self._pool.busy(slot):
                continue
            try:
                await asyncio.wait_for(slot.actor.describe.remote(), 10)
            except (RayError, TimeoutError) as error:
                log.warning("render farm worker %s is gone: %s", slot.name, error)
                self._pool.retire_slot(slot)

    def _rescale(self) -> None:
        import ray

        pool = self._pool
        assert pool is not None
        for slot in [s for s in self._slots if s.retired and not pool.busy(s)]:
            self._slots.remove(slot)
            with contextlib.suppress(Exception):
                ray.kill(slot.actor, no_restart=True)
        live = [slot for slot in self._slots if not slot.retired]
        have, want = len(live) + len(self._pending), self.target()
        for _ in range(want - have):
            index = next(self._indexes)
            name = f"{ACTOR_PREFIX}{self._tag}-{index}"
            options = self._actor_options | {"name": name, "namespace": NAMESPACE}
            actor = self._actor_class.options(**options).remote(
                pool.load_renderer,
                index,
                threads=max(1, math.floor(self.cpus_per_worker)),
                overlap=self.overlap,
            )
            self._pending[index] = actor
            task = asyncio.create_task(self._placed(index, actor), name=f"render-farm-{index}")
            self._spawns.add(task)
            task.add_done_callback(self._spawns.discard)
        surplus = have - want
        for index in list(self._pending)[::-1][: max(surplus, 0)]:  # never placed: no job
            ray.kill(self._pending.pop(index), no_restart=True)
            surplus -= 1
        # Only idle workers leave, and only when the cluster has looked smaller on two checks
        # running: its resource view dips for a moment while a machine leaves, and a worker that
        # was on that machine dies with it anyway. A busy worker finishes its job first.
        self._shrinking = self._shrinking + 1 if surplus > 0 else 0
        if self._shrinking >= 2:
            for slot in [slot for slot in live if not pool.busy(slot)][:surplus]:
                log.info("render farm: %s leaves (the cluster shrank)", slot.name)
                pool.retire_slot(slot)

    async def _placed(self, index: int, actor: Any) -> None:
        from ray.exceptions import RayError

        assert self._pool is not None
        try:
            where = await actor.describe.remote()
        except RayError as error:
            log.warning("render farm worker ray-%d could not start: %s", index, error)
            self._pending.pop(index, None)
            return
        if self._pending.pop(index, None) is None:
            return  # killed while it was being placed
        slot = FarmSlot(actor, index, where, self.shared_folder, self._poke)
        self._slots.append(slot)
        log.info(
            "render farm: %s joins on node %s (GPUs %s)",
            slot.name,
            where["node"][:8],
            where["gpus"],
        )
        self._pool.add_slot(slot)
        self.ready.set()


def _worker_info(
    name: str, where: dict[str, Any], models: Iterable[str], job_id: str | None
) -> WorkerInfo:
    gpus = [str(gpu) for gpu in where.get("gpus", ())]
    host, node = str(where.get("host", "?")), str(where.get("node", ""))
    return WorkerInfo(
        name,
        f"{host} ({node[:8]})",
        f"GPU {','.join(gpus)}" if gpus else "CPU",
        tuple(sorted(models)),
        job_id,
        int(where.get("pid", 0)),
    )


# -- another process's view: `slate farm status` -------------------------------------------------


def _ray() -> Any:
    """The ray module, or FarmUnavailable saying how to install it."""
    try:
        import ray
    except ImportError:
        raise FarmUnavailable(MISSING_RAY) from None
    return ray


def _connect(address: str | None, options: dict[str, Any]) -> None:
    """Start or join Ray in the `slate` namespace; FarmUnavailable naming the cluster when it
    can't be reached (the error it raised is the cause)."""
    try:
        with warnings.catch_warnings():
            # Ray Client warns of a timeout before raising it: the one line people get says it.
            warnings.simplefilter("ignore", UserWarning)
            _ray().init(address=address, namespace=NAMESPACE, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "a local instance"
        raise FarmUnavailable(f"The Ray cluster ({where}) cannot be reached: {error}") from error


def join(address: str) -> bool:
    """Join the Ray cluster a bot with SLATE_RAY_ADDRESS=`address` renders on. False when there
    is nothing to join: `address` "" and no Ray running on this machine (a bot would start its
    own), or "local". Raises FarmUnavailable when a cluster named by `address` can't be reached,
    as the bot would. Blocking."""
    if _ray().is_initialized():
        return True
    if address == "local":
        return False  # a bot with "local" starts an instance of its own, seen by nobody else
    try:
        _connect(address or "auto", QUIET)
    except FarmUnavailable as error:
        if not address and isinstance(error.__cause__, ConnectionError):
            return False
        raise
    return True


async def running_workers(timeout_s: float = 10.0) -> list[WorkerInfo]:
    """Every Slate render actor alive in the joined cluster (any bot's), and the job it denoises
    now; one that does not answer within `timeout_s` is left out. Ray must be initialised."""
    import ray
    from ray.exceptions import RayError

    names = sorted(
        entry["name"]
        for entry in ray.util.list_named_actors(all_namespaces=True)
        if entry["namespace"] == NAMESPACE and entry["name"].startswith(ACTOR_PREFIX)
    )

    async def describe(name: str) -> WorkerInfo | None:
        try:
            actor = ray.get_actor(name, namespace=NAMESPACE)
            where: dict[str, Any] = await asyncio.wait_for(actor.describe.remote(), timeout_s)
        except (RayError, TimeoutError, ValueError):
            return None  # gone since it was listed, or its machine does not answer
        return _worker_info(name, where, where.get("models", ()), where.get("job"))

    rows = await asyncio.gather(*(describe(name) for name in names))
    return [row for row in rows if row is not None]
