"""Reading a brief: framing lines, the cast, the places and times, and the beats of the story.

A brief is read sentence by sentence with the lexicon (data/lexicon.toml). A framing line ("A
40-second action beat.") sets the length, form and look and is never a shot; a capitalised word
is cast only when it acts as a person; a place word sets a scene only after a preposition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.offline._lexicon import Lexicon, lexicon
from agents.offline._words import AMOUNT, AMOUNT_RE, alternation, seconds_in, shown, tidy
from studio.errors import InvalidValue
from studio.styles import find_style, style_names
from studio.vocab import IntExt, TimeOfDay

BRIEF_HELP = (
    "Describe the film in a sentence or more, e.g. 'A 30-second noir teaser: Mia walks through "
    "a rain-soaked alley at night and finds a letter.'"
)
_QUOTE_RE = re.compile(r"[\"“][^\"”]{0,300}[\"”]")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”])\s+|\n\s*\n\s*")
_SLUGLINE_RE = re.compile(
    r"\b(?P<ie>INT|EXT)\.?(?:/(?:INT|EXT)\.?)?\s+(?P<place>[A-Z0-9][A-Z0-9' ]*?)\s*[-–—]\s*"
    r"(?P<time>[A-Z][A-Z ]*?)\s*(?:\.(?=\s|$)|$|(?=\s[A-Z][a-z]))"
)
_HEADING = "\ue000"  # a slugline, as a sentence of its own: "\ue000INT|KITCHEN|NIGHT"
_YEAR_RE = re.compile(r"\b(?:1[6-9]|20)\d\d(?:s|’s|'s)?\b")
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
_QUOTED_RE = re.compile(r"[\"“](?P<q>[^\"”]{1,300})[\"”]")
_PRONOUN_MANY = re.compile(r"\b(?:they|them|their|both|together|each other)\b", re.IGNORECASE)
_ARTICLE_START = re.compile(r"^(?:a|an|the|\d|one|two|three|four|five|six|ten)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    name: str  # as a slugline says it: "ALLEY"
    int_ext: IntExt
    description: str  # "a rain-soaked alley"


@dataclass
class Beat:
    text: str  # the clause, as a shot describes it
    kind: str  # a coverage kind (data/coverage.toml)
    people: list[str]
    place: Place | None
    time: TimeOfDay
    subject: str = ""  # who or what acts when no one is cast: "the cat"
    dialogue: str = ""


@dataclass(frozen=True)
class Line:
    """A clause of the story: a beat, or a line that only sets the scene."""

    text: str
    setting: bool = False  # "At home,", "Night in a rain-soaked alley:", a slugline
    heading: bool = False  # a slugline: its place and time hold until the next one
    place: Place | None = None
    time: TimeOfDay | None = None


@dataclass
class Reading:
    title: str = ""
    logline: str = ""
    target: float | None = None
    target_said: str = ""
    form: str = "drama"
    style: str | None = None
    cast: dict[str, str] = field(default_factory=dict)  # name → description
    world: str = ""  # "1947 Los Angeles": where the film is, on its first establishing shot
    beats: list[Beat] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    # A full stop inside quotes ("Twenty years. One secret.") does not end the sentence.
    guarded = _QUOTE_RE.sub(lambda m: m.group().replace(". ", "\u2024 "), text)
    return [s.replace("\u2024", ".").strip() for s in _SENTENCE_RE.split(guarded) if s.strip()]


def _framing(sentence: str, lex: Lexicon) -> bool:
    """'A 40-second action beat.', 'A music video, 30 seconds.': a line about the film."""
    words = sentence.split()
    unmeasured = AMOUNT_RE.sub(lambda m: " " * len(m.group()), sentence)
    form = lex.form_re.search(unmeasured)
    return (
        len(words) <= 14
        and bool(_ARTICLE_START.match(sentence) or AMOUNT_RE.match(sentence))
        and form is not None
        and len(unmeasured[: form.start()].split()) <= 3  # the film is the head noun
        and ((p := lex.place_re.search(sentence)) is None or p.start() > form.start())
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
            phrase = phrase.removesuffix("-style")
            named = phrase in style_names() or lex.style_cues_re.fullmatch(phrase)
            if named and (found := find_style(phrase)):  # "thriller" alone is not horror
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
            copula = re.match(r"\s+is\s+(?:an?\s+)?(?P<d>(?:his\s+|her\s+|their\s+)?[^,.;]{3,80})\.?$", after)  # fmt: skip
            if copula and start == 0 and re.match(r"\s+is\s+(?:an?|his|her|their)\s", after):
                person(name, copula.group("d"))
            elif appositive and not lex.products_re.search(appositive.group("d")):
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
    words = re.findall(r"[A-Za-z]{2,}", text)
    acts = any(lex.beats[k].search(text) for k in ("action", "talk", "emotion", "detail"))
    if len(words) < 3 and not (len(words) == 2 and acts):  # "Mia runs." is a film
        raise InvalidValue(f"I can't plan from that brief. {BRIEF_HELP}")
    reading = Reading()
    if title := _TITLE_RE.search(text):
        reading.title = title.group("t").strip()
        text = (text[: title.start()] + text[title.end() :]).strip()
    sentences = _sentences(_headings(text, lex))
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
    reading.cast = _people([s for s in story if not s.startswith(_HEADING)], lex, brands)
    names = alternation(list(reading.cast)) if reading.cast else "(?!)"
    described = re.compile(rf"(?:{names})\s+is\s+(?:an?|his|her|their)\s+[^,;]+\.?")
    story = [s for s in story if not described.fullmatch(s)]  # "Mia is a detective." is the bible
    lines = _lines(story, lex)
    world = next((ln.text for ln in lines if ln.setting and not ln.heading and (lex.cities_re.search(ln.text) or _YEAR_RE.search(ln.text))), "")  # fmt: skip
    reading.world = re.sub(r"^(?:in|at|on)\s+", "", world, flags=re.IGNORECASE)
    opening = next((_place(f, lex) for f in framing if lex.place_re.search(f)), None)
    reading.beats = _beats(lines, reading.cast, lex, brands, opening)
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
    reading.logline = tidy(" ".join(s for s in story if not s.startswith(_HEADING)))[:240]
    if not reading.title:
        prop = lex.props_re.search(" ".join(story))
        reading.title = f"The {prop.group().title()}" if prop else next(iter(reading.cast), "")
    return reading


def _headings(text: str, lex: Lexicon) -> str:
    """Each slugline ("INT. KITCHEN - NIGHT.") as a sentence of its own, marked."""

    def heading(match: re.Match[str]) -> str:
        time = lex.times.get(match.group("time").strip().lower(), "")
        return f"\n\n{_HEADING}{match.group('ie')}|{match.group('place').strip()}|{time}\n\n"

    return _SLUGLINE_RE.sub(heading, text)


def _slugline(sentence: str, lex: Lexicon) -> Line:
    ie, name, time = sentence.lstrip(_HEADING).split("|")
    words = [w.title() if lex.cities_re.fullmatch(w.title()) else w.lower() for w in name.split()]
    place = Place(name, IntExt(ie), "the " + " ".join(words))
    return Line("", setting=True, heading=True, place=place, time=TimeOfDay(time) if time else None)


def _setting(lead: str, lex: Lexicon) -> Line | None:
    """A lead-in that only says where or when ("At home", "Night in a rain-soaked alley",
    "Rain-soaked 1947 Los Angeles", "Later", "Outside"): a line that sets the scene."""
    rest = lex.place_re.sub(" ", lead)
    found = rest != lead
    for pattern in (lex.cities_re, lex.time_re, _YEAR_RE):
        rest, n = pattern.subn(" ", rest)
        found = found or n > 0
    words = [w.lower() for w in re.findall(r"[\w'’-]+", rest)]
    side = next((lex.sides[w] for w in words if w in lex.sides), None)
    known = (
        lex.prepositions | lex.subjects | lex.sides.keys() | {"of", "the", "next", "one", "that"}
    )
    unknown = [w for w in words if w not in known and not lex.connective_re.match(w)]
    named = re.findall(
        r"(?<=\s)[A-Z][\w'’-]*", f" {rest.strip()}"[1:]
    )  # a name past the first word
    if len(lead.split()) > 8 or len(unknown) > 2 or named or any(_verb(w, lex) for w in unknown):
        return None
    if not (found or side or (words and not unknown)):
        return None
    when = lex.time_re.search(lead)
    place = lex.place_re.search(lead) and _place(lead, lex)
    time = lex.times[when.group().lower()] if when else None
    return Line(tidy(lead), setting=True, place=place or None, time=time)


def _clauses(sentence: str, lex: Lexicon) -> list[str]:
    """A sentence cut where a new subject acts: "…; she seals the door", "…, then strikes"."""
    guard = str.maketrans({",": "\u201a", ":": "\ua789", " ": "\u2009"})
    guarded = _QUOTE_RE.sub(lambda m: m.group().translate(guard), sentence)
    subject = _subject(guarded, lex)
    clauses: list[str] = []
    pieces = lex.clause_re.split(guarded)  # [clause, break, clause, …] at ";" and ":"
    for k in range(0, len(pieces), 2):
        weak = _weak(pieces[k], subject, lex)
        if k and not _own(pieces[k], lex, window=len(pieces[k])):
            clauses[-1] += f"{pieces[k - 1]} {weak.pop(0)}"
        clauses += weak
    restore = str.maketrans({"\u201a": ",", "\ua789": ":", "\u2009": " "})
    return [c.translate(restore).strip() for c in clauses if c.strip()]


def _weak(text: str, subject: str, lex: Lexicon) -> list[str]:
    parts: list[tuple[str, str, str]] = []  # (break word, break as written, clause)
    position, word, written = 0, "", ""
    for match in lex.weak_re.finditer(text):
        parts.append((word, written, text[position : match.start()]))
        word, written, position = (match.group("word") or ",").lower(), match.group(), match.end()
    parts.append((word, written, text[position:]))
    clauses: list[str] = []
    for word, written, piece in parts:
        own = _own(piece, lex)
        if not clauses:
            clauses.append(piece)
        elif word in lex.borrow and subject and not own:
            clauses.append(f"{subject} {piece}")
        elif own or (word == "," and lex.beats["packshot"].match(piece)):
            clauses.append(piece)
        else:
            clauses[-1] += written + piece
    return clauses


def _own(piece: str, lex: Lexicon, window: int = 4) -> bool:
    """Whether a clause has its own subject and verb ("a customer smiles", "Jules types")."""
    words = re.findall(r"[\w'’-]+", piece)
    if not words or not (words[0].lower() in lex.subjects or words[0][0].isupper()):
        return False
    return any(_verb(w, lex) for w in words[1 : window + 1])


def _verb(word: str, lex: Lexicon) -> bool:
    low = word.lower()
    return low in lex.verbs or (
        word.islower()
        and low.endswith("s")
        and not low.endswith(("ss", "us", "is", "ous"))
        and len(low) > 3
    )


def _subject(sentence: str, lex: Lexicon) -> str:
    """Who acts in a sentence, to lend a clause that has none: "She", "Mia", "The heron"."""
    words: list[str] = re.findall(r"[\w'’-]+", _QUOTE_RE.sub(" ", sentence))
    if not words:
        return ""
    first = words[0].lower()
    if first in ("she", "he", "they", "it"):
        return words[0].title()
    verb = next((i for i, w in enumerate(words[1:5], 1) if w.lower() in lex.verbs), None)
    verb = verb or next((i for i, w in enumerate(words[1:5], 1) if _verb(w, lex)), None)
    if verb is None or "," in sentence.split(words[verb], 1)[0]:
        return ""
    if first in lex.subjects:
        return "The " + " ".join(words[1:verb]) if verb > 1 else ""
    return " ".join(words[:verb]) if all(w[0].isupper() for w in words[:verb]) else ""


def _lines(story: list[str], lex: Lexicon) -> list[Line]:
    """The story as lines: sluglines and lead-ins set the scene; clauses are beats."""
    lines: list[Line] = []
    for sentence in story:
        if sentence.startswith(_HEADING):
            lines.append(_slugline(sentence, lex))
            continue
        for clause in _clauses(_peel(sentence, lines, lex), lex):
            clause = _peel(clause, lines, lex)
            if (setting := _setting(clause.rstrip("."), lex)) is not None:
                lines.append(setting)  # "Tokyo at dawn.": its establishing shot says it
            elif clause.strip(" ."):
                lines.append(Line(clause[:1].upper() + clause[1:]))
    return lines


def _peel(clause: str, lines: list[Line], lex: Lexicon) -> str:
    """Lead-ins off the front of a clause, as lines that set the scene: "Later, on the rooftop
    at night, they argue." → "they argue."; "New York, 1977: a rookie cop…"."""
    while True:
        clause = lex.connective_re.sub("", clause, count=1)
        lead = re.match(r"^(?P<lead>[^:;\"“]{1,60}?):\s+(?=\S)", clause)
        setting = _setting(lead.group("lead"), lex) if lead else None
        if setting is None:
            lead = re.match(r"^(?P<lead>[^,:;\"“]{1,80}?),\s+(?=\S)", clause)
            setting = _setting(lead.group("lead"), lex) if lead else None
        if lead is None or setting is None:
            return clause
        lines.append(setting)
        clause = clause[lead.end() :]


