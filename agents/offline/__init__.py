"""The offline director: a deterministic, data-driven `Director` for when no LLM is configured.

Rules are data (data/): a lexicon of places, times, framing words and director idioms; coverage
patterns by what a beat is about; and the revision grammar (Lark). Modules, one job each:
`_words` (numbers in, phrases out), `_lexicon` (the one loader of the data), `_brief` (a brief
read into beats), `_coverage` (beats covered as a shot list), `_revise` (directions parsed into
edits), `_notes` (film-grammar notes, fitting durations) and `_director` (the `OfflineDirector`).
"""

from agents.offline._director import FOOTER, OfflineDirector
from agents.offline._notes import fit_durations, grammar_notes

__all__ = ["FOOTER", "OfflineDirector", "fit_durations", "grammar_notes"]
