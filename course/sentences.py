"""The sentence grammar of the synthetic corpus.

Four kinds of sentences, each designed for an experiment of the course:

``command``
    Spoken commands in the style of Fluent Speech Commands (Lugosch et al.
    2019), labelled with action, object and location. The words that carry
    each slot are marked, so an attribution method can be checked against
    the words that really decide the intent.
``homophone``
    Sentences whose homophone ("write"/"right") is spelled according to a
    cue word elsewhere in the sentence. The target word and its cue are
    marked, for context-mixing analyses of a transcriber.
``rich``
    Phonetically varied sentences, so every phone occurs in many contexts.
``minimal_pair``
    A carrier phrase around words that differ in one phone ("say bit
    again" / "say bat again"), for ABX discrimination and probing.

Every generator takes a :class:`numpy.random.Generator` and returns a
:class:`Sentence`; the same generator state gives the same sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

KINDS = ("command", "homophone", "rich", "minimal_pair")


@dataclass(frozen=True)
class Sentence:
    """A generated sentence with its labels.

    ``words`` is the tokenised text; the ``*_index`` fields and the values of
    ``slot_words`` are 0-based indices into it (-1 when absent).
    """

    kind: str
    words: tuple[str, ...]
    labels: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(self.words)


# --------------------------------------------------------------------------
# Commands: action / object / location, as in Fluent Speech Commands.
# Each phrase is a sequence of tokens; "<w>" marks an action word,
# "{o}" the object, and the location phrase is added before or after.

_ACTION_PHRASES = {
    "activate": ["turn <on> the {o}", "switch <on> the {o}", "<start> the {o}"],
    "deactivate": ["turn <off> the {o}", "switch <off> the {o}", "<stop> the {o}"],
    "increase": ["turn <up> the {o}", "<increase> the {o}", "<raise> the {o}"],
    "decrease": ["turn <down> the {o}", "<decrease> the {o}", "<lower> the {o}"],
    "bring": ["<bring> me the {o}", "<fetch> my {o}", "<bring> my {o}"],
}
_OBJECTS = {
    "activate": ["lights", "lamp", "music", "heat"],
    "deactivate": ["lights", "lamp", "music", "heat"],
    "increase": ["heat", "volume"],
    "decrease": ["heat", "volume"],
    "bring": ["newspaper", "shoes", "socks", "juice"],
}
#: Objects that can be located in a room; the others have location "none".
_LOCATED = {"lights", "heat"}
LOCATIONS = ("kitchen", "bedroom", "washroom")


def _intents() -> list[tuple[str, str, str]]:
    out = []
    for action, objects in _OBJECTS.items():
        for obj in objects:
            for loc in (("none",) + LOCATIONS) if obj in _LOCATED else ("none",):
                out.append((action, obj, loc))
    return out


#: Every (action, object, location) combination the grammar produces.
INTENTS: tuple[tuple[str, str, str], ...] = tuple(_intents())


def intent_name(action: str, obj: str, location: str) -> str:
    """The combined intent label, e.g. ``"activate_lights_kitchen"``."""
    return f"{action}_{obj}_{location}"


def command(rng: np.random.Generator) -> Sentence:
    """A spoken command with action, object, location and intent labels."""
    action, obj, loc = INTENTS[rng.integers(len(INTENTS))]
    phrase = _ACTION_PHRASES[action][rng.integers(len(_ACTION_PHRASES[action]))]
    tokens: list[tuple[str, str]] = []
    for tok in phrase.split():
        if tok == "{o}":
            tokens.append((obj, "object"))
        elif tok.startswith("<"):
            tokens.append((tok.strip("<>"), "action"))
        else:
            tokens.append((tok, ""))
    if loc != "none":
        where = [("in", ""), ("the", ""), (loc, "location")]
        tokens = where + tokens if rng.random() < 0.3 else tokens + where
    if rng.random() < 0.25:
        tokens = [("please", "")] + tokens
    words = tuple(w for w, _ in tokens)

    def idx(tag: str) -> list[int]:
        return [i for i, (_, t) in enumerate(tokens) if t == tag]

    labels = {
        "action": action,
        "object": obj,
        "location": loc,
        "intent": intent_name(action, obj, loc),
        "action_words": idx("action"),
        "object_words": idx("object"),
        "location_words": idx("location"),
    }
    return Sentence("command", words, labels)


# --------------------------------------------------------------------------
# Homophones. Template syntax: [w] the homophone target, <a|b> the cue word
# (one alternative is chosen), (a|b) a neutral filler.

HOMOPHONE_TEMPLATES: dict[str, dict[str, list[str]]] = {
    "write/right": {
        "write": ["(she|he|anna) will [write] a <letter|poem|story> (today|tonight|soon)",
                  "the <author|poet|writer> will [write] (today|tonight|again)"],
        "right": ["turn [right] at the <corner|crossing|bridge>",
                  "(she|he) <turned|looked|steered> [right] (today|again|at once)"],
    },
    "see/sea": {
        "see": ["(we|they) can [see] the <stars|moon|birds> (tonight|today|clearly)"],
        "sea": ["the <ship|boat|sailor> crossed the [sea] (today|at dawn|again)"],
    },
    "night/knight": {
        "night": ["(we|they) <sleep|rest|dream> at [night]",
                  "the <stars|moon> (shine|glow) at [night]"],
        "knight": ["the [knight] (drew|raised) his <sword|shield|lance>"],
    },
    "meet/meat": {
        "meet": ["(we|they) will [meet] our <friends|neighbours|teacher> (today|soon|again)"],
        "meat": ["the <butcher|chef|cook> cut the [meat] (today|slowly|again)"],
    },
    "sun/son": {
        "sun": ["the [sun] <shines|rises|sets> (today|slowly|again)"],
        "son": ["(her|his) [son] is a <student|doctor|teacher>"],
    },
    "tail/tale": {
        "tail": ["the <dog|cat|fox> wagged its [tail] (today|again|slowly)"],
        "tale": ["the <storyteller|grandmother|poet> told a [tale] (today|again|slowly)"],
    },
    "road/rode": {
        "rode": ["(she|he) [rode] a <horse|bicycle|pony> (today|home|again)"],
        "road": ["the [road] was <paved|closed|blocked> (today|again|at dawn)"],
    },
    "week/weak": {
        "week": ["(we|they) <worked|travelled|stayed> for a [week]"],
        "weak": ["the <patient|puppy|signal> was [weak] (today|again)"],
    },
    "pair/pear": {
        "pear": ["(she|he) <ate|peeled|sliced> a [pear] (today|slowly|again)"],
        "pair": ["(she|he) (bought|wore) a [pair] of <shoes|socks|gloves>"],
    },
    "hole/whole": {
        "hole": ["the <dog|rabbit|mole> dug a [hole] (today|quickly|again)"],
        "whole": ["(she|he) (ate|read) the [whole] <cake|book|pie>"],
    },
    "flour/flower": {
        "flour": ["(she|he) <baked|sifted|mixed> the [flour] (today|slowly|again)"],
        "flower": ["the [flower] <bloomed|blossomed|wilted> (today|slowly|again)"],
    },
    "hear/here": {
        "hear": ["(we|they) can [hear] the <music|birds|rain> (today|tonight|clearly)"],
        "here": ["please <come|wait|sit> [here] (today|now|again)"],
    },
}

_TOKEN = re.compile(r"\[(?P<target>[a-z]+)\]|<(?P<cue>[a-z|]+)>|\((?P<fill>[a-z |]+)\)|(?P<word>[a-z']+)")


def expand_template(template: str, rng: np.random.Generator) -> tuple[list[str], int, int]:
    """Fill a homophone template; return its words, target index and cue index."""
    words: list[str] = []
    target = cue = -1
    for m in _TOKEN.finditer(template):
        if m.group("target"):
            target = len(words)
            words.append(m.group("target"))
        elif m.group("cue"):
            options = m.group("cue").split("|")
            cue = len(words)
            words.append(options[rng.integers(len(options))])
        elif m.group("fill"):
            options = m.group("fill").split("|")
            words.extend(options[rng.integers(len(options))].split())
        else:
            words.append(m.group("word"))
    return words, target, cue


def homophone(rng: np.random.Generator) -> Sentence:
    """A sentence whose homophone's spelling is decided by a cue word."""
    groups = sorted(HOMOPHONE_TEMPLATES)
    group = groups[rng.integers(len(groups))]
    spellings = sorted(HOMOPHONE_TEMPLATES[group])
    spelling = spellings[rng.integers(len(spellings))]
    templates = HOMOPHONE_TEMPLATES[group][spelling]
    words, target, cue = expand_template(templates[rng.integers(len(templates))], rng)
    labels = {
        "homophone_group": group,
        "target_word": words[target],
        "target_index": target,
        "cue_word": words[cue],
        "cue_index": cue,
    }
    return Sentence("homophone", tuple(words), labels)


