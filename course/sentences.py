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

import hashlib
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
    """A spoken command with action, object, location and intent labels (see :func:`command_sentence`)."""
    action, obj, loc = INTENTS[rng.integers(len(INTENTS))]
    return command_sentence(action, int(rng.integers(len(_ACTION_PHRASES[action]))), obj, loc, rng)


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


# ==========================================================================
# Corpus v2: a controlled design (see docs/corpus.md).
#
# * Homophones come as minimal pairs of sentences: both spellings of a pair
#   occur in the same frames with the same words; only the target's spelling
#   and the cue word differ, and the cue comes before the target in half of
#   the frames and after it in the other half. Nothing but the cue tells the
#   spellings apart.
# * Every sentence has a *key*, the unit that is held out: the frame words of
#   a homophone sentence (not its pair, spelling or cue), the action phrase,
#   object and location of a command, the carrier of a minimal-pair word, the
#   text of a rich sentence. :func:`split_of_key` assigns every key to one
#   split, so validation and test sentences are word sequences that no
#   training sentence has.

#: Homophone pairs (identical phones in every corpus accent; see the tests) and, per spelling, the cue words that
#: decide it: two adjectives that come before the target and two verbs that come after it. Each cue word occurs
#: with one spelling only.
HOMOPHONE_PAIRS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "knight/night": {"knight": {"before": ("brave", "armoured"), "after": ("fought", "bowed")},
                     "night": {"before": ("dark", "starry"), "after": ("fell", "ended")}},
    "tail/tale": {"tail": {"before": ("furry", "fluffy"), "after": ("wagged", "twitched")},
                  "tale": {"before": ("magic", "scary"), "after": ("amused", "thrilled")}},
    "flour/flower": {"flour": {"before": ("wheat", "sifted"), "after": ("spilled", "clumped")},
                     "flower": {"before": ("red", "pretty"), "after": ("bloomed", "wilted")}},
    "pair/pear": {"pair": {"before": ("matching", "identical"), "after": ("matched", "fitted")},
                  "pear": {"before": ("ripe", "juicy"), "after": ("ripened", "rotted")}},
    "son/sun": {"son": {"before": ("eldest", "youngest"), "after": ("smiled", "laughed")},
                "sun": {"before": ("bright", "hot"), "after": ("rose", "shone")}},
    "hair/hare": {"hair": {"before": ("curly", "blond"), "after": ("curled", "tangled")},
                  "hare": {"before": ("wild", "swift"), "after": ("hopped", "ran")}},
    "sail/sale": {"sail": {"before": ("canvas", "torn"), "after": ("flapped", "billowed")},
                  "sale": {"before": ("bargain", "clearance"), "after": ("began", "closed")}},
    "stake/steak": {"stake": {"before": ("wooden", "pointed"), "after": ("splintered", "held")},
                    "steak": {"before": ("grilled", "tender"), "after": ("sizzled", "cooked")}},
    "peace/piece": {"peace": {"before": ("lasting", "fragile"), "after": ("lasted", "prevailed")},
                    "piece": {"before": ("tiny", "missing"), "after": ("snapped", "crumbled")}},
    "sole/soul": {"sole": {"before": ("fried", "flat"), "after": ("swam", "flopped")},
                  "soul": {"before": ("kind", "gentle"), "after": ("prayed", "wept")}},
    "maize/maze": {"maize": {"before": ("yellow", "sweet"), "after": ("sprouted", "grew")},
                   "maze": {"before": ("hedge", "twisting"), "after": ("confused", "puzzled")}},
    "rain/reign": {"rain": {"before": ("heavy", "cold"), "after": ("poured", "drizzled")},
                   "reign": {"before": ("royal", "cruel"), "after": ("weakened", "collapsed")}},
    "beach/beech": {"beach": {"before": ("sandy", "rocky"), "after": ("flooded", "eroded")},
                    "beech": {"before": ("leafy", "tall"), "after": ("swayed", "toppled")}},
    "waist/waste": {"waist": {"before": ("narrow", "slim"), "after": ("tightened", "shrank")},
                    "waste": {"before": ("toxic", "smelly"), "after": ("piled", "leaked")}},
    "plain/plane": {"plain": {"before": ("grassy", "vast"), "after": ("stretched", "dried")},
                    "plane": {"before": ("jet", "silver"), "after": ("landed", "crashed")}},
    "brake/break": {"brake": {"before": ("squeaky", "emergency"), "after": ("failed", "squealed")},
                    "break": {"before": ("short", "lunch"), "after": ("refreshed", "relaxed")}},
}
CUE_POSITIONS = ("before", "after")

