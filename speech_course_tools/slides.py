"""Lecture slides: reveal.js decks and PDFs built offline from the Markdown sources in ``slides/``.

``speech-course slides build [--pdf] [--out DIR]`` (or ``python -m speech_course_tools.slides build``) turns every
``slides/NN_name.md`` into a self-contained HTML deck next to a copy of the vendored reveal.js
(``slides/vendor/reveal.js``, MIT licence), so the decks open from disk, offline, with no CDN. ``--pdf`` also prints
each deck to PDF with headless Chromium driven by Playwright (one page per slide).

**Source format** (one file per deck, plain Markdown, reviewable as text):

* slides are separated by a line holding only ``---``;
* a line starting with ``Note:`` starts the speaker notes of its slide (everything after it, Markdown);
* ``<!-- .slide: class="title" -->`` sets attributes of the slide's ``<section>`` (as reveal's own Markdown
  plugin does);
* a line holding only ``||`` starts a column: the columns sit side by side below the heading (and below any text
  before the first ``||``);
* ``![caption](fig:NAME)`` inserts a figure made by :mod:`speech_course_tools.slidefigures`; the text in brackets
  becomes the visible caption, and the alt text comes from the figure itself (it describes the plot with its
  numbers, so it stays right when the figure is regenerated). Other images need a non-empty alt text: the build
  refuses an image without one.

**Figures** are computed by the course's own code from the shipped models and corpus and cached in
``slides/build/figures/`` (one JSON manifest per figure group with a hash of its inputs: the figure code, the course
modules it calls, the model files, the corpus checksum and the settings). A group is recomputed only when its hash
changes or a file is missing; ``--force-figures`` recomputes everything. A group that fails (e.g. a Part II module
that is being changed) yields clearly marked placeholder figures, and the build reports them.

**Claims** (findings as code, as :mod:`course.claims` does for the notebooks): ``slides/claims/<deck>.py`` checks
each sentence of the deck that says what the shipped models or the corpus show ("the profile is flat", "far above
the random twin") against the numbers the figures recorded. The build refuses a claims file whose sentences are not,
word for word, in the deck's source, and a full build stops with every sentence that no longer holds (a ``--fast``
build, whose small samples give other numbers, only warns). See :func:`check_claims`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import html
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import mistune
import numpy as np

import course
from course.claims import Claims, claimed_sentences, sentences_not_in_text
from course.errors import CourseError
from course.grading.layout import repo_root
from speech_course_tools import bibliography

#: The repository's slides folder (sources, theme, vendored reveal.js).
SLIDES_DIR = repo_root() / "slides"
#: Where ``slides build`` writes by default (git-ignored).
DEFAULT_OUT = SLIDES_DIR / "build"
#: The decks, in course order.
DECKS = ("01_introduction", "02_representations", "03_feature_importance", "04_outlook")
#: Version of the figure cache format and of this builder; bump to invalidate every cached figure.
CACHE_VERSION = 1
#: Slide size in CSS pixels (reveal scales it to the window; the PDF has one page of this size per slide).
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720

_FIG_RE = re.compile(r"!\[([^\]]*)\]\(fig:([A-Za-z0-9_\-]+)\)")
_IMG_RE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_ATTR_RE = re.compile(r"<!--\s*\.slide:(.*?)-->", re.S)
_PAIR_RE = re.compile(r'([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)"')
_FENCE_RE = re.compile(r"^(```|~~~)")
_NUM_RE = re.compile(r"\{\{\s*([A-Za-z_]\w*)((?:\.[\w\-]+)+)\s*(?::\s*([^}]*?))?\s*\}\}")


class SlidesError(CourseError, RuntimeError):
    """A deck source, a figure or the PDF printer is not usable; the message says what to fix."""


class SlideClaimError(SlidesError):
    """A sentence of a deck no longer holds on the recorded numbers, or a claims file does not match its deck."""


class MissingNumber(CourseError, LookupError):
    """A claim asked for a number the figure cache does not have (a placeholder group)."""


# --------------------------------------------------------------------------
# Sources


@dataclass
class Slide:
    """One slide: its ``<section>`` attributes, Markdown body and speaker notes."""

    attrs: dict
    body: str
    notes: str = ""


@dataclass
class Deck:
    """A parsed deck."""

    name: str
    title: str
    slides: list[Slide] = field(default_factory=list)

    def figure_names(self) -> list[str]:
        return [m.group(2) for s in self.slides for m in _FIG_RE.finditer(s.body)]

    def number_groups(self) -> list[str]:
        """Figure groups whose numbers the text quotes (``{{group.key}}``)."""
        return [m.group(1) for s in self.slides for m in _NUM_RE.finditer(s.body + "\n" + s.notes)]


def _split_slides(text: str) -> list[str]:
    """Split at lines holding only ``---`` (outside fenced code blocks)."""
    chunks, current, fenced = [], [], False
    for line in text.splitlines():
        if _FENCE_RE.match(line.strip()):
            fenced = not fenced
        if not fenced and line.strip() == "---":
            chunks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    chunks.append("\n".join(current))
    return [c for c in chunks if c.strip()]


def parse_deck(text: str, name: str = "deck") -> Deck:
    """Parse a deck source (see the module docstring for the format)."""
    slides = []
    for k, chunk in enumerate(_split_slides(text)):
        attrs: dict = {}
        for m in _ATTR_RE.finditer(chunk):
            attrs.update(dict(_PAIR_RE.findall(m.group(1))))
        chunk = _ATTR_RE.sub("", chunk)
        lines = chunk.splitlines()
        note_at = next((i for i, line in enumerate(lines) if line.startswith("Note:")), None)
        notes = ""
        if note_at is not None:
            notes = "\n".join([lines[note_at][len("Note:"):].strip()] + lines[note_at + 1:]).strip()
            lines = lines[:note_at]
        body = "\n".join(lines).strip()
        if not body:
            raise SlidesError(f"{name}: slide {k + 1} has no content (only notes or attributes).")
        slides.append(Slide(attrs, body, notes))
    if not slides:
        raise SlidesError(f"{name}: no slides.")
    first = next((line for line in slides[0].body.splitlines() if line.startswith("#")), None)
    if first is None:
        raise SlidesError(f"{name}: the first slide must start with a heading (the deck's title).")
    return Deck(name, first.lstrip("#").strip(), slides)


def load_deck(name: str, src: Path | None = None) -> Deck:
    path = (src or SLIDES_DIR) / f"{name}.md"
    if not path.is_file():
        raise SlidesError(f"No deck source {path}.")
    return parse_deck(path.read_text(encoding="utf-8"), name)


# --------------------------------------------------------------------------
# Figures and their cache


def _module_source(name: str) -> bytes:
    """Source of a module a figure group depends on: a course module (``probing``) or this package's own."""
    for folder in (Path(__file__).resolve().parent, Path(course.__file__).resolve().parent):
        if (folder / f"{name}.py").is_file():
            return (folder / f"{name}.py").read_bytes()
    return b"<missing>"


