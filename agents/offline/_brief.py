"""Reading a brief: framing lines, the cast, the places and times, and the beats of the story.

A brief is read sentence by sentence with the lexicon (data/lexicon.toml). A framing line ("A
40-second action beat.") sets the length, form and look and is never a shot; a capitalised word
is cast only when it acts as a person; a place word sets a scene only after a preposition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.offline._lexicon import Lexicon, lexicon
from agents.offline._words import AMOUNT, AMOUNT_RE, seconds_in, shown, tidy
from studio.errors import InvalidValue
from studio.styles import find_style
from studio.vocab import IntExt, TimeOfDay

BRIEF_HELP = (
    "Describe the film in a sentence or more, e.g. 'A 30-second noir teaser: Mia walks through "
    "a rain-soaked alley at night and finds a letter.'"
)
_QUOTE_RE = re.compile(r"[\"“][^\"”]{0,300}[\"”]")
_SENTENCE_RE = re.compile(r"(?<=[.!?])[\"”]?\s+|\n+")
_NAME_RE = re.compile(r"\b[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+){0,2}\b")
_TITLE_RE = re.compile(r"\b(?:titled|called)\s*:?\s*[\"“‘'](?P<t>[^\"”’']{1,150})[\"”’']", re.I)
_BRAND_RE = re.compile(r"\bfor\s+(?P<brand>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)")
_SETTING_LEAD_RE = re.compile(r"^(?P<lead>[^:]{1,60}):\s+(?=\S)")
_TARGET_CUE_RE = re.compile(
    rf"{AMOUNT}(?=(?:\s+long\b|\s+in length\b))|\b(?:runtime|running time|length|duration)\s*"
    rf"(?:of|:|is|=)?\s*{AMOUNT.replace('?P<', '?P<r_')}",
    re.IGNORECASE,
)
_PRONOUN_ONE = re.compile(r"\b(?:she|her|he|him|his)\b", re.IGNORECASE)
_PRONOUN_MANY = re.compile(r"\b(?:they|them|their|both|together|each other)\b", re.IGNORECASE)
_ARTICLE_START = re.compile(r"^(?:a|an|the|\d|one|two|three|four|five|six|ten)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    name: str  # as a slugline says it: "ALLEY"
    int_ext: IntExt
    description: str  # "a rain-soaked alley"


@dataclass
class Beat:
    text: str  # the sentence, as a shot describes it
    kind: str  # a coverage kind (data/coverage.toml)
    people: list[str]
    place: Place | None
    time: TimeOfDay


@dataclass
class Reading:
    title: str = ""
    logline: str = ""
    target: float | None = None
    target_said: str = ""
    form: str = "drama"
    style: str | None = None
    cast: dict[str, str] = field(default_factory=dict)  # name → description
    beats: list[Beat] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    # A full stop inside quotes ("Twenty years. One secret.") does not end the sentence.
    guarded = _QUOTE_RE.sub(lambda m: m.group().replace(". ", "\u2024 "), text)
    return [s.replace("\u2024", ".").strip() for s in _SENTENCE_RE.split(guarded) if s.strip()]


def _framing(sentence: str, lex: Lexicon) -> bool:
    """'A 40-second action beat.', 'A music video, 30 seconds.': a line about the film."""
    words = sentence.split()
    return (
        len(words) <= 14
        and bool(_ARTICLE_START.match(sentence) or AMOUNT_RE.match(sentence))
        and lex.form_re.search(AMOUNT_RE.sub(" ", sentence)) is not None
        and lex.place_re.search(sentence) is None
        and not any(lex.beats[k].search(sentence) for k in ("talk", "emotion", "detail"))
    )


def _target(framing: list[str], story: str) -> tuple[float | None, str]:
    """The film's length: an amount in a framing line, or 'N seconds long' / 'runtime: N'."""
    match = next((m for line in framing if (m := AMOUNT_RE.search(line))), None)
    match = match or _TARGET_CUE_RE.search(story)
    if match is None:
        return None, ""
    if match.groupdict().get("r_v") or match.groupdict().get("r_a"):
        inner = AMOUNT_RE.search(match.group())
        assert inner is not None
        match = inner
    said = shown(re.sub(r"\s+", " ", match.group().strip()))
    value = seconds_in(match)
    if value < 0.5:
        raise InvalidValue(f"“{said}” is too short for a film: a shot lasts at least 0.5 s.")
    return value, said