# --------------------------------------------------------------------------
# Phonetically rich sentences: a small grammar over a vocabulary chosen to
# cover the English phone inventory (including /ʒ θ ð ŋ ɔɪ aʊ tʃ dʒ ʊ/).

_DET = ["the", "that", "this", "one"]
_ADJ = ["young", "old", "quiet", "happy", "yellow", "thick", "smooth", "cheap", "huge", "brown",
        "sharp", "sleepy", "joyful", "rough", "clever", "shiny", "warm", "cold", "beige", "noisy",
        "good", "tiny", "proud", "loyal", "usual", "rare", "fair", "poor", "weird", "pretty", "tired"]
_NOUN = ["boy", "girl", "judge", "teacher", "fisherman", "king", "mouse", "goat", "horse", "child",
         "pilot", "farmer", "nurse", "lawyer", "singer", "thief", "cowboy", "student", "author", "zebra",
         "giraffe", "monkey", "tourist", "father", "mother", "vision", "genie", "youth", "poet", "owl",
         "jury", "mayor", "bear", "hero", "daughter"]
_VERB = ["watched", "pushed", "found", "chose", "thanked", "measured", "enjoyed", "caught", "judged",
         "loved", "fixed", "shook", "pulled", "took", "visited", "thought of", "joined", "bathed",
         "woke", "moved", "chased", "teased", "praised", "avoided", "pleased", "amused"]