def _model_digest(name: str) -> str:
    from course.models import SHIPPED_DIR  # start-up: speech-course --help loads this module (torch)

    h = hashlib.sha256()
    folder = SHIPPED_DIR / name
    for f in sorted(folder.glob("*")) if folder.is_dir() else []:
        if f.name != "README.md":  # the model card's prose does not change a figure
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _corpus_digest() -> str:
    from course.corpus import load_corpus  # start-up: speech-course --help loads this module (pandas)

    info = load_corpus().info
    return str(info.get("manifest_sha256") or json.dumps(info, sort_keys=True, default=str))


def figure_key(group: str, fast: bool = False) -> str:
    """The cache key of a figure group: a hash of everything its figures depend on."""
    import matplotlib  # start-up: speech-course --help loads this module

    from speech_course_tools import slidefigures as sf  # start-up: speech-course --help loads this module (torch)

    g = sf.GROUPS[group]
    h = hashlib.sha256()
    h.update(f"v{CACHE_VERSION} {group} fast={fast} mpl={matplotlib.__version__}".encode())
    for mod in sf.COMMON_MODULES + g.modules:
        h.update(mod.encode())
        h.update(_module_source(mod))
    for model in g.models:
        h.update(_model_digest(model).encode())
    h.update(_corpus_digest().encode())
    return h.hexdigest()[:16]


def _group_of(figure: str) -> str:
    from speech_course_tools import slidefigures as sf  # start-up: speech-course --help loads this module (torch)

    for name, g in sf.GROUPS.items():
        if figure in g.figures:
            return name
    raise SlidesError(f"Unknown figure {figure!r}; known figures: "
                      f"{', '.join(f for g in sf.GROUPS.values() for f in g.figures)}.")