#: The frame words shared by both spellings. Cue before the target: "<subject> <verb> the <cue> <target> <adverb>";
#: cue after it: "<subject> <report> the <target> <cue> <adverb>".
_SUBJECTS = ("we", "they", "you", "i", "she", "he")
_VERBS = ("saw", "liked", "found", "remembered", "painted")
_REPORTS = ("said", "heard", "knew", "thought")
_ADVERBS = ("today", "again", "there", "yesterday", "later", "once")


def split_of_key(kind: str, key: str, held_out: int = 1) -> str:
    """The split a sentence key belongs to: ``held_out`` tenths each for test and validation, the rest train.

    A hash of ``kind`` and ``key``, so the assignment is the same on every machine and does not depend on which
    sentences were drawn before.

    Parameters
    ----------
    kind : str
        The sentence kind (part of the hash, so kinds are split independently).
    key : str
        The held-out unit (``Sentence.labels["key"]``).
    held_out : int
        Tenths of the keys for each of test and validation.

    Returns
    -------
    str
        ``"test"``, ``"validation"`` or ``"train"``.
    """

    bucket = int(hashlib.sha256(f"{kind}|{key}".encode()).hexdigest(), 16) % 10
    return "test" if bucket < held_out else "validation" if bucket < 2 * held_out else "train"


def _frame_key(position: str, frame: tuple[str, str, str]) -> str:
    """The held-out unit of a homophone sentence: its cue position and frame words."""
    return f"{position}:{' '.join(frame)}"


def homophone_frame(position: str, rng: np.random.Generator, split: str) -> tuple[str, str, str]:
    """Frame words ``(subject, verb, adverb)`` for a cue ``position`` ("before" or "after") whose key is in
    ``split`` (drawn until one is)."""
    verbs = _VERBS if position == "before" else _REPORTS
    while True:
        frame = (_SUBJECTS[rng.integers(len(_SUBJECTS))], verbs[rng.integers(len(verbs))],
                 _ADVERBS[rng.integers(len(_ADVERBS))])
        if split_of_key("homophone", _frame_key(position, frame)) == split:
            return frame


def homophone_sentence(group: str, spelling: str, position: str, cue: str, frame: tuple[str, str, str]) -> Sentence:
    """One member of a homophone minimal pair.

    The other member has the same ``group``, ``position`` and ``frame``, the other spelling and one of its cues.
    """
    subject, verb, adverb = frame
    if position == "before":
        words, target, cue_index = (subject, verb, "the", cue, spelling, adverb), 4, 3
    else:
        words, target, cue_index = (subject, verb, "the", spelling, cue, adverb), 3, 4
    key = _frame_key(position, frame)
    labels = {"homophone_group": group, "target_word": spelling, "target_index": target, "cue_word": cue,
              "cue_index": cue_index, "cue_position": position, "pair_id": f"{group}|{key}", "key": key}
    return Sentence("homophone", words, labels)


def homophone_v2(rng: np.random.Generator, split: str = "train") -> Sentence:
    """A random homophone sentence whose frame belongs to ``split``."""
    groups = sorted(HOMOPHONE_PAIRS)
    group = groups[rng.integers(len(groups))]
    spelling = sorted(HOMOPHONE_PAIRS[group])[rng.integers(2)]
    position = CUE_POSITIONS[rng.integers(2)]
    cues = HOMOPHONE_PAIRS[group][spelling][position]
    cue = cues[rng.integers(len(cues))]
    return homophone_sentence(group, spelling, position, cue, homophone_frame(position, rng, split))


# Commands v2: the v1 grammar with a held-out unit, the key (action phrase, object, location). For every
# (action, object) combination one key is held out for test and another for validation, so each held-out split has
# one command per (action, object), in a phrase-location combination that training never has, while every action,
# object and location word still occurs in training (the tests check it).

#: The three slots of a command, in the order of the intent model's outputs.
SLOTS = ("action", "object", "location")
#: Each slot's values, in the order of the intent model's classes.
SLOT_VALUES = {
    "action": tuple(_OBJECTS),
    "object": tuple(sorted({o for objs in _OBJECTS.values() for o in objs})),
    "location": ("none",) + LOCATIONS,
}


