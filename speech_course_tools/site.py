"""The course as a website: a Jupyter Book built offline from ``solutions/``, ``slides/``, ``docs/`` and
``references.bib``.

``speech-course site build --out DIR`` stages a book source in a temporary folder and runs Jupyter Book 1 (Sphinx,
``sphinx-book-theme``, MyST-NB) on it:

* ``index``: the programme, its four parts with their notebooks and lecture decks;
* ``notebooks/NN_name``: one page per notebook, from ``solutions/`` with its outputs (the executed reference: its
  plots and findings are what a reader comes for; the exercises have none), with a button that opens the *exercise*
  version on Binder;
* ``lectures``: the decks, built by :func:`speech_course_tools.slides.build`, embedded and linked;
* ``reading-list``: every entry of ``references.bib`` by topic, with why to read it;
* ``docs/*``: the reference documentation.

Citations (``[@key]``, see :mod:`speech_course_tools.bibliography`) become links to the reading list, and a page's
"References" list is rendered from ``references.bib``. Links to repository files that are not pages go to the
repository on GitHub. Nothing is fetched at build or view time: MathJax is vendored in ``book/vendor/``, the theme
ships its own fonts and scripts, and no Thebe, widget or analytics script is configured (the browser test,
``tests/test_site.py``, fails on any request that leaves the machine).

Jupyter Book 2 (``mystmd``) would read the same sources, but its HTML theme is a separate web application fetched at
build time, which an offline build cannot do; Jupyter Book 1 installs whole from PyPI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from course.errors import CourseError
from course.grading.layout import repo_root
from speech_course_tools import bibliography as B

ROOT = repo_root()
BOOK_DIR = ROOT / "book"
TITLE = "Interpretability Techniques for Speech Models"
#: The GitHub repository the links and Binder buttons point to (``--repo``; the README's badge uses the same).
DEFAULT_REPO = "OWNER/speech-interpretability-course"
BINDER = "https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/exercises/{name}.ipynb"


@dataclass(frozen=True)
class Part:
    """One part of the programme: its title, its lecture deck and its notebooks."""

    title: str
    deck: str
    notebooks: tuple[str, ...]


PARTS = (
    Part("Part I: Speech, its data and its models", "01_introduction", ("00_orientation", "01_speech_challenges")),
    Part("Part II: Representational analysis: what is encoded, and where?", "02_representations",
         ("02_probing", "03_rsa_cka", "04_lenses", "05_abx")),
    Part("Part III: Feature importance: how is the information used?", "03_feature_importance",
         ("06_context_mixing", "07_feature_attribution")),
    Part("Part IV: Outlook", "04_outlook", ("08_outlook",)),
)
#: The reference docs, in the book's order.
DOCS = ("corpus", "models", "methods", "grading", "slides", "site", "binder", "environment", "benchmarks",
        "architecture")


class SiteError(CourseError, RuntimeError):
    """The book could not be staged or built."""


# --------------------------------------------------------------------------
# Staging: repository files -> book source


def _title(nb: dict) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M)
            if m:
                return m.group(1).strip()
    raise SiteError("A notebook without a '# Title' heading in its first Markdown cells.")


def _programme_rows(readme: str) -> dict[str, str]:
    """``notebook -> what you learn``, from the README's table of notebooks."""
    rows = {}
    for m in re.finditer(r"^\| `(\d\d_\w+)` \| ([^|]+) \|", readme, re.M):
        rows[m.group(1)] = m.group(2).strip()
    return rows


