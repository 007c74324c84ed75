"""The offline director: a deterministic, rule-based `Director` for when no LLM is configured.

It plans a shot list from a written brief and takes plain revision directions ("shot 3: close-up",
"swap 1 and 2", "make it noir") using regexes and the vocabulary alias tables: no model, no
network. Every change goes through `apply_edit`, so the domain validates its work like anyone
else's, and a direction is checked in full in memory before any part of it is applied.

Modules: `_text` (shared parsing: shot references, numbers, ordinals, film-term scanning),
`_grammar` (grammar notes, fitting durations), `_plan` (brief → shot list), `_revise`
(directions → edits) and `_director` (the `OfflineDirector` that ties them together).
"""

from agents.offline._director import FOOTER, OfflineDirector
from agents.offline._grammar import fit_durations, grammar_notes

__all__ = ["FOOTER", "OfflineDirector", "fit_durations", "grammar_notes"]