def _held_out_commands() -> dict[str, str]:
    """key -> split for the held-out command keys (every other key is train)."""
    table = {}
    pairs = [(a, o) for a, objs in _OBJECTS.items() for o in objs]
    located = 0
    for j, (action, obj) in enumerate(pairs):
        for shift, split in ((0, "test"), (1, "validation")):
            phrase = (j + shift) % len(_ACTION_PHRASES[action])
            loc = LOCATIONS[(located + shift) % len(LOCATIONS)] if obj in _LOCATED else "none"
            table[f"{action}.{phrase}:{obj}:{loc}"] = split
        located += obj in _LOCATED
    return table


_COMMAND_SPLITS = _held_out_commands()


def command_key_split(key: str) -> str:
    """The split of a command key ``"<action>.<phrase index>:<object>:<location>"``."""
    return _COMMAND_SPLITS.get(key, "train")


def command_sentence(action: str, phrase_index: int, obj: str, loc: str, rng: np.random.Generator) -> Sentence:
    """A command; ``rng`` decides where the location phrase goes and whether it starts with "please"."""
    phrase = _ACTION_PHRASES[action][phrase_index]
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
    labels = {"action": action, "object": obj, "location": loc, "intent": intent_name(action, obj, loc),
              "key": f"{action}.{phrase_index}:{obj}:{loc}"}
    for slot in SLOTS:
        labels[f"{slot}_words"] = [i for i, (_, t) in enumerate(tokens) if t == slot]
    return Sentence("command", tuple(w for w, _ in tokens), labels)


def command_v2(rng: np.random.Generator, split: str = "train") -> Sentence:
    """A spoken command whose (phrase, object, location) key belongs to ``split``."""
    while True:
        action, obj, loc = INTENTS[rng.integers(len(INTENTS))]
        phrase_index = int(rng.integers(len(_ACTION_PHRASES[action])))
        if command_key_split(f"{action}.{phrase_index}:{obj}:{loc}") == split:
            return command_sentence(action, phrase_index, obj, loc, rng)


def rich_v2(rng: np.random.Generator, split: str = "train") -> Sentence:
    """A phonetically varied sentence whose text belongs to ``split``."""
    while True:
        sent = rich(rng)
        if split_of_key("rich", sent.text) == split:
            return Sentence("rich", sent.words, {"key": sent.text})


#: Carrier phrases of the minimal-pair words, held out whole: validation and test speakers read theirs only, so
#: every held-out minimal-pair sentence is a new word sequence; its words all occur in training (a test checks it: a
#: transcriber cannot spell a word it never saw).
CARRIERS_V2 = {
    "train": (("say", "again"), ("i", "said", "again"), ("please", "say", "now"), ("we", "heard", "today"),
              ("you", "wrote", "here")),
    "validation": (("we", "say", "now"),),
    "test": (("you", "said", "again"),),
}


def minimal_pair_sentence(set_name: str, word: str, carrier: tuple[str, ...]) -> Sentence:
    """``word`` of minimal-pair set ``set_name`` in a carrier phrase."""
    words = carrier[:-1] + (word,) + carrier[-1:]
    labels = {"minimal_set": set_name, "target_word": word, "target_index": len(carrier) - 1,
              "key": " ".join(carrier)}
    return Sentence("minimal_pair", words, labels)


def minimal_pair_v2(rng: np.random.Generator, split: str = "train") -> Sentence:
    """A random minimal-pair word in one of ``split``'s carrier phrases."""
    sets = sorted(MINIMAL_SETS)
    name = sets[rng.integers(len(sets))]
    word = MINIMAL_SETS[name][rng.integers(len(MINIMAL_SETS[name]))]
    carriers = CARRIERS_V2[split]
    return minimal_pair_sentence(name, word, carriers[rng.integers(len(carriers))])


def split_of(sentence: Sentence) -> str:
    """The split whose speakers may read ``sentence`` (corpus v2): the split of its key."""
    kind, key = sentence.kind, sentence.labels["key"]
    if kind == "command":
        return command_key_split(key)
    if kind == "minimal_pair":
        return next(split for split, carriers in CARRIERS_V2.items() if key in {" ".join(c) for c in carriers})
    return split_of_key(kind, key)


GENERATORS_V2 = {"command": command_v2, "homophone": homophone_v2, "rich": rich_v2, "minimal_pair": minimal_pair_v2}


