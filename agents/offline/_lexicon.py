"""The one loader of the offline director's data: the lexicon, the coverage patterns and the
revision grammar (agents/offline/data/). Rules are data; this module only reads them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from agents.offline._words import alternation
from studio.vocab import IntExt, TimeOfDay

DATA = Path(__file__).resolve().parent / "data"


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / name).read_text(encoding="utf-8"))


def words_re(words: list[str] | tuple[str, ...], *, case: bool = False) -> re.Pattern[str]:
    """A whole-word pattern for any of `words`, longest first."""
    flags = 0 if case else re.IGNORECASE
    return re.compile(rf"(?<![\w-])(?:{alternation(list(words))})(?![\w-])", flags)


@dataclass(frozen=True)
class Lexicon:
    places: dict[str, IntExt]  # lowercase place word → where it is shot
    buildings: frozenset[str]
    place_re: re.Pattern[str]  # a place word after a preposition (group "place")
    interior_qualifier_re: re.Pattern[str]
    cities_re: re.Pattern[str]
    times: dict[str, TimeOfDay]
    time_re: re.Pattern[str]
    forms: dict[str, str]  # framing word → coverage form
    form_re: re.Pattern[str]
    honorifics_re: re.Pattern[str]
    relations: frozenset[str]
    person_nouns: frozenset[str]  # with the verbs whose object is a person
    never_people: frozenset[str]
    beats: dict[str, re.Pattern[str]]  # beat kind → its words
    products_re: re.Pattern[str]
    props_re: re.Pattern[str]
    style_cues_re: re.Pattern[str]
    sides: dict[str, IntExt]  # "outside" → EXT
    prepositions: frozenset[str]
    gender: dict[str, str]  # a word that marks a person as "female" or "male"
    verbs: frozenset[str]  # single words that act in a beat
    clause_re: re.Pattern[str]  # a strong break between clauses: ";", ":"
    weak_re: re.Pattern[str]  # a weak one: ",", "while", ", then" (group "word")
    borrow: frozenset[str]
    subjects: frozenset[str]
    connective_re: re.Pattern[str]  # a word that opens a beat and shows nothing
    moves: dict[str, str]  # a verb → the camera move that goes with it
    moves_re: re.Pattern[str]


@cache
def lexicon() -> Lexicon:
    data = _toml("lexicon.toml")
    places_data = data["places"]
    places = {w: IntExt.EXT for w in places_data["exterior"]}
    places |= {w: IntExt.INT for w in places_data["interior"]}
    preps = alternation(places_data["prepositions"])
    place_re = re.compile(
        rf"\b(?:{preps})\s+(?:(?:the|a|an|his|her|their|its|my|our)\s+)?"
        rf"(?P<adj>(?:(?!(?:the|a|an|of|and|with|in|at|on|to|from|as|then|while)\b)[\w'’-]+\s+){{0,3}}?)"
        rf"(?P<place>{alternation(list(places))})(?:e?s)?(?![\w-])",  # "the city streets"
        re.IGNORECASE,
    )
    times = {w: TimeOfDay(k) for k, ws in data["time"].items() for w in ws}
    people = data["people"]
    beats = data["beats"]
    clauses = data["clauses"]
    return Lexicon(
        places=places,
        buildings=frozenset(places_data["buildings"]),
        place_re=place_re,
        interior_qualifier_re=re.compile(
            rf"^\s+of\s+(?:a|an|the)\s+(?:[\w-]+\s+)?(?:{alternation(places_data['interior_qualifiers'])})\b",
            re.IGNORECASE,
        ),
        cities_re=words_re(places_data["gazetteer"], case=True),
        times=times,
        time_re=words_re(list(times)),
        forms=data["framing"]["forms"],
        form_re=words_re(list(data["framing"]["forms"])),
        honorifics_re=re.compile(
            rf"\b(?:{alternation(people['honorifics'])})\s+(?P<name>[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+)?)",
            re.IGNORECASE,
        ),
        relations=frozenset(people["relations"]),
        person_nouns=frozenset(people["nouns"] + people["objects"]),
        never_people=frozenset(people["never"]),
        beats={k: words_re(v) for k, v in beats.items() if k not in ("products", "props")},
        products_re=words_re(beats["products"]),
        props_re=words_re(beats["props"]),
        style_cues_re=words_re(data["styles"]["cues"]),
        sides={w: IntExt(v) for w, v in places_data["sides"].items()},
        prepositions=frozenset(places_data["prepositions"]),
        gender={w: g for g, ws in people["gender"].items() for w in ws},
        verbs=frozenset(
            w
            for k, ws in beats.items()
            if k not in ("products", "props")
            for w in ws
            if " " not in w
        ),
        clause_re=re.compile(rf"\s*({alternation(clauses['strong'])})\s+"),
        weak_re=re.compile(
            rf",?\s+(?P<word>{alternation(clauses['borrow'] + clauses['weak'][1:])})\s+|,\s+",
            re.IGNORECASE,
        ),
        borrow=frozenset(clauses["borrow"]),
        subjects=frozenset(clauses["subjects"]),
        moves=data["moves"],
        moves_re=words_re(list(data["moves"])),
        connective_re=re.compile(
            rf"^(?:{alternation(clauses['connectives'])})\b,?\s*", re.IGNORECASE
        ),
    )


@cache
def coverage() -> dict[str, Any]:
    return _toml("coverage.toml")


@cache
def revision_grammar() -> str:
    return (DATA / "revisions.lark").read_text(encoding="utf-8")