class Stager:
    """Writes the book source for one build: maps repository paths to pages and rewrites their links."""

    def __init__(self, src: Path, repo: str, entries: dict[str, B.Entry], root: Path = ROOT):
        self.src, self.repo, self.entries, self.root = src, repo, entries, root
        self.pages: dict[str, str] = {}  # repository path -> staged path
        for part in PARTS:
            for nb in part.notebooks:
                self.pages[f"solutions/{nb}.ipynb"] = f"notebooks/{nb}.ipynb"
                self.pages[f"exercises/{nb}.ipynb"] = f"notebooks/{nb}.ipynb"
            self.pages[f"slides/{part.deck}.md"] = "lectures.md"
        for doc in DOCS:
            self.pages[f"docs/{doc}.md"] = f"docs/{doc}.md"
        for fig in sorted((root / "docs" / "figures").glob("*")):
            self.pages[f"docs/figures/{fig.name}"] = f"docs/figures/{fig.name}"
        self.pages["references.bib"] = "reading-list.md"
        self.cited_in: dict[str, dict[str, None]] = {}

    # links ------------------------------------------------------------------
    def github(self, path: str, anchor: str = "") -> str:
        kind = "tree" if (self.root / path).is_dir() else "blob"
        return f"https://github.com/{self.repo}/{kind}/main/{path}" + (f"#{anchor}" if anchor else "")

    def link(self, target: str, origin: str) -> str:
        """A Markdown link target written in repository file ``origin``, as the staged page needs it."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#") or not target:
            return target
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(origin), path)).replace(os.sep, "/")
        if resolved in self.pages:
            here = os.path.dirname(self.pages[origin]) if origin in self.pages else ""
            rel = os.path.relpath(self.pages[resolved], here or ".").replace(os.sep, "/")
            return rel + (f"#{anchor}" if anchor else "")
        if resolved.startswith("..") or not (self.root / resolved).exists():
            return target  # left for the build to report as a broken link
        return self.github(resolved, anchor)

    def rewrite_links(self, text: str, origin: str) -> str:
        text = re.sub(r"(\]\()([^)\s]+)(\))", lambda m: m.group(1) + self.link(m.group(2), origin) + m.group(3), text)
        return re.sub(r'((?:src|href)=")([^"]+)(")', lambda m: m.group(1) + self.link(m.group(2), origin)
                      + m.group(3), text)

    # citations ---------------------------------------------------------------
    @staticmethod
    def label(entry: B.Entry) -> str:
        return f"cite-{entry.key}"

    def cite(self, text: str, page: str) -> str:
        for key in B.cited_keys(text):
            self.cited_in.setdefault(key, {})[page] = None
        return B.render_citations(text, self.entries,
                                  lambda e, shown: f"{{ref}}`{shown} <{self.label(e)}>`")

    def references(self, keys: Sequence[str], page: str) -> str:
        """A page's reference list, rendered from the bib, each entry linked to its reading-list note."""
        unknown = [k for k in keys if k not in self.entries]
        if unknown:
            raise B.BibliographyError(f"{page} lists unknown keys {unknown}: add them to references.bib.")
        for key in keys:
            self.cited_in.setdefault(key, {})[page] = None
        items = [f"* {self.entries[k].markdown()} {{ref}}`Why read it <{self.label(self.entries[k])}>`"
                 for k in keys]
        return "\n".join(items)

    def markdown_page(self, text: str, origin: str, page: str) -> str:
        """A Markdown document: links rewritten, citations linked, its References section rendered from the bib."""
        text = self.rewrite_links(text, origin)
        m = B.REFERENCES_HEADING.search(text)
        listed: list[str] = []
        if m:
            end = B.section_end(text, m)
            listed = B.cited_keys(text[m.end():end])
            text = text[:m.start()] + text[end:]
        body = self.cite(text, page)
        keys = listed + [k for k in B.cited_keys(text) if k not in listed]
        if keys:
            body = body.rstrip() + "\n\n## References\n\n" + self.references(keys, page) + "\n"
        return body

    def notebook_page(self, name: str) -> str:
        origin = f"solutions/{name}.ipynb"
        nb = json.loads((self.root / origin).read_text(encoding="utf-8"))
        page = f"notebooks/{name}"
        cited: list[str] = []
        cells = []
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                text = self.rewrite_links("".join(cell["source"]), origin)
                cited += [k for k in B.cited_keys(text) if k not in cited]
                if B.REFERENCES_HEADING.search(text):
                    continue  # rendered from the bib below
                cell = {**cell, "source": self.cite(text, page)}
            cells.append(cell)
        badge = {"cell_type": "markdown", "id": "site-binder", "metadata": {}, "source":
                 f"[![Launch the exercise on Binder](../_static/binder-badge.svg)]"
                 f"({BINDER.format(repo=self.repo, name=name)}) "
                 "This page is the executed reference solution. The button opens the exercise version in JupyterLab "
                 "on mybinder.org (nothing to install; the first start takes a few minutes)."}
        first = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown")
        cells.insert(first + 1, badge)
        if cited:
            cells.append({"cell_type": "markdown", "id": "site-references", "metadata": {},
                          "source": "## References\n\n" + self.references(cited, page)})
        return json.dumps({**nb, "cells": cells}, indent=1, ensure_ascii=False)

    # pages ---------------------------------------------------------------------
    def index(self, titles: dict[str, str], decks: dict[str, str]) -> str:
        readme = (self.root / "README.md").read_text(encoding="utf-8")
        rows = _programme_rows(readme)
        out = [f"# {TITLE}", "",
               "An open course on looking inside speech models (wav2vec 2.0, HuBERT, Whisper): what their layers "
               "encode, and how they use it. Every notebook runs offline on a synthetic corpus with exact phone and "
               "word alignments and on small models trained for the course; each can be switched to a model from "
               "the Hugging Face hub.", "",
               f"[![Launch the course on Binder](_static/binder-badge.svg)]"
               f"({BINDER.format(repo=self.repo, name='00_orientation')}) "
               f"Run the exercises in your browser, or on your own machine from the "
               f"[repository](https://github.com/{self.repo}) (two commands, in its README). The pages below are "
               "the executed reference solutions.", "",
               "## Programme", ""]
        for part in PARTS:
            out += [f"### {part.title}", "",
                    f"Lecture: [{decks[part.deck]}](lectures.md#{_slug(part.title)})", "",
                    "| notebook | what you learn |", "| --- | --- |"]
            for nb in part.notebooks:
                out.append(f"| [{titles[nb]}](notebooks/{nb}.ipynb) | {rows.get(nb, '')} |")
            out.append("")
        out += ["## Also in this book", "",
                "* [Lectures](lectures.md): the four slide decks.",
                "* [Reading list](reading-list.md): every work the course cites, by topic, with why to read it.",
                "* Reference: " + ", ".join(f"[{d}](docs/{d}.md)" for d in DOCS) + ".", ""]
        return "\n".join(out)

    def lectures(self, decks: dict[str, str]) -> str:
        out = ["# Lectures", "",
               "One deck per part of the course (reveal.js; press `S` in a deck for the speaker notes, `F` for full "
               "screen). The numbers on the slides are computed from the shipped models when the decks are built.",
               ""]
        for part in PARTS:
            title = decks[part.deck]
            link = f'<a href="slides/{part.deck}.html">Open the deck</a>'
            out += [f"## {part.title}", "", f"Deck: *{title}*. {link} in its own tab.", "",
                    f'<iframe class="deck" src="slides/{part.deck}.html" title="{title}" loading="lazy" '
                    'width="100%" height="480"></iframe>', ""]
            keys = B.cited_keys((self.root / "slides" / f"{part.deck}.md").read_text(encoding="utf-8"))
            if keys:
                out += ["Works cited in this deck: " + self.cite("[" + "; ".join(f"@{k}" for k in keys) + "]",
                                                                  "lectures").strip("()") + ".", ""]
        return "\n".join(out)