def held_out_sentences(split: str, seed: int = 0, sizes: dict[str, int] | None = None) -> list[Sentence]:
    """The fixed sentences of a held-out split; every speaker of that split reads all of them.

    Parameters
    ----------
    split : {"validation", "test"}
    seed : int
        The corpus seed.
    sizes : dict, optional
        Sentences per kind; default :data:`HELD_OUT_SIZES`. Homophones come as minimal pairs: one pair of
        sentences per homophone pair, the cue before the target for half of the pairs and after it for the other
        half (swapped between validation and test).

    Returns
    -------
    list of Sentence
        Homophones first (the two members of each pair next to each other), then commands, rich sentences and
        minimal-pair words.
    """
    if split not in ("validation", "test"):
        raise ValueError(f"held-out split must be 'validation' or 'test', got {split!r}.")
    sizes = dict(HELD_OUT_SIZES, **(sizes or {}))
    keys = [k for k, s in _COMMAND_SPLITS.items() if s == split]
    if sizes["homophone"] % 2:
        raise ValueError(f"Homophones come in minimal pairs: give an even number, not {sizes['homophone']}.")
    if sizes["command"] > len(keys):
        raise ValueError(f"There are {len(keys)} held-out command keys per split; {sizes['command']} commands would "
                         "repeat sentences.")
    rng = np.random.default_rng([seed, 2, SPLIT_SEEDS[split]])
    out: list[Sentence] = []
    groups = sorted(HOMOPHONE_PAIRS)
    for i in range(sizes["homophone"] // 2):
        group = groups[i % len(groups)]
        position = CUE_POSITIONS[(i + (split == "validation") + i // len(groups)) % 2]
        frame = homophone_frame(position, rng, split)
        for spelling in sorted(HOMOPHONE_PAIRS[group]):
            cues = HOMOPHONE_PAIRS[group][spelling][position]
            out.append(homophone_sentence(group, spelling, position, cues[rng.integers(len(cues))], frame))
    for i in range(sizes["command"]):
        action, rest = keys[i % len(keys)].split(".", 1)
        phrase, obj, loc = rest.split(":")
        out.append(command_sentence(action, int(phrase), obj, loc, rng))
    seen: set[str] = set()
    while len(seen) < sizes["rich"]:
        sent = rich_v2(rng, split)
        if sent.text not in seen:
            seen.add(sent.text)
            out.append(sent)
    sets = sorted(MINIMAL_SETS)
    carrier = CARRIERS_V2[split][0]
    for i in range(sizes["minimal_pair"]):
        name = sets[i % len(sets)]
        words = MINIMAL_SETS[name]
        out.append(minimal_pair_sentence(name, words[(i // len(sets)) % len(words)], carrier))
    return out


#: Sentences per kind in each held-out split (each read by every speaker of the split).
HELD_OUT_SIZES = {"homophone": 32, "command": 16, "rich": 8, "minimal_pair": 16}
SPLIT_SEEDS = {"validation": 1, "test": 2}


# ==========================================================================
# French homophones decided by grammatical agreement (the French corpus, ``language="fr"``; docs/corpus.md).
#
# After Mohebbi et al. (2023): in French, the masculine and feminine of many nouns are spelled differently and
# pronounced the same ("député" / "députée", both /depyte/). What decides the spelling is agreement with another
# word whose two forms *do* sound different: a determiner before the noun ("le" /lə/, "la" /la/) or an adjective
# after it ("prudent" /pʁydɑ̃/, "prudente" /pʁydɑ̃t/). As in the English pairs, both spellings occur in the same
# frames; only the cue word and the target's spelling differ. Determiners that do not agree audibly ("leur",
# "chaque") open the cue-after frames, and every word after the noun starts with a consonant, so no liaison lets
# the noun's gender leak into the sound of a neighbour.

#: Homophone nouns, masculine/feminine (identical phones in every French accent of the corpus; the tests check it).
FR_HOMOPHONE_PAIRS: tuple[str, ...] = (
    "député/députée", "délégué/déléguée", "fiancé/fiancée", "marié/mariée", "salarié/salariée", "blessé/blessée",
    "retraité/retraitée", "réfugié/réfugiée",
)
#: The cue words of each gender: determiners before the noun, attributive adjectives after it. Each cue word
#: occurs with one gender only, and the two forms of every cue sound different.
FR_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "before": {"masculine": ("le", "ce", "un"), "feminine": ("la", "cette", "une")},
    "after": {"masculine": ("prudent", "content", "patient", "charmant"),
              "feminine": ("prudente", "contente", "patiente", "charmante")},
}
#: Frame words shared by both genders. Cue before: "<opener> <cue> <noun> <verb> <adverb>"; cue after:
#: "<opener> <determiner> <noun> <cue> <verb> <adverb>".
_FR_OPENERS = ("hier", "alors", "soudain", "enfin", "puis", "ensuite")
_FR_DETERMINERS = ("leur", "notre", "votre", "chaque")
_FR_VERBS = ("parlait", "chantait", "votait", "pleurait", "dormait", "mangeait")
_FR_ADVERBS = ("encore", "souvent", "ici", "toujours", "beaucoup", "longtemps")


def french_gender(spelling: str) -> str:
    """``"feminine"`` for the feminine spelling of a :data:`FR_HOMOPHONE_PAIRS` noun, else ``"masculine"``."""
    return "feminine" if spelling.endswith("ée") else "masculine"


def french_frame(position: str, rng: np.random.Generator, split: str) -> tuple[str, ...]:
    """Frame words for a cue ``position`` whose key is in ``split``: ``(opener, verb, adverb)`` before,
    ``(opener, determiner, verb, adverb)`` after (drawn until one is)."""
    while True:
        opener, verb, adverb = (xs[rng.integers(len(xs))] for xs in (_FR_OPENERS, _FR_VERBS, _FR_ADVERBS))
        frame = ((opener, verb, adverb) if position == "before"
                 else (opener, _FR_DETERMINERS[rng.integers(len(_FR_DETERMINERS))], verb, adverb))
        if split_of_key("homophone-fr", _frame_key(position, frame)) == split:
            return frame


def french_homophone_sentence(group: str, spelling: str, position: str, cue: str,
                              frame: tuple[str, ...]) -> Sentence:
    """One member of a French minimal pair: the other has the other gender's spelling and cue, same frame.

    Parameters
    ----------
    group : str
        A :data:`FR_HOMOPHONE_PAIRS` entry, e.g. ``"député/députée"``.
    spelling : str
        One of its two spellings.
    position : {"before", "after"}
        Where the cue stands relative to the noun.
    cue : str
        A cue word of ``spelling``'s gender and ``position`` (:data:`FR_CUES`).
    frame : tuple of str
        From :func:`french_frame`.
    """
    if cue not in FR_CUES[position][french_gender(spelling)]:
        raise ValueError(f"{cue!r} is not a {position}-cue of the {french_gender(spelling)} {spelling!r}.")
    if position == "before":
        opener, verb, adverb = frame
        words, target, cue_index = (opener, cue, spelling, verb, adverb), 2, 1
    else:
        opener, det, verb, adverb = frame
        words, target, cue_index = (opener, det, spelling, cue, verb, adverb), 2, 3
    key = _frame_key(position, frame)
    labels = {"homophone_group": group, "target_word": spelling, "target_index": target, "cue_word": cue,
              "cue_index": cue_index, "cue_position": position, "pair_id": f"{group}|{key}", "key": key}
    return Sentence("homophone", words, labels)


def french_homophone(rng: np.random.Generator, split: str = "train") -> Sentence:
    """A random French homophone sentence whose frame belongs to ``split``."""
    group = FR_HOMOPHONE_PAIRS[rng.integers(len(FR_HOMOPHONE_PAIRS))]
    spelling = group.split("/")[rng.integers(2)]
    position = CUE_POSITIONS[rng.integers(2)]
    cues = FR_CUES[position][french_gender(spelling)]
    return french_homophone_sentence(group, spelling, position, cues[rng.integers(len(cues))],
                                     french_frame(position, rng, split))


def french_held_out_sentences(split: str, seed: int = 0) -> list[Sentence]:
    """The French sentences of a held-out split, every one read by every speaker of the split.

    One minimal pair per homophone noun and cue position (16 pairs, 32 sentences; the masculine member first),
    each pair in a frame of its own drawn from ``split``'s keys, the cue words drawn at random.
    """
    if split not in ("validation", "test"):
        raise ValueError(f"held-out split must be 'validation' or 'test', got {split!r}.")
    rng = np.random.default_rng([seed, 3, SPLIT_SEEDS[split]])
    out: list[Sentence] = []
    for group in FR_HOMOPHONE_PAIRS:
        for position in CUE_POSITIONS:
            frame = french_frame(position, rng, split)
            for spelling in group.split("/"):
                cues = FR_CUES[position][french_gender(spelling)]
                out.append(french_homophone_sentence(group, spelling, position, cues[rng.integers(len(cues))],
                                                     frame))
    return out