def _style(framing: list[str], text: str, lex: Lexicon) -> str | None:
    """The preset a framing line names (the longest phrase wins), or a clear cue in the story."""
    for line in framing:
        words = re.findall(r"[\w'’-]+", line.lower())
        phrases = [" ".join(words[i : i + n]) for n in (3, 2, 1) for i in range(len(words))]
        for phrase in phrases:
            if (found := find_style(phrase)) or (
                found := find_style(phrase.removesuffix("-style"))
            ):
                return found
    cue = lex.style_cues_re.search(text)
    if cue is None:
        return None
    word = cue.group().lower()
    noir = ("private eye", "femme fatale", "hard-boiled")
    return find_style("noir" if word in noir else word)


def _people(sentences: list[str], lex: Lexicon, not_people: set[str]) -> dict[str, str]:
    """Capitalised words that act as people, with what the brief says they are."""
    cast: dict[str, str] = {}

    def person(name: str, description: str = "") -> None:
        if name.split()[0].lower() in lex.never_people or name in not_people:
            return
        if lex.cities_re.fullmatch(name):
            return
        known = next((c for c in cast if name in c.split() or c in name.split()), None)
        if known is None:
            cast[name] = description
        elif description and not cast[known]:
            cast[known] = description

    for sentence in sentences:
        plain = _QUOTE_RE.sub(" ", sentence)
        for match in _NAME_RE.finditer(plain):
            name = match.group()
            words = name.split()
            while words and words[0].lower() in lex.never_people:
                words.pop(0)
            if not words:
                continue
            start = match.start() + len(name) - len(" ".join(words))
            name = " ".join(words)
            before = plain[:start].rstrip()
            after = plain[match.end() :]
            previous = re.findall(r"[\w'’]+", before.lower())[-2:]
            appositive = re.match(r",\s+(?:a|an)\s+(?P<d>[^,.;]{3,80}),", after)
            pre = re.search(r"\b(?:a|an)\s+(?P<d>[a-z][\w'’ -]{2,60}),$", before)
            acts = re.match(r",?\s+(?:\W*\w+\W+)??(?:\w+ly\s+)?(?P<v>[a-z]+s)\b", after)
            verb = acts.group("v") if acts else ""
            if appositive and not lex.products_re.search(appositive.group("d")):
                person(name, appositive.group("d"))
            elif pre and before.endswith(",") and not lex.products_re.search(pre.group("d")):
                person(name, pre.group("d"))
            elif (
                previous
                and (
                    previous[-1] in lex.person_nouns
                    or previous[-1] in lex.relations
                    or (previous[-1] == "and" and any(c in before for c in cast))
                )
                or lex.honorifics_re.match(name)
                or (verb.endswith("s") and not verb.endswith(("ss", "us")) and len(verb) > 2)
                or verb in ("is", "was", "has", "and", "can", "will")
                and start > 0
            ):
                person(name)
    return cast


def _place(sentence: str, lex: Lexicon) -> Place | None:
    """The scene a sentence plays in: its last place after a preposition, else a city."""
    found = list(lex.place_re.finditer(sentence))
    if found:
        match = found[-1]
        word = match.group("place").lower()
        int_ext = lex.places[word]
        moving_to = re.match(r"(?:to|towards?)\b", match.group().lower())
        if word in lex.buildings and moving_to:
            int_ext = IntExt.EXT  # "returns to her home": the arrival plays outside
        if lex.interior_qualifier_re.match(sentence[match.end() :]):
            int_ext = IntExt.INT  # "the bridge of a starship"
        described = tidy(f"{match.group('adj')}{match.group('place')}")
        return Place(word.upper(), int_ext, described)
    city = lex.cities_re.search(sentence)
    if city:
        return Place(city.group().upper(), IntExt.EXT, city.group())
    return None


def _kind(sentence: str, people: list[str], lex: Lexicon, brands: set[str]) -> str:
    beats = lex.beats
    if beats["packshot"].search(sentence) or re.fullmatch(r"logo\W*", sentence, re.I):
        return "packshot"
    if beats["talk"].search(sentence) and people:
        return "talk"
    if beats["action"].search(sentence):
        return "action"
    if beats["look_up"].search(sentence):
        return "look_up"
    if any(b in sentence for b in brands) or lex.products_re.search(sentence):
        return "product" if brands else "detail"
    if beats["detail"].search(sentence):
        return "detail"
    if beats["emotion"].search(sentence):
        return "emotion"
    return "plain"