_PLACE = ["near the house", "in the garage", "with a smile", "at the zoo", "during the voyage",
          "on the beach", "under the bridge", "all day long", "behind the church", "without a sound",
          "beside the fountain", "through the jungle", "by the shore", "at the mall", "after lunch",
          "in the morning", "along the path", "with pleasure", "on the boat", "in the woods",
          "on the stairs", "near the square", "by the fire", "at the fair"]


def rich(rng: np.random.Generator) -> Sentence:
    """A phonetically varied sentence: det adj noun verb det adj noun place."""

    def pick(xs: list[str]) -> list[str]:
        return xs[rng.integers(len(xs))].split()

    words = (pick(_DET) + pick(_ADJ) + pick(_NOUN) + pick(_VERB) + pick(_DET) + pick(_ADJ)
             + pick(_NOUN) + pick(_PLACE))
    return Sentence("rich", tuple(words), {})


# --------------------------------------------------------------------------
# Minimal pairs: sets of words that differ in one phone, in a carrier phrase.

MINIMAL_SETS: dict[str, list[str]] = {
    "b_t vowels": ["beat", "bit", "bait", "bet", "bat", "but", "boot", "bought", "boat", "bite", "bout"],
    "p_t vowels": ["peat", "pit", "pet", "pat", "putt", "pot", "pout"],
    "stops initial": ["pan", "ban", "tan", "dan", "can", "gan"],
    "stops final": ["cap", "cab", "cat", "cad", "back", "bag"],
    "fricatives": ["fan", "van", "fin", "thin", "sin", "shin", "tin"],
    "affricates": ["chip", "ship", "jip", "sip", "zip"],
    "nasals": ["sum", "sun", "sung", "rim", "rin", "ring"],
    "liquids glides": ["light", "right", "white", "yacht", "lot", "rot"],
}
_CARRIERS = [("say", "again"), ("i", "said", "again"), ("please", "say", "now")]


def minimal_pair(rng: np.random.Generator) -> Sentence:
    """A carrier phrase around one word of a minimal-pair set."""
    sets = sorted(MINIMAL_SETS)
    name = sets[rng.integers(len(sets))]
    word = MINIMAL_SETS[name][rng.integers(len(MINIMAL_SETS[name]))]
    carrier = list(_CARRIERS[rng.integers(len(_CARRIERS))])
    words = carrier[:-1] + [word] + carrier[-1:]
    labels = {"minimal_set": name, "target_word": word, "target_index": len(carrier) - 1}
    return Sentence("minimal_pair", tuple(words), labels)


GENERATORS = {"command": command, "homophone": homophone, "rich": rich, "minimal_pair": minimal_pair}