def _slug(heading: str) -> str:
    """MyST's (GitHub-style) anchor for a heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def _config(repo: str) -> dict:
    return {
        "title": TITLE,
        "author": "the course authors",
        "copyright": "2026",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", "**.ipynb_checkpoints"],
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["colon_fence", "dollarmath", "amsmath"]},
        "html": {"use_repository_button": True, "home_page_in_navbar": True,
                 "extra_footer": "Built offline from the course repository by <code>speech-course site build"
                                 "</code>."},
        "repository": {"url": f"https://github.com/{repo}", "branch": "main"},
        "launch_buttons": {"thebe": False},
        "bibtex_bibfiles": ["references.bib"],
        "sphinx": {"extra_extensions": ["speech_course_tools.book_extension"], "config": {
            "myst_heading_anchors": 3,
            "mathjax_path": "mathjax/tex-chtml.js",
            "html_extra_path": ["_extra"],
            "html_css_files": ["course.css"],
            "nb_ipywidgets_js": {},
            "html_copy_source": False,
            "html_show_sourcelink": False,
            "suppress_warnings": ["myst.header"],
            "html_theme_options": {"use_download_button": False, "use_fullscreen_button": False},
            # a first visit (nothing in localStorage) otherwise logs "Got invalid theme mode" as a console error
            "html_context": {"default_mode": "light"},
        }},
    }


def _toc() -> dict:
    return {"format": "jb-book", "root": "index", "parts": [
        *({"caption": p.title, "chapters": [{"file": f"notebooks/{nb}"} for nb in p.notebooks]} for p in PARTS),
        {"caption": "Course material", "chapters": [{"file": "lectures"}, {"file": "reading-list"}]},
        {"caption": "Reference", "chapters": [{"file": f"docs/{d}"} for d in DOCS]},
    ]}


def stage(src: Path, decks_dir: Path, repo: str = DEFAULT_REPO, root: Path = ROOT, bib: Path | None = None) -> Stager:
    """Write the book source into ``src`` (the decks already built in ``decks_dir``; ``bib`` defaults to the
    repository's ``references.bib``)."""
    import yaml  # optional: installed with Jupyter Book

    bib = bib or root / "references.bib"
    entries = B.load(bib)
    st = Stager(src, repo, entries, root)
    (src / "notebooks").mkdir(parents=True)
    (src / "docs" / "figures").mkdir(parents=True)
    titles = {}
    for part in PARTS:
        for nb in part.notebooks:
            path = root / "solutions" / f"{nb}.ipynb"
            if not path.is_file():
                raise SiteError(f"No {path.relative_to(root)}: build the notebooks first (speech-course build).")
            titles[nb] = _title(json.loads(path.read_text(encoding="utf-8")))
            (src / "notebooks" / f"{nb}.ipynb").write_text(st.notebook_page(nb) + "\n", encoding="utf-8")
    for doc in DOCS:
        text = (root / "docs" / f"{doc}.md").read_text(encoding="utf-8")
        (src / "docs" / f"{doc}.md").write_text(st.markdown_page(text, f"docs/{doc}.md", f"docs/{doc}"),
                                                encoding="utf-8")
    for fig in (root / "docs" / "figures").glob("*"):
        shutil.copy2(fig, src / "docs" / "figures" / fig.name)
    from speech_course_tools.slides import load_deck  # start-up: the slide builder loads only for the book

    decks = {p.deck: load_deck(p.deck).title for p in PARTS}
    (src / "index.md").write_text(st.index(titles, decks), encoding="utf-8")
    (src / "lectures.md").write_text(st.lectures(decks), encoding="utf-8")
    # the reading list last: it lists where each work is cited
    pages = {f"notebooks/{nb}": f"[{nb}](notebooks/{nb}.ipynb)" for p in PARTS for nb in p.notebooks}
    pages["lectures"] = "[lectures](lectures.md)"
    pages |= {f"docs/{d}": f"[{d}](docs/{d}.md)" for d in DOCS}
    cited_in = {k: [pages[p] for p in where] for k, where in st.cited_in.items()}
    (src / "reading-list.md").write_text(B.reading_list(entries, st.label, cited_in), encoding="utf-8")
    shutil.copy2(bib, src / "references.bib")
    static = src / "_static"
    shutil.copytree(BOOK_DIR / "vendor" / "mathjax", static / "mathjax")
    for asset in ("binder-badge.svg", "course.css"):
        shutil.copy2(BOOK_DIR / asset, static / asset)
    shutil.copytree(decks_dir, src / "_extra" / "slides", ignore=shutil.ignore_patterns("*.pdf"))
    (src / "_config.yml").write_text(yaml.safe_dump(_config(repo), sort_keys=False), encoding="utf-8")
    (src / "_toc.yml").write_text(yaml.safe_dump(_toc(), sort_keys=False), encoding="utf-8")
    return st


# --------------------------------------------------------------------------
# Building


@dataclass
class SiteResult:
    """What :func:`build` made."""

    out: Path
    pages: list[Path]
    seconds: float


def build(out: Path | str, repo: str = DEFAULT_REPO, decks_dir: Path | str | None = None, fast_slides: bool = False,
          log: Callable[[str], None] = print) -> SiteResult:
    """Build the book into ``out`` (its ``index.html`` is the landing page).

    Parameters
    ----------
    out : path
        Output folder; replaced if it holds an earlier build (a folder with other content is refused).
    repo : str
        ``OWNER/NAME`` of the repository on GitHub, for the Binder buttons and the links to source files.
    decks_dir : path, optional
        Decks already built by ``speech-course slides build`` (default: build them now, into a temporary folder).
    fast_slides : bool
        Build the decks with the small samples the tests use (their figures are cached; see ``slides build``).

    Raises
    ------
    SiteError
        When a notebook is missing, the output folder holds something else, or Jupyter Book reports an error or a
        warning (a broken link or reference fails the build).
    """
    t0 = time.perf_counter()
    out = Path(out).resolve()
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise SiteError(f"--repo must be OWNER/NAME on GitHub, not {repo!r}.")
    if out.exists() and any(out.iterdir()) and not (out / ".speech-course-site").is_file():
        raise SiteError(f"{out} exists and is not an earlier site build: choose an empty or new folder.")
    with tempfile.TemporaryDirectory(prefix="speech-course-site-") as tmp:
        tmp = Path(tmp)
        if decks_dir is None:
            from speech_course_tools.slides import build as build_slides  # start-up: figures load models

            log("building the lecture decks")
            decks_dir = tmp / "decks"
            build_slides(out=decks_dir, fast=fast_slides, log=log)
        src = tmp / "book"
        stage(src, Path(decks_dir), repo)
        log(f"running Jupyter Book on {len(list(src.rglob('*.ipynb')))} notebooks and "
            f"{len(list(src.rglob('*.md')))} Markdown pages")
        cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(src),
               "--path-output", str(tmp / "out"), "--warningiserror", "--keep-going", "--quiet"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        html = tmp / "out" / "_build" / "html"
        if run.returncode != 0 or not (html / "index.html").is_file():
            detail = "\n".join(line for line in (run.stdout + run.stderr).splitlines()
                               if "WARNING" in line or "ERROR" in line or "Error" in line)
            raise SiteError("Jupyter Book failed (a warning fails the build):\n"
                            + (detail or (run.stdout + run.stderr)[-3000:]))
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(html, out, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    (out / ".speech-course-site").write_text(f"built by speech-course site build for {repo}\n", encoding="utf-8")
    pages = sorted(out.rglob("*.html"))
    seconds = time.perf_counter() - t0
    log(f"site: {len(pages)} HTML pages in {out} ({seconds:.0f} s); open {out / 'index.html'}")
    return SiteResult(out, pages, seconds)


# --------------------------------------------------------------------------
# Command line


def _cli_build(args: argparse.Namespace) -> int:
    try:
        build(args.out, repo=args.repo, decks_dir=args.decks, fast_slides=args.fast_slides)
    except (SiteError, B.BibliographyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _cli_check(args: argparse.Namespace) -> int:
    problems = B.check_repository()
    for p in problems:
        print(p, file=sys.stderr)
    print(f"citations: {len(problems)} problem(s)" if problems else "citations: every key resolves")
    return 1 if problems else 0


def add_cli(subparsers) -> None:  # noqa: ANN001
    """``speech-course site build|check``."""
    site = subparsers.add_parser("site", help="the course as a website (Jupyter Book), built offline")
    sub = site.add_subparsers(dest="site_command", required=True)
    b = sub.add_parser("build", help="build the book into a folder (its index.html is the landing page)")
    b.add_argument("--out", required=True, type=Path, help="output folder (created; an earlier build is replaced)")
    b.add_argument("--repo", default=os.environ.get("COURSE_SITE_REPO", DEFAULT_REPO),
                   help="OWNER/NAME on GitHub, for Binder buttons and source links (default: %(default)s, or "
                        "$COURSE_SITE_REPO)")
    b.add_argument("--decks", type=Path, help="use decks already built by 'speech-course slides build' (folder)")
    b.add_argument("--fast-slides", action="store_true", help="build the decks with small figure samples (tests)")
    b.set_defaults(func=_cli_build)
    c = sub.add_parser("check", help="check every citation key of notebooks, slides and docs against references.bib")
    c.set_defaults(func=_cli_check)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m speech_course_tools.site")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