def read_brief(brief: str) -> Reading:
    """Read a brief; `InvalidValue` when there is nothing to plan or its length can't be met."""
    lex = lexicon()
    text = re.sub(r"[ \t]+", " ", brief or "").strip()[:20_000]
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 3:
        raise InvalidValue(f"I can't plan from that brief. {BRIEF_HELP}")
    reading = Reading()
    if title := _TITLE_RE.search(text):
        reading.title = title.group("t").strip()
        text = (text[: title.start()] + text[title.end() :]).strip()
    sentences = _sentences(text)
    # "A 30-second noir teaser: Mia walks…" frames its story before the colon.
    lead = _SETTING_LEAD_RE.match(sentences[0]) if sentences else None
    if lead and (_framing(lead.group("lead"), lex) or lex.form_re.search(lead.group("lead"))):
        sentences[:1] = [lead.group("lead"), sentences[0][lead.end() :]]
    framing = [s for s in sentences if _framing(s, lex)]
    story = [s for s in sentences if s not in framing]
    brands = {m.group("brand") for line in framing for m in _BRAND_RE.finditer(line)}
    brands |= {
        m.group(1)
        for m in re.finditer(r"\b([A-Z][\w'’-]+),\s+(?:a|an)\s+[^,.]*", text)
        if lex.products_re.search(m.group())
    }
    reading.target, reading.target_said = _target(framing, " ".join(story))
    reading.style = _style(framing, text, lex)
    forms = [
        lex.forms[m.group().lower()]
        for line in framing
        for m in lex.form_re.finditer(AMOUNT_RE.sub(" ", line))
    ]
    reading.cast = _people(story, lex, brands)
    reading.beats = _beats(story, reading.cast, lex, brands)
    if not reading.beats:
        raise InvalidValue(f"I couldn't find any action in that brief. {BRIEF_HELP}")
    kinds = [b.kind for b in reading.beats]
    framed = next((f for f in forms if f != "drama"), forms[0] if forms else "drama")
    if framed in ("music", "documentary", "product", "action"):
        reading.form = framed
    elif any(b.kind == "talk" and len(b.people) >= 2 for b in reading.beats):
        reading.form = "dialogue"
    elif kinds.count("action") * 2 >= len(kinds):
        reading.form = "action"
    reading.logline = tidy(" ".join(story))[:240]
    if not reading.title:
        prop = lex.props_re.search(" ".join(story))
        reading.title = f"The {prop.group().title()}" if prop else next(iter(reading.cast), "")
    return reading


def _beats(story: list[str], cast: dict[str, str], lex: Lexicon, brands: set[str]) -> list[Beat]:
    beats: list[Beat] = []
    # The film opens where the story first names a place, even after a voice-over line.
    place = next((p for s in story if (p := _place(s, lex)) is not None), None)
    time = TimeOfDay.DAY
    recent: list[str] = []  # who was last on screen, for "she" and "they"
    for sentence in story:
        if (when := lex.time_re.search(sentence)) is not None:
            time = lex.times[when.group().lower()]
        place = _place(sentence, lex) or place
        people = [
            name
            for name in cast
            if any(re.search(rf"\b{re.escape(w)}\b", sentence) for w in name.split())
        ]
        if not people and _PRONOUN_MANY.search(sentence):
            people = recent[-2:]
        elif not people and _PRONOUN_ONE.search(sentence):
            people = recent[-1:]
        elif len(people) == 1 and _PRONOUN_ONE.search(sentence) and len(recent) > 1:
            people = people + [p for p in recent[::-1] if p not in people][:1]  # "asks her"
        recent = [p for p in recent if p not in people] + people
        kind = _kind(sentence, people, lex, brands)
        words = len(re.findall(r"[\w'’]+", sentence))
        verbs = re.findall(r"(?<=\s)[a-z]+(?:s|ed)\b", sentence)
        setting_only = words <= 5 and kind == "plain" and not people and not verbs
        if setting_only and (lex.time_re.search(sentence) or _place(sentence, lex)):
            continue  # "Tokyo at dawn." sets the scene; its establishing shot says it
        beats.append(Beat(sentence.rstrip(":"), kind, people, place, time))
    return beats
