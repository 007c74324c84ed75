"""Post-production: takes as the crew sees them, approvals, the final cut and the storyboard."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from bot.camera import RenderDefaults, request_for
from bot.production.checks import clip, missing_takes
from bot.production.models import Approval, Cut, TakeCard
from bot.production.renders import Renders
from render.types import InvalidRenderRequest, RenderRequest, Tier
from studio.errors import InvalidValue
from studio.models import Shot, ShotList
from studio.records import Project, Take
from studio.store import Store


class Post:
    def __init__(self, store: Store, renders: Renders, cuts_dir: Path) -> None:
        self.store = store
        self.renders = renders
        self.cuts_dir = cuts_dir

    async def take_card(self, project: Project, take_id: int, shot_number: str = "?") -> TakeCard:
        """`shot_number`: what to call the shot if it has been removed since."""
        take = await self.store.take(project.id, take_id)
        siblings = [t.id for t in await self.store.takes(project.id, take.shot_uid)]
        approved = (await self.store.approvals(project.id)).get(take.shot_uid) == take.id
        shot = next((s for s in project.shotlist.shots if s.uid == take.shot_uid), None)
        number = shot.number if shot is not None else shot_number
        return TakeCard(take, shot, number, siblings.index(take.id) + 1, approved)

    async def approve(
        self, project: Project, user: str, shot: str, take_id: int | None = None
    ) -> Approval:
        target = project.shotlist.shot(shot)
        if take_id is None:
            takes = await self.store.takes(project.id, target.uid)
            if not takes:
                raise InvalidValue(f"Shot {target.number} has no take yet: render it first.")
            take = takes[-1]
        else:
            take = await self.store.take(project.id, take_id)
            if take.shot_uid != target.uid:
                raise InvalidValue(
                    f"Take {take_id} belongs to another shot, not shot {target.number}."
                )
        before = (await self.store.approvals(project.id)).get(target.uid)
        after = await self.store.approve(project.scope, project.id, target.uid, take.id, user)
        approvals = await self.store.approvals(project.id)
        shots = after.shotlist.shots
        return Approval(
            await self.take_card(after, take.id),
            before if before != take.id else None,
            sum(1 for s in shots if s.uid in approvals),
            len(shots),
        )

    async def chosen_takes(self, project: Project) -> list[Take | None]:
        """Each shot's take for the cut: the approved one, else the newest of its current look,
        else its newest — a take whose clip is still on disk before one whose clip is gone."""
        approvals = await self.store.approvals(project.id)
        takes = await self.store.takes(project.id)
        on_disk = await asyncio.to_thread(lambda: {t.id for t in takes if Path(t.clip).is_file()})
        chosen: list[Take | None] = []
        for shot in project.shotlist.shots:
            latest = [t for t in takes if t.shot_uid == shot.uid]
            approved = [t for t in latest if t.id == approvals.get(shot.uid)]
            if approved and approved[-1].id in on_disk:
                # The crew's pick (its look needs no new request), or its finished final.
                final = finished(approved[-1], latest)
                chosen.append(final if final is not None and final.id in on_disk else approved[-1])
                continue
            key = self.renders.fingerprint(self.renders.request(project.shotlist, shot))
            current = [t for t in latest if t.fingerprint == key]
            ranked = [approved, current, latest]
            pick = next((c[-1] for c in ranked if c and c[-1].id in on_disk), None)
            chosen.append(pick or next((c[-1] for c in ranked if c), None))
        return chosen

    async def finish_plan(
        self, project: Project
    ) -> tuple[list[tuple[Shot, RenderRequest]], list[Take]]:
        """Final requests for the approved drafts: the same seed, references, first frame and
        camera control as the draft, at the model's final steps, guidance and size. Also the
        project's takes, to skip finals already rendered."""
        from render.diffusers import request_tier, resolve_model

        approvals = await self.store.approvals(project.id)
        takes = await self.store.takes(project.id)
        by_id = {take.id: take for take in takes}
        planned = []
        for shot in project.shotlist.shots:
            take = by_id.get(approvals.get(shot.uid, -1))
            if take is None or take.request.get("tier") != Tier.DRAFT:
                continue
            draft = _request_of(take)
            if draft.model == "animatic":
                final = replace(draft, tier=Tier.FINAL)
            else:
                final = request_tier(draft, resolve_model(draft.model)[1], Tier.FINAL)
            planned.append((shot, final))
        if not planned:
            raise InvalidValue(
                "No approved draft to finish: approve the draft takes you want, then /finish."
            )
        return planned, takes

    async def mismatched(self, project: Project) -> list[str]:
        """Shots whose newest take's measured move is not the move asked for."""
        takes = await self.store.takes(project.id)
        newest = {take.shot_uid: take for take in takes}  # ordered by id: the last one wins
        numbers = []
        for shot in project.shotlist.shots:
            motion = newest[shot.uid].info.get("motion") if shot.uid in newest else None
            if isinstance(motion, dict) and motion.get("matches") is False:
                numbers.append(shot.number)
        return numbers

    async def check_cut(self, project: Project) -> list[Take]:
        """The takes the cut would join, or the reason it can't be made yet."""
        shots = project.shotlist.shots
        if not shots:
            raise InvalidValue("There are no shots to cut.")
        takes = await self.chosen_takes(project)
        missing_takes([shot.number for shot, take in zip(shots, takes, strict=True) if not take])
        from render.encode import clip_problem  # PyAV: only when a cut is asked for

        ready = [take for take in takes if take is not None]
        problems = await asyncio.to_thread(lambda: [clip_problem(Path(t.clip)) for t in ready])
        lost = [
            f"shot {shot.number}'s clip {problem} ({take.clip})"
            for shot, take, problem in zip(shots, ready, problems, strict=True)
            if problem
        ]
        if lost:
            numbers = ",".join(shot.number for shot, p in zip(shots, problems, strict=True) if p)
            raise InvalidValue(
                clip(f"Can't cut yet: {'; '.join(lost)}. Render again: /render {numbers}.", 1000)
            )
        return ready

    async def cut(self, project: Project) -> Cut:
        """Join each shot's chosen take, in order, into the final cut with its timeline and sheet."""
        from render.cut import CutEntry, SheetEntry, contact_sheet, final_cut, write_timeline

        takes = await self.check_cut(project)
        shots = project.shotlist.shots
        approved = frozenset((await self.store.approvals(project.id)).values())
        out = self.cuts_dir / f"project-{project.id}"
        requests = [_request_of(take) for take in takes]
        entries = [
            CutEntry(
                Path(take.clip),
                request.duration,
                f"Shot {shot.number}",
                {
                    "shot": shot.number,
                    "uid": shot.uid,
                    "take": take.id,
                    "seed": take.seed,
                    "model": take.model,
                    "prompt": request.prompt,
                    "size": shot.size.value,
                    "movement": shot.move_label,
                    "action": shot.description,
                },
            )
            for shot, take, request in zip(shots, takes, requests, strict=True)
        ]
        sheet = [
            SheetEntry(
                Path(take.poster),
                shot.number,
                shot.size.abbreviation,
                shot.move_label,
                shot.description,
            )
            for shot, take in zip(shots, takes, strict=True)
        ]

        def build() -> Cut:
            out.mkdir(parents=True, exist_ok=True)
            film = final_cut([entry.clip for entry in entries], out / "final-cut.mp4")
            timeline = write_timeline(entries, out / "final-cut.otio", fps=requests[0].fps)
            board = contact_sheet(sheet, out / "contact-sheet.png")
            drafts = tuple(
                shot.number
                for shot, take in zip(shots, takes, strict=True)
                if take.request.get("tier") == Tier.DRAFT
            )
            return Cut(film, timeline, board, takes, approved, drafts)

        return await asyncio.to_thread(build)

    async def storyboard(self, project: Project) -> Path:
        """A contact sheet of the current shot list: rendered posters where there are takes,
        animatic key frames for the rest, so a board exists before anything is rendered."""
        from render.animatic import AnimaticRenderer
        from render.cut import SheetEntry, contact_sheet

        shotlist: ShotList = project.shotlist
        if not shotlist.shots:
            raise InvalidValue("There are no shots to board.")
        takes = await self.chosen_takes(project)
        defaults = RenderDefaults()
        out = self.cuts_dir / f"project-{project.id}" / "storyboard.png"

        def build() -> Path:
            entries = []
            animatic = AnimaticRenderer()
            for shot, take in zip(shotlist.shots, takes, strict=True):
                if take is not None:
                    image: Any = Path(take.poster)
                else:
                    request = request_for(shotlist, shot, defaults, images=self.renders.images)
                    frames = animatic.render(replace(request, frames=1)).frames
                    image = Image.fromarray(frames[0])
                entries.append(
                    SheetEntry(
                        image,
                        shot.number,
                        shot.size.abbreviation,
                        shot.move_label,
                        shot.description,
                    )
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            return contact_sheet(entries, out)

        return await asyncio.to_thread(build)


def finished(draft: Take, takes: list[Take]) -> Take | None:
    """The newest final of an approved draft: the same shot and seed, rendered at FINAL."""
    finals = [
        t
        for t in takes
        if t.shot_uid == draft.shot_uid
        and t.seed == draft.seed
        and t.id > draft.id
        and t.request.get("tier", Tier.FINAL) == Tier.FINAL
    ]
    return finals[-1] if draft.request.get("tier") == Tier.DRAFT and finals else None


def _request_of(take: Take) -> RenderRequest:
    try:
        return RenderRequest.from_data(take.request)
    except InvalidRenderRequest as error:
        raise InvalidValue(f"Take #{take.id} can't be read: {error}") from None