def _quietly(func: Callable, *args, **kwargs):  # noqa: ANN202
    """Run ``func`` with the transformers logger at error level and no progress bars (restored afterwards)."""
    try:
        from transformers.utils import logging as tlog  # start-up: speech-course --help loads this module
    except ImportError:
        return func(*args, **kwargs)
    level = tlog.get_verbosity()
    bars = tlog.is_progress_bar_enabled()
    tlog.set_verbosity_error()
    tlog.disable_progress_bar()
    try:
        return func(*args, **kwargs)
    finally:
        tlog.set_verbosity(level)
        if bars:
            tlog.enable_progress_bar()


def ensure_figures(cache: Path, groups: Sequence[str] | None = None, fast: bool = False, force: bool = False,
                   log: Callable[[str], None] = print) -> tuple[dict[str, dict], dict[str, dict]]:
    """Make (or reuse) the figures of ``groups`` in ``cache``.

    Returns ``(figures, numbers)``: ``{figure name: FigureSpec dict}`` and ``{group: the numbers it recorded}``.

    A group is recomputed when its manifest is missing, its key differs from :func:`figure_key`, one of its files
    is missing, or ``force`` is set. Its manifest ``cache/<group>.json`` records the key, the figures, the numbers
    they show and how long they took.
    """
    from speech_course_tools import slidefigures as sf  # start-up: speech-course --help loads this module (torch)

    cache.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict] = {}
    numbers: dict[str, dict] = {}
    for group in groups if groups is not None else list(sf.GROUPS):
        key = figure_key(group, fast)
        manifest_path = cache / f"{group}.json"
        manifest = None
        if manifest_path.is_file() and not force:
            try:
                manifest = json.loads(manifest_path.read_text())
            except json.JSONDecodeError:
                manifest = None
        fresh = (manifest is not None and manifest.get("key") == key and not manifest.get("error")
                 and all((cache / f["file"]).is_file() for f in manifest["figures"].values()))
        if not fresh:
            log(f"figures: computing '{group}' ({sf.GROUPS[group].description})")
            manifest = _quietly(sf.make_group, group, cache, fast=fast)
            manifest["key"] = key
            manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
            note = f" — PLACEHOLDERS: {manifest['error']}" if manifest["error"] else ""
            log(f"figures: '{group}' done in {manifest['seconds']:.1f} s (CPU {manifest.get('cpu_seconds', 0):.1f} s)"
                f"{note}")
        else:
            log(f"figures: '{group}' cached ({key})")
        figures.update(manifest["figures"])
        numbers[group] = manifest.get("numbers") or {}
    return figures, numbers


# --------------------------------------------------------------------------
# Claims: the decks' readings checked against the recorded numbers

#: The notebooks' claims files (:mod:`course.claims`), which a slide may restate.
NOTEBOOK_CLAIMS_DIR = SLIDES_DIR.parent / "autograder" / "claims"


def claims_path(deck: str, src: Path | None = None) -> Path:
    """Where the claims of ``deck`` live: ``slides/claims/<deck>.py`` (the file may not exist)."""
    return Path(src or SLIDES_DIR) / "claims" / f"{deck}.py"


def number(numbers: dict, path: str):  # noqa: ANN201
    """The recorded number at ``path`` (``"representations.summary.probe_min"``, as in ``{{...}}``).

    Raises
    ------
    MissingNumber
        If its group has no numbers (a placeholder: the figures could not be computed).
    SlideClaimError
        If the group is not one the deck uses, or the group does not have this number (a wrong path).
    """
    group, _, rest = path.partition(".")
    if group not in numbers:
        raise SlideClaimError(f"a claim asks for {path!r}, but the deck uses no number or figure of the group "
                              f"{group!r} (groups: {', '.join(sorted(numbers))}); quote one in the deck.")
    if not numbers[group]:
        raise MissingNumber(f"no numbers for the group {group!r}")
    value = _lookup(numbers, group, rest) if rest else numbers[group]
    if value is None:
        raise SlideClaimError(f"a claim asks for {path!r}, which the group {group!r} does not record.")
    return value


def notebook_checks(assignment: str, sentence: str, claims_dir: Path | None = None) -> bool:
    """Whether the claims file of notebook ``assignment`` checks ``sentence`` (white space normalised).

    A slide that restates a notebook's finding checks this: the notebook's build checks the finding on the
    notebook's outputs, and when a retrain changes it (so its sentence is rewritten) the slide's claim fails too.
    """

    path = Path(claims_dir or NOTEBOOK_CLAIMS_DIR) / f"{assignment}.py"
    if not path.is_file():
        return False
    words = re.sub(r"\s+", " ", sentence).strip()
    return words in {re.sub(r"\s+", " ", s).strip() for s in claimed_sentences(path.read_text(encoding="utf-8"))}


