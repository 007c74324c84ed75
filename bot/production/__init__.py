"""The production service (`Production`) and the shapes it hands front-ends."""

from bot.production.models import (
    Approval,
    BatchSnapshot,
    Cut,
    DirectorTurn,
    JobSnapshot,
    ProductionEvent,
    QueueEntry,
    RenderBatch,
    TakeCard,
)
from bot.production.service import Production

__all__ = [
    "Approval",
    "BatchSnapshot",
    "Cut",
    "DirectorTurn",
    "JobSnapshot",
    "ProductionEvent",
    "Production",
    "QueueEntry",
    "RenderBatch",
    "TakeCard",
]
