"""The course's one bibliography: ``references.bib``, citations by key, and the reading list made from it.

Notebooks, slides and docs cite a work by its key in ``references.bib``, with the citation syntax of pandoc and MyST
(so Jupyter Book 2 reads it as well):

* ``[@kobayashi2020attention]``: a parenthetical citation, rendered "(Kobayashi et al., 2020)";
* ``[@abnar2020quantifying; @mohebbi2023quantifying]``: several works;
* ``[-@kobayashi2020attention]``: the year only, after authors named in the prose ("Kobayashi et al. (2020)").

A "References" list on a page (a notebook's ``## References`` cell, a doc's section) puts the key after each entry;
the book (:mod:`speech_course_tools.site`) replaces that list with the entries rendered from ``references.bib``, and
:func:`check_reference_lists` checks that each hand-written entry names its work's first author and year.

Every entry carries two fields the reading list needs: ``keywords`` (one topic of :data:`TOPICS`) and ``annote``
(one sentence: why a learner should read it). :func:`reading_list` groups the entries by topic.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from course.errors import CourseError
from course.grading.layout import repo_root

ROOT = repo_root()
BIB = ROOT / "references.bib"

#: The reading list's topics, in the course's order: ``keywords`` id -> heading.
TOPICS: dict[str, str] = {
    "speech-models": "Speech models: wav2vec 2.0, HuBERT, WavLM, Whisper, CTC",
    "speech-data": "Speech and its data: phonetics, acoustic features, alignment, synthesis",
    "probing": "Probing classifiers",
    "similarity": "Representational similarity: RSA and CKA",
    "lenses": "Lenses and layer-wise analysis",
    "abx": "ABX discrimination",
    "context-mixing": "Context mixing: attention, rollout, value zeroing",
    "attribution": "Feature attribution and its faithfulness",
    "statistics": "Statistics",
    "software": "Software and tools",
}

#: One citation: ``[@key]``, ``[@a; @b]`` or ``[-@key]`` (keys: letters, digits, ``_:.-``).
CITATION = re.compile(r"\[(-?@[A-Za-z0-9_:.\-]+(?:\s*;\s*-?@[A-Za-z0-9_:.\-]+)*)\]")
_CITED = re.compile(r"(-?)@([A-Za-z0-9_:.\-]+)")
#: A "References" heading (any level) in Markdown.
REFERENCES_HEADING = re.compile(r"^(#{1,6})\s+References\s*$", re.M)
#: The headings of a written-out reference list (a notebook's References cell, a deck's last slide).
_LIST_HEADING = re.compile(r"^(#{1,6})\s+(References|Reading list)\s*$", re.M)


class BibliographyError(CourseError, ValueError):
    """``references.bib`` is malformed, or a citation names a key it does not hold."""


@dataclass(frozen=True)
class Entry:
    """One work of the bibliography, with the fields the course renders."""

    key: str
    kind: str
    authors: tuple[tuple[str, str], ...]  # (surname, given names)
    year: str
    title: str
    venue: str
    url: str
    topic: str
    why: str

    def author_year(self, year_only: bool = False) -> str:
        """The in-text form: "Kobayashi et al., 2020", "Abnar & Zuidema, 2020", or "2020" with ``year_only``."""
        if year_only:
            return self.year
        names = [s for s, _ in self.authors]
        who = names[0] if len(names) == 1 else " & ".join(names) if len(names) == 2 else f"{names[0]} et al."
        return f"{who}, {self.year}"

    def markdown(self) -> str:
        """The full reference in Markdown (APA-like): authors (year). Title. *Venue*. URL."""
        def person(surname: str, given: str) -> str:
            initials = " ".join(f"{p[0]}." for p in re.split(r"[\s]+", given) if p and p[0].isalpha())
            return f"{surname}, {initials}" if initials else surname

        people = [person(*a) for a in self.authors]
        who = people[0] if len(people) == 1 else ", ".join(people[:-1]) + ", & " + people[-1] if people else ""
        parts = [f"{who} ({self.year})." if who else f"({self.year}).", f"{self.title}."]
        if self.venue:
            parts.append(f"*{self.venue}*.")
        if self.url:
            parts.append(f"<{self.url}>")
        return " ".join(parts)


def _plain(text: str) -> str:
    """BibTeX field text without protective braces, LaTeX escapes decoded, white space collapsed."""
    import latexcodec  # noqa: F401  # optional: registers the "ulatex" codec (installed with pybtex)

    text = re.sub(r"\\url\s*\{([^}]*)\}", r"\1", text)
    text = codecs.decode(text, "ulatex") if "\\" in text else text
    return re.sub(r"\s+", " ", text.replace("{", "").replace("}", "")).strip()


def load(path: Path | str = BIB) -> dict[str, Entry]:
    """Parse ``references.bib`` into :class:`Entry` objects, keyed, in file order.

    Raises
    ------
    BibliographyError
        When the file is missing or does not parse, or an entry lacks a year, a title, a ``keywords`` topic of
        :data:`TOPICS` or an ``annote``.
    """
    from pybtex.database import parse_file  # optional: the dev extra (with Jupyter Book)
    from pybtex.scanner import PybtexSyntaxError  # optional: as above

    path = Path(path)
    if not path.is_file():
        raise BibliographyError(f"No bibliography at {path}.")
    try:
        data = parse_file(str(path), bib_format="bibtex")
    except (PybtexSyntaxError, ValueError) as e:
        raise BibliographyError(f"{path.name} does not parse: {e}") from e
    entries: dict[str, Entry] = {}
    problems = []
    for key, e in data.entries.items():
        f = {k.lower(): _plain(v) for k, v in e.fields.items()}
        people = e.persons.get("author") or e.persons.get("editor") or []
        authors = tuple((_plain(" ".join(p.prelast_names + p.last_names)),
                         _plain(" ".join(p.first_names + p.middle_names))) for p in people)
        if not authors and f.get("organization"):
            authors = ((f["organization"], ""),)
        published = f.get("howpublished", "")
        if re.match(r"https?://", published):
            f.setdefault("url", published)
            published = ""
        venue = f.get("booktitle") or f.get("journal") or published or f.get("publisher") or ""
        if f.get("volume") and f.get("journal"):
            venue += f", {f['volume']}" + (f"({f['number']})" if f.get("number") else "")
        url = f.get("url") or (f"https://doi.org/{f['doi']}" if f.get("doi") else "")
        entry = Entry(key, e.type.lower(), authors, f.get("year", ""), f.get("title", ""), venue, url,
                      f.get("keywords", ""), f.get("annote", ""))
        missing = [n for n, v in (("year", entry.year), ("title", entry.title), ("annote", entry.why)) if not v]
        if entry.topic not in TOPICS:
            missing.append(f"keywords (one of {', '.join(TOPICS)}; got {entry.topic!r})")
        if not authors:
            missing.append("author")
        if missing:
            problems.append(f"{key}: {', '.join(missing)}")
        entries[key] = entry
    if problems:
        raise BibliographyError(f"{path.name}: entries missing fields:\n  " + "\n  ".join(problems))
    return entries


#: Code in Markdown (fenced blocks, inline spans): a citation there is an example, not a citation.
_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.S)


def _in_code(text: str) -> Callable[[int], bool]:
    spans = [m.span() for m in _CODE.finditer(text)]
    return lambda pos: any(a <= pos < b for a, b in spans)


def citations(text: str) -> list[tuple[re.Match, list[tuple[str, bool]]]]:
    """Every citation in ``text`` outside code: ``(match, [(key, year_only), ...])``."""
    in_code = _in_code(text)
    return [(m, [(k, bool(dash)) for dash, k in _CITED.findall(m.group(1))]) for m in CITATION.finditer(text)
            if not in_code(m.start())]


def cited_keys(text: str) -> list[str]:
    """The keys ``text`` cites, in order of first citation."""
    keys: dict[str, None] = {}
    for _, cited in citations(text):
        keys.update((k, None) for k, _ in cited)
    return list(keys)


def render_citations(text: str, entries: Mapping[str, Entry], link: Callable[[Entry, str], str]) -> str:
    """Replace every citation in ``text`` by its in-text form, each work made a link by ``link(entry, text)``.

    Raises
    ------
    BibliographyError
        For a key ``references.bib`` does not hold.
    """
    in_code = _in_code(text)

    def one(m: re.Match) -> str:
        if in_code(m.start()):
            return m.group(0)
        parts = []
        for dash, key in _CITED.findall(m.group(1)):
            if key not in entries:
                raise BibliographyError(f"Citation of an unknown key @{key}: add it to references.bib.")
            parts.append(link(entries[key], entries[key].author_year(year_only=bool(dash))))
        return "(" + "; ".join(parts) + ")"

    return CITATION.sub(one, text)


def strip_citations(text: str) -> str:
    """``text`` without its citation markers (and the space before each)."""
    return re.sub(r"[ \t]*" + CITATION.pattern, "", text)


def reference_list_problems(text: str, entries: Mapping[str, Entry], where: str) -> list[str]:
    """Hand-written references (list items, each reference followed by its ``[@key]``) that disagree with the bib.

    The text of a reference (from the start of its list item, or the previous marker, to its marker) must name its
    work's first author and year.
    """
    problems = []
    for item in re.split(r"\n(?=\s*[-*] )", text):
        start = 0
        for m, cited in citations(item):
            segment, start = " ".join(item[start:m.start()].split()), m.end()
            for key, _ in cited:
                e = entries.get(key)
                if e is None:
                    problems.append(f"{where}: unknown key @{key} after {segment[-60:]!r}")
                elif len(cited) == 1 and (not _names_first_author(e, segment) or e.year not in segment):
                    problems.append(f"{where}: {segment[:70]!r} is marked @{key} ({e.authors[0][0]}, {e.year})")
    return problems


def _names_first_author(entry: Entry, text: str) -> bool:
    words = [w for w in re.split(r"[\s-]+", entry.authors[0][0]) if len(w) > 2 and w.lower() != "contributors"]
    return any(w.lower() in text.lower() for w in words or [entry.authors[0][0]])


def reading_list(entries: Mapping[str, Entry], link_target: Callable[[Entry], str] | None = None,
                 cited_in: Mapping[str, Iterable[str]] | None = None) -> str:
    """The reading list in MyST Markdown: one section per topic, each entry with its reference and why to read it.

    Parameters
    ----------
    entries : mapping
        From :func:`load`.
    link_target : callable, optional
        ``entry -> label``: a MyST target written before each entry, so pages can link to it.
    cited_in : mapping, optional
        ``key -> page names`` where the work is cited, listed under the entry.
    """
    lines = ["# Reading list", "",
             f"Every work the course cites ({len(entries)}), by topic. Each entry says why to read it; the notebooks, "
             "slides and reference pages cite these by key (`[@key]` in their sources, from `references.bib` at the "
             "root of the repository).", ""]
    for topic, heading in TOPICS.items():
        group = sorted((e for e in entries.values() if e.topic == topic), key=lambda e: (e.year, e.key))
        if not group:
            continue
        lines += [f"## {heading}", ""]
        for e in group:
            if link_target:
                lines += [f"({link_target(e)})=", ""]
            lines += [e.markdown(), "", f"> {e.why}", ""]
            pages = list((cited_in or {}).get(e.key, ()))
            if pages:
                lines += ["Cited in: " + ", ".join(pages) + ".", ""]
    return "\n".join(lines)


def section_end(text: str, heading: re.Match) -> int:
    """Where the section under ``heading`` (a match whose group 1 is the ``#`` run) ends: at the next heading of the
    same or a higher level, or at the end of ``text``."""
    nxt = re.compile(rf"^#{{1,{len(heading.group(1))}}}\s", re.M).search(text, heading.end())
    return nxt.start() if nxt else len(text)


def reference_sections(text: str) -> list[str]:
    """The written-out reference lists of a Markdown text: each section under a "References" or "Reading list"
    heading, up to the next heading of the same or a higher level."""
    return [text[m.end():section_end(text, m)] for m in _LIST_HEADING.finditer(text)]


def check_sources(texts: Mapping[str, str], entries: Mapping[str, Entry]) -> list[str]:
    """Problems with the citations of several sources (``name -> text``): unknown keys anywhere, and written-out
    reference lists whose entries do not name the work their key points to."""
    problems = []
    for name, text in texts.items():
        problems += [f"{name}: unknown key @{k}" for k in cited_keys(text) if k not in entries]
        for section in reference_sections(text):
            problems += [p for p in reference_list_problems(section, entries, name) if "unknown key" not in p]
    return problems


def check_repository(root: Path = ROOT) -> list[str]:
    """Every citation of the notebooks' sources, the slides and the docs against ``references.bib``
    (``speech-course site check``)."""
    entries = load(root / "references.bib")
    texts = {}
    for path in sorted((root / "autograder" / "source").glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        texts[str(path.relative_to(root))] = "\n\n".join("".join(c["source"]) for c in nb["cells"]
                                                         if c["cell_type"] == "markdown")
    for path in [*sorted((root / "slides").glob("0*.md")), *sorted((root / "docs").glob("*.md"))]:
        texts[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    return check_sources(texts, entries)