@dataclass
class ClaimsResult:
    """The claims of one deck: the sentences checked, those that do not hold, or why they could not be run."""

    deck: str
    checked: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    unchecked: str | None = None


def check_claims(deck: str, numbers: dict, src: Path | str | None = None,
                 claims_dir: Path | None = None) -> ClaimsResult | None:
    """Run ``slides/claims/<deck>.py`` on the recorded ``numbers``; None when the deck has no claims file.

    The script runs with ``claims`` (a :class:`course.claims.Claims` named after the deck), ``numbers`` (the
    recorded numbers by group, as ``{{...}}`` sees them), ``num(path)`` (one of them, or :class:`MissingNumber`),
    ``notebook_checks(assignment, sentence)`` and ``np`` (NumPy) at hand, and checks sentences with
    ``claims.check(sentence, holds, **evidence)`` and ``claims.number(sentence, shown, value)``.

    Raises
    ------
    SlideClaimError
        If a sentence the script checks is not in the deck's source (word for word, white space normalised: so a
        reworded slide cannot silently lose its check), or the script checks nothing.
    """

    src = Path(src) if src else SLIDES_DIR
    path = claims_path(deck, src)
    if not path.is_file():
        return None
    code = path.read_text(encoding="utf-8")
    source = (src / f"{deck}.md").read_text(encoding="utf-8")
    try:
        missing = sentences_not_in_text(code, [source])
    except AssertionError as exc:  # a ClaimError: a sentence that is not a literal
        raise SlideClaimError(f"{path}: {exc}") from exc
    if missing:
        raise SlideClaimError(f"{path}: these sentences are not in slides/{deck}.md (a claim checks the sentence the "
                              "audience reads, word for word):\n" + "\n".join(f"  - {m!r}" for m in missing))
    claims = Claims(deck)
    scope = {"__name__": f"slide_claims_{deck}", "claims": claims, "numbers": numbers, "np": np,
             "num": lambda p: number(numbers, p),
             "notebook_checks": lambda a, sentence: notebook_checks(a, sentence, claims_dir)}
    try:
        exec(compile(code, str(path), "exec"), scope)  # noqa: S102 (the course's own file)
    except MissingNumber as exc:
        return ClaimsResult(deck, unchecked=f"{exc} (placeholder figures?)")
    if not claims.checked:
        raise SlideClaimError(f"{path}: no claim was checked; a claims file checks at least one sentence.")
    return ClaimsResult(deck, claims.checked, claims.failed())


def claims_message(results: Sequence[ClaimsResult]) -> str:
    """The failed sentences of ``results``, one line each with the values they were checked on."""
    lines = [f"  - {r.deck}: {c.sentence!r} ({c.evidence})" for r in results for c in r.failed]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# HTML


def _markdown() -> Callable[[str], str]:

    return mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])


def _figure_html(caption: str, spec: dict, render: Callable[[str], str]) -> str:
    cls = "fig placeholder" if spec.get("placeholder") else "fig"
    cap = caption.strip()
    if spec.get("placeholder"):
        cap = "PLACEHOLDER — " + (cap or spec["name"])
    inline = re.sub(r"^<p>(.*)</p>$", r"\1", render(cap).strip(), flags=re.S) if cap else ""
    fig_cap = f"<figcaption>{inline}</figcaption>" if cap else ""
    src = spec.get("src") or f"figures/{spec['file']}"
    return (f'\n\n<figure class="{cls}"><img src="{html.escape(src)}" '
            f'alt="{html.escape(spec["alt"], quote=True)}">{fig_cap}</figure>\n\n')


def _lookup(numbers: dict, group: str, path: str):  # noqa: ANN202
    value = numbers.get(group)
    for part in path.strip(".").split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", part) and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


#: Number groups filled from the shipped models and the corpus rather than from a figure (``corpus`` is a figure
#: group too: its facts are added beside the numbers its figures record).
STATIC_GROUPS = ("models", "corpus")


def _weights_mb(name: str) -> float:
    from course.models import SHIPPED_DIR  # start-up: speech-course --help loads this module (torch)

    return sum(f.stat().st_size for f in (SHIPPED_DIR / name).glob("*.safetensors")) / 1e6