def _unappositive(text: str, cast: dict[str, str]) -> str:
    """ "a tired private eye, Mack Doyle, meets…" → "Mack Doyle meets…": the bible has it."""
    for name, said in cast.items():
        if said:
            d, n = re.escape(said), re.escape(name)
            text = re.sub(rf"(?:\b(?:[Aa]n?|[Tt]he)\s+)?{d},\s+({n})\b,?", r"\1", text)
            text = re.sub(rf"\b({n}),\s+(?:an?\s+|the\s+)?{d}(?:,|(?=\.$))", r"\1", text)
    return text


def _gender(name: str, description: str, lex: Lexicon) -> str | None:
    words = re.findall(r"[\w'’]+", f"{name} {description}".lower())
    return next((lex.gender[w] for w in words if w in lex.gender), None)


def _beats(
    lines: list[Line], cast: dict[str, str], lex: Lexicon, brands: set[str], opening: Place | None
) -> list[Beat]:
    beats: list[Beat] = []
    # The film opens where its framing line or, failing that, its story first names a place.
    place = opening or next((p for ln in lines if (p := ln.place or _place(ln.text, lex))), None)
    time = TimeOfDay.DAY
    held = False  # under a slugline, its place and time hold
    recent: list[str] = []  # who was last on screen, for "she" and "they"
    gender = {n: g for n, d in cast.items() if (g := _gender(n, d, lex))}
    for line in lines:
        if line.setting:
            held = held and not line.place or line.heading
            if line.place is not None:
                place = line.place
            elif (side := next((lex.sides[w] for w in line.text.lower().split() if w in lex.sides), None)) and place:  # fmt: skip
                place = Place(place.name, side, place.description)
            time = line.time or time
            continue
        sentence = _unappositive(line.text, cast)
        if not held:
            times = [lex.times[m.group().lower()] for m in lex.time_re.finditer(sentence)]
            time = next((t for t in reversed(times) if t is not TimeOfDay.DAY), times[-1] if times else time)  # fmt: skip
            place = _place(sentence, lex) or place
        said = _QUOTED_RE.search(sentence)
        plain = _QUOTE_RE.sub(" ", sentence)
        people = [
            name
            for name in cast
            if any(re.search(rf"\b{re.escape(w)}\b", plain) for w in name.split())
        ]
        if not people and _PRONOUN_MANY.search(plain):
            people = recent[-2:]
        for word in re.findall(r"\b(?:she|her|he|him|his)\b", plain, re.IGNORECASE):
            sex = lex.gender[word.lower()]
            if any(gender.get(p) == sex for p in people):
                continue  # "Mia opens her bag": her own
            others = [p for p in reversed(recent) if p not in people]
            pick = next((p for p in others if gender.get(p) == sex), None) or next(
                (p for p in others if p not in gender), None
            )
            if pick is not None:
                people.append(pick)
                gender[pick] = sex
        recent = [p for p in recent if p not in people] + people
        kind = _kind(plain, people, lex, brands)
        talks = said and (kind == "talk" or lex.beats["talk"].search(sentence[: said.start()]))
        dialogue = said.group("q").strip() if said and talks else ""  # 'Cole says "…"'
        subject = _subject(plain, lex).lower() if not people else ""
        beats.append(Beat(tidy(sentence).rstrip(":"), kind, people, place, time, subject, dialogue))
    return beats