def static_numbers() -> dict[str, dict]:
    """The numbers the decks quote about the course itself: ``models`` (each shipped model's ``metrics.json``, by
    name) and ``corpus`` (the default corpus: utterances, hours, speakers per split, accents)."""
    from course.corpus import load_corpus  # start-up: speech-course --help loads this module (pandas)
    from course.models import SHIPPED, shipped_metrics  # start-up: speech-course --help loads this module (torch)

    models = {name: {**shipped_metrics(name), "size_mb": _weights_mb(name)} for name in SHIPPED}
    models["shipped"] = sorted(SHIPPED)
    m = load_corpus().manifest
    per_split = m.groupby("split")["speaker"].nunique()
    corpus = {"utterances": len(m), "hours": float(m["duration"].sum() / 3600), "speakers": int(m["speaker"].nunique()),
              "accents": int(m["accent"].nunique()), **{f"{split}_speakers": int(n) for split, n in per_split.items()}}
    heldout = m[m["split"] != "train"]
    corpus["heldout_speakers"] = int(heldout["speaker"].nunique())
    corpus["kinds"] = sorted(m["kind"].unique())
    # facts the decks state about the design: held-out sentences, and one set of sentences for all test speakers
    corpus["heldout_sentences_unseen"] = not set(heldout["text"]) & set(m.loc[m["split"] == "train", "text"])
    test = m[m["split"] == "test"]
    corpus["test_speakers_same_sentences"] = len({frozenset(g["text"]) for _, g in test.groupby("speaker")}) == 1
    return {"models": models, "corpus": corpus}


def fill_numbers(text: str, numbers: dict, missing: list | None = None) -> str:
    """Replace ``{{group.key.sub:fmt}}`` by the number a figure group recorded (``fmt``: a Python format spec).

    Numbers quoted in the text therefore always match the figures: they come from the same cache manifest. A
    number the cache does not have (a placeholder group) becomes ``n/a`` and is appended to ``missing``.
    """
    def sub(m: re.Match) -> str:
        value = _lookup(numbers, m.group(1), m.group(2))
        if value is None:
            if missing is not None:
                missing.append(m.group(0))
            return "n/a"
        fmt = m.group(3)
        try:
            return format(value, fmt) if fmt else str(value)
        except (TypeError, ValueError) as exc:
            raise SlidesError(f"Cannot format {m.group(0)} (value {value!r}): {exc}") from exc

    return _NUM_RE.sub(sub, text)


def _render_body(md: str, figures: dict[str, dict], render: Callable[[str], str], where: str) -> str:
    def fig(m: re.Match) -> str:
        if m.group(2) not in figures:
            raise SlidesError(f"{where}: unknown figure {m.group(2)!r}.")
        return _figure_html(m.group(1), figures[m.group(2)], render)

    md = _FIG_RE.sub(fig, md)
    for m in _IMG_RE.finditer(md):
        if not m.group(1).strip():
            raise SlidesError(f"{where}: the image {m.group(2)!r} has no alt text: write ![what it shows](...).")
    return render(md)


@functools.lru_cache(maxsize=1)
def _bibliography() -> dict:
    return bibliography.load()


def cite(text: str) -> str:
    """Citations by key (``[@key]``, :mod:`speech_course_tools.bibliography`) as in-text "(Author et al., Year)";
    on the References slide, where each reference is written out, its marker is dropped."""
    if not bibliography.CITATION.search(text):
        return text
    if re.search(r"^## (References|Reading list)", text, re.M):
        return bibliography.strip_citations(text)
    return bibliography.render_citations(text, _bibliography(), lambda entry, shown: shown)


def render_slide(slide: Slide, figures: dict[str, dict], render: Callable[[str], str], where: str,
                 numbers: dict | None = None, missing: list | None = None) -> str:
    lines = cite(fill_numbers(slide.body, numbers or {}, missing)).splitlines()
    note_text = cite(fill_numbers(slide.notes, numbers or {}, missing))
    head = ""
    if lines and lines[0].startswith("#") and any(line.strip() == "||" for line in lines):
        head, lines = lines[0], lines[1:]
    parts, current = [], []
    for line in lines:
        if line.strip() == "||":
            parts.append("\n".join(current))
            current = []
        else:
            current.append(line)
    parts.append("\n".join(current))
    if len(parts) > 1:  # text before the first "||" spans the slide above the columns
        preamble = _render_body(parts[0], figures, render, where) if parts[0].strip() else ""
        cols = "".join(f'<div class="col">{_render_body(p, figures, render, where)}</div>' for p in parts[1:])
        inner = (render(head) if head else "") + preamble + f'<div class="columns">{cols}</div>'
    else:
        inner = _render_body("\n".join(lines), figures, render, where)
    attrs = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in slide.attrs.items())
    notes = f'\n<aside class="notes">{render(note_text)}</aside>' if note_text else ""
    return f"<section{attrs}>\n{inner}{notes}\n</section>"


def render_deck(deck: Deck, figures: dict[str, dict], numbers: dict | None = None,
                missing: list | None = None) -> str:
    """The deck as one HTML page that loads reveal.js from ``reveal/`` next to it."""
    render = _markdown()
    sections = "\n".join(render_slide(s, figures, render, f"{deck.name}, slide {k + 1}", numbers, missing)
                         for k, s in enumerate(deck.slides))
    config = {"hash": True, "slideNumber": "c/t", "width": SLIDE_WIDTH, "height": SLIDE_HEIGHT, "margin": 0.04,
              "center": False, "transition": "none", "pdfMaxPagesPerSlide": 1, "pdfSeparateFragments": False,
              "showNotes": False}
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(deck.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="reveal/reset.css">
<link rel="stylesheet" href="reveal/reveal.css">
<link rel="stylesheet" href="theme.css">
</head>
<body>
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="reveal/reveal.js"></script>
<script src="reveal/plugin/notes.js"></script>
<script>
Reveal.initialize(Object.assign({json.dumps(config)}, {{plugins: [RevealNotes]}}));
</script>
</body>
</html>
"""


def _index_html(decks: list[Deck], pdfs: bool) -> str:
    rows = "\n".join(
        f'<li><a href="{d.name}.html">{html.escape(d.title)}</a> — {len(d.slides)} slides'
        + (f' · <a href="{d.name}.pdf">PDF</a>' if pdfs else "") + "</li>" for d in decks)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slides: Interpretability Techniques for Speech Models</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="theme.css"></head>
<body class="index"><main>
<h1>Interpretability Techniques for Speech Models: slides</h1>
<ul>
{rows}
</ul>
<p>Keys: <kbd>→</kbd>/<kbd>Space</kbd> next slide, <kbd>S</kbd> speaker view with notes and timer, <kbd>F</kbd>
full screen, <kbd>Esc</kbd> overview. Everything here works offline.</p>
</main></body></html>
"""


def _copy_reveal(out: Path) -> None:
    vendor = SLIDES_DIR / "vendor" / "reveal.js"
    needed = ["reveal.js", "reveal.css", "reset.css", "plugin/notes.js", "LICENSE"]
    missing = [f for f in needed if not (vendor / f).is_file()]
    if missing:
        raise SlidesError(f"The vendored reveal.js is incomplete in {vendor} (missing {missing}); see "
                          "slides/vendor/README.md to refresh it.")
    dest = out / "reveal"
    for f in needed:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(vendor / f, dest / f)


# --------------------------------------------------------------------------
# PDF


def find_chromium() -> str | None:
    """The system Chromium (Debian's ``chromium``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


_CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-extensions", "--allow-file-access-from-files"]


def print_pdfs(pages: Sequence[tuple[Path, Path]], chromium: str | None = None,
               log: Callable[[str], None] = print) -> None:
    """Print each ``(deck.html, deck.pdf)`` from reveal's ``?print-pdf`` view: one page per slide.

    Playwright drives the system Chromium (no browser download) and waits until reveal has laid out the print
    view. (``chromium --headless --print-to-pdf`` alone prints a blank page: it does not wait for that layout.)
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        raise SlidesError("PDF needs Chromium: install it (Debian: apt-get install chromium) or build without --pdf.")
    try:
        from playwright.sync_api import sync_playwright  # optional: only --pdf needs it
    except ImportError as exc:
        raise SlidesError("PDF needs the Python package playwright (pip install playwright, or the course's dev "
                          "extra); it drives the system Chromium, no browser download is needed.") from exc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=_CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for src, dst in pages:
                page.goto(src.resolve().as_uri() + "?print-pdf", wait_until="load")
                page.wait_for_function("() => window.Reveal && Reveal.isReady() && "
                                       "document.querySelectorAll('.pdf-page').length > 0", timeout=30_000)
                page.evaluate("() => document.fonts.ready")
                page.pdf(path=str(dst), prefer_css_page_size=True, print_background=True)
                log(f"pdf: {dst}")
        finally:
            browser.close()


def pdf_page_count(path: Path) -> int:
    """Number of pages of a PDF (pypdf when installed, else the page objects Chromium writes)."""
    try:
        from pypdf import PdfReader  # optional: only --pdf needs it

        return len(PdfReader(str(path)).pages)
    except ImportError:
        data = Path(path).read_bytes()
        return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


# --------------------------------------------------------------------------
# Build


@dataclass
class BuildResult:
    """What a build produced."""

    out: Path
    decks: dict[str, Path]
    slide_counts: dict[str, int]
    pdfs: dict[str, Path]
    placeholders: list[str]
    seconds: dict[str, float]
    missing_numbers: list[str] = field(default_factory=list)
    #: Per deck: the claims checked, and those that failed (only a ``--fast`` build returns with failures).
    claims: dict[str, ClaimsResult] = field(default_factory=dict)

    @property
    def claims_failed(self) -> list[str]:
        """The sentences that do not hold on this build's numbers."""
        return [c.sentence for r in self.claims.values() for c in r.failed]


def build(out: Path | str | None = None, pdf: bool = False, decks: Sequence[str] | None = None, fast: bool = False,
          force_figures: bool = False, figures_cache: Path | str | None = None, src: Path | str | None = None,
          log: Callable[[str], None] = print) -> BuildResult:
    """Build the HTML decks (and with ``pdf`` their PDFs) into ``out`` (default ``slides/build``).

    Parameters
    ----------
    out : path, optional
        Output folder: ``<deck>.html``, ``<deck>.pdf``, ``index.html``, ``theme.css``, ``reveal/``, ``figures/``.
    pdf : bool
        Also print every deck to PDF with headless Chromium.
    decks : sequence of str, optional
        Deck names (default :data:`DECKS`).
    fast : bool
        Smaller samples for the figures (for tests; cached separately, in ``figures-fast``).
    force_figures : bool
        Recompute every figure even if cached.
    figures_cache : path, optional
        Where figures are cached (default ``slides/build/figures``, or ``figures-fast`` with ``fast``).
    src : path, optional
        Folder of the deck sources and ``theme.css`` (default ``slides/``).
    """
    t0 = time.perf_counter()
    src = Path(src) if src else SLIDES_DIR
    out = Path(out) if out else DEFAULT_OUT
    names = list(decks) if decks else list(DECKS)
    unknown = [n for n in names if not (src / f"{n}.md").is_file()]
    if unknown:
        raise SlidesError(f"No source for decks {unknown} in {src}; decks: {', '.join(DECKS)}.")
    parsed = [load_deck(n, src) for n in names]
    groups = sorted({_group_of(f) for d in parsed for f in d.figure_names()} | {g for d in parsed for g in
                                                                                  d.number_groups()})
    from speech_course_tools import slidefigures as sf  # start-up: speech-course --help loads this module (torch)

    static = sorted(set(groups) & set(STATIC_GROUPS))
    groups = [g for g in groups if g in sf.GROUPS or g not in STATIC_GROUPS]  # "corpus" is both: figures and facts
    bad = sorted({g for g in groups if g not in sf.GROUPS})
    if bad:
        raise SlidesError(f"The text quotes numbers of unknown figure groups {bad}; groups: "
                          f"{', '.join((*sf.GROUPS, *STATIC_GROUPS))}.")
    cache = Path(figures_cache) if figures_cache else DEFAULT_OUT / ("figures-fast" if fast else "figures")
    seconds = {}
    t = time.perf_counter()
    figures, numbers = ensure_figures(cache, groups, fast=fast, force=force_figures, log=log)
    if static:
        for g, values in static_numbers().items():
            if g in static:
                numbers.setdefault(g, {}).update(values)  # beside a figure group's own numbers, never instead
    seconds["figures"] = round(time.perf_counter() - t, 1)
    claims = {d.name: r for d in parsed if (r := check_claims(d.name, numbers, src)) is not None}
    failed = [r for r in claims.values() if r.failed]
    for r in claims.values():
        if r.unchecked:
            log(f"WARNING: the claims of {r.deck} were not checked: {r.unchecked}")
    if failed and not fast:
        raise SlideClaimError(f"{sum(len(r.failed) for r in failed)} sentences of the decks no longer hold on the "
                              f"figures' numbers (in {cache}); change the text and its claim in slides/claims/, or "
                              f"find what changed:\n{claims_message(failed)}")
    if failed:
        log("WARNING: with the small samples of --fast these sentences do not hold (a full build checks them):\n"
            + claims_message(failed))
    held = sum(len(r.checked) - len(r.failed) for r in claims.values())
    log(f"claims: {held} checks of {len(claims)} decks hold" + (" (--fast numbers)" if fast else ""))
    out.mkdir(parents=True, exist_ok=True)
    fig_dir = "figures-fast" if fast else "figures"  # fast figures never overwrite the real ones
    fig_out = out / fig_dir
    if fig_out.resolve() != cache.resolve():
        fig_out.mkdir(exist_ok=True)
        for spec in figures.values():
            shutil.copy2(cache / spec["file"], fig_out / spec["file"])
    for spec in figures.values():
        spec["src"] = f"{fig_dir}/{spec['file']}"
    _copy_reveal(out)
    shutil.copy2(src / "theme.css", out / "theme.css")
    t = time.perf_counter()
    paths, counts, missing = {}, {}, []
    for d in parsed:
        paths[d.name] = out / f"{d.name}.html"
        paths[d.name].write_text(render_deck(d, figures, numbers, missing), encoding="utf-8")
        counts[d.name] = len(d.slides)
        log(f"deck: {paths[d.name]} ({len(d.slides)} slides)")
    (out / "index.html").write_text(_index_html(parsed, pdf), encoding="utf-8")
    seconds["html"] = round(time.perf_counter() - t, 1)
    pdfs = {}
    if pdf:
        t = time.perf_counter()
        pdfs = {d.name: out / f"{d.name}.pdf" for d in parsed}
        print_pdfs([(paths[n], pdfs[n]) for n in pdfs], log=log)
        for n, p in pdfs.items():
            pages = pdf_page_count(p)
            if pages != counts[n]:
                raise SlidesError(f"{p} has {pages} pages but the deck has {counts[n]} slides: a slide overflows "
                                  "or the print view failed.")
        seconds["pdf"] = round(time.perf_counter() - t, 1)
    used = {f for d in parsed for f in d.figure_names()}
    placeholders = sorted(f for f in used if figures[f].get("placeholder"))
    seconds["total"] = round(time.perf_counter() - t0, 1)
    if placeholders:
        log(f"WARNING: placeholder figures (not computed): {', '.join(placeholders)}")
    if missing:
        log(f"WARNING: numbers not available (shown as n/a): {', '.join(sorted(set(missing)))}")
    log(f"slides: {len(parsed)} decks in {out} ({seconds['total']:.1f} s)")
    return BuildResult(out, paths, counts, pdfs, placeholders, seconds, sorted(set(missing)), claims)


# --------------------------------------------------------------------------
# Command line


def _cli_build(args: argparse.Namespace) -> int:
    try:
        build(args.out, pdf=args.pdf, decks=args.deck, fast=args.fast, force_figures=args.force_figures)
    except SlidesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_build(subparsers) -> None:  # noqa: ANN001
    b = subparsers.add_parser("build", help="build the HTML decks (and PDFs) with figures from the shipped models",
                              description="Build self-contained reveal.js decks (offline) from slides/*.md; figures "
                                          "are computed by the course code from the shipped models and cached.")
    b.add_argument("--pdf", action="store_true", help="also print each deck to PDF with headless Chromium")
    b.add_argument("--out", type=Path, default=None, help="output folder (default: slides/build)")
    b.add_argument("--deck", action="append", choices=DECKS, help="build only this deck (repeatable)")
    b.add_argument("--fast", action="store_true", help="small samples for the figures (quick check)")
    b.add_argument("--force-figures", action="store_true", help="recompute the figures even if cached")
    b.set_defaults(func=_cli_build)


def add_cli(subparsers) -> None:  # noqa: ANN001
    """Register ``slides build`` on the ``speech-course`` subparsers object (``parser.add_subparsers()``)."""
    slides = subparsers.add_parser("slides", help="build the lecture decks (HTML, PDF) from slides/*.md",
                                   description="Build the lecture decks from their Markdown sources.")
    _add_build(slides.add_subparsers(dest="slides_command", required=True))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m speech_course_tools.slides build [--pdf] [--out DIR] ...``"""
    parser = argparse.ArgumentParser(prog="python -m speech_course_tools.slides", description=__doc__.splitlines()[0])
    _add_build(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
