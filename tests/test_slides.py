"""Lecture slides: the sources parse, every deck builds offline, renders in a real browser and prints to PDF.

The build test uses ``fast=True`` (small samples for the figures, cached in ``slides/build/figures-fast``, so a second
run reuses them). The browser tests start the system Chromium through Playwright and are skipped, with the reason,
where either is missing. Screenshots of every title slide and the PDFs are saved in ``test-artifacts/slides/``
(git-ignored; ``COURSE_TEST_ARTIFACTS`` moves it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path

import pytest

from speech_course_tools import slidefigures as sf
from speech_course_tools import slides as S
from system_packages import require_chromium

ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts")) \
    / "slides"
#: Figure groups whose code is still changing (Part II): a placeholder there warns instead of failing.
TOLERATED_PLACEHOLDERS = {"context_mixing", "attribution"}


def _browser_or_skip():
    return require_chromium()


# --------------------------------------------------------------------------
# Sources and format (no browser, no model)


def test_parse_format():
    deck = S.parse_deck(
        "<!-- .slide: class=\"title\" -->\n# Title\n\nsub\n\nNote:\nsay *this*\n\n---\n\n## Two\n\n"
        "```\n---\n```\n\n||\nleft\n\n||\nright ![a cap](fig:pipeline)\n", "t")
    assert deck.title == "Title"
    assert len(deck.slides) == 2, "a '---' inside a code fence is not a separator"
    assert deck.slides[0].attrs == {"class": "title"}
    assert deck.slides[0].notes == "say *this*" and "Note:" not in deck.slides[0].body
    assert deck.figure_names() == ["pipeline"]
    figures = {"pipeline": {"name": "pipeline", "file": "pipeline.svg", "alt": "A \"diagram\" of <it>",
                            "placeholder": False}}
    html = S.render_deck(deck, figures)
    assert '<section class="title">' in html and '<aside class="notes"><p>say <em>this</em></p>' in html
    assert '<div class="columns">' in html and html.count('<div class="col">') == 2
    assert 'alt="A &quot;diagram&quot; of &lt;it&gt;"' in html, "alt text comes from the figure, escaped"
    assert "<figcaption>a cap</figcaption>" in html


def test_images_need_alt_text_and_known_figures():
    with pytest.raises(S.SlidesError, match="alt text"):
        S.render_deck(S.parse_deck("# T\n\n![](pics/x.png)\n", "t"), {})
    with pytest.raises(S.SlidesError, match="unknown figure"):
        S.render_deck(S.parse_deck("# T\n\n![x](fig:nope)\n", "t"), {})


def test_numbers_are_filled_from_the_figure_cache():
    numbers = {"g": {"a": [0.5, 0.25], "b": {"c": 3}}}
    missing: list = []
    out = S.fill_numbers("{{g.a.-1:.0%}} {{g.b.c}} {{g.zz:.2f}}", numbers, missing)
    assert out == "25% 3 n/a" and missing == ["{{g.zz:.2f}}"]


def test_every_deck_has_title_references_notes_and_known_figures():
    known = {f for g in sf.GROUPS.values() for f in g.figures}
    for name in S.DECKS:
        deck = S.load_deck(name)
        assert deck.slides[0].attrs.get("class") == "title", f"{name}: the first slide is the title slide"
        assert re.search(r"^## (References|Reading list)", deck.slides[-1].body, re.M), \
            f"{name}: the last slide lists the references"
        assert sum(bool(s.notes) for s in deck.slides) >= len(deck.slides) // 2, f"{name}: speaker notes"
        assert set(deck.figure_names()) <= known, f"{name}: unknown figures {set(deck.figure_names()) - known}"
        assert set(deck.number_groups()) <= set(sf.GROUPS) | set(S.STATIC_GROUPS), \
            f"{name}: numbers from unknown groups"


# --------------------------------------------------------------------------
# Claims: the decks' readings checked against the recorded numbers


def test_every_claim_sentence_is_in_its_deck():
    from course.claims import claimed_sentences, sentences_not_in_text

    for name in S.DECKS:
        path = S.claims_path(name)
        assert path.is_file(), f"{name}: no claims file {path}"
        code = path.read_text(encoding="utf-8")
        assert claimed_sentences(code), f"{name}: the claims file checks no sentence"
        source = (S.SLIDES_DIR / f"{name}.md").read_text(encoding="utf-8")
        assert not sentences_not_in_text(code, [source]), f"{name}: claims whose sentence is not in the deck"


_DECK = "# T\n\nThe model is small: {{models.tiny-w2v2-ctc.parameters:.1f}} M parameters.\n\nNote:\nIt is FACT.\n"


def _claims_src(tmp_path, fact: str = "tiny", claim: str = "claims.check('It is tiny', num('g.size') < 10, "
                "size=num('g.size'))\n") -> Path:
    (tmp_path / "claims").mkdir(exist_ok=True)
    (tmp_path / "t.md").write_text(_DECK.replace("FACT", fact))
    (tmp_path / "claims" / "t.py").write_text(claim)
    return tmp_path


def test_claims_hold_fail_and_must_quote_the_deck(tmp_path):
    src = _claims_src(tmp_path)
    ok = S.check_claims("t", {"g": {"size": 3.1}}, src)
    assert [c.sentence for c in ok.checked] == ["It is tiny"] and not ok.failed and ok.unchecked is None
    bad = S.check_claims("t", {"g": {"size": 31.0}}, src)  # the numbers changed: the sentence no longer holds
    assert [c.sentence for c in bad.failed] == ["It is tiny"]
    assert "'It is tiny' (size=31.0)" in S.claims_message([bad]), "the message names the sentence and its values"
    assert S.check_claims("t", {"g": {}}, src).unchecked, "a placeholder group (no numbers) is reported, not checked"
    with pytest.raises(S.SlideClaimError, match="does not record"):
        S.check_claims("t", {"g": {"other": 1}}, src)
    with pytest.raises(S.SlideClaimError, match="uses no number or figure of the group 'g'"):
        S.check_claims("t", {}, src)
    _claims_src(tmp_path, fact="quite small")  # the slide was reworded: its claim must follow
    with pytest.raises(S.SlideClaimError, match="not in slides/t.md"):
        S.check_claims("t", {"g": {"size": 3.1}}, src)
    _claims_src(tmp_path, claim="x = 1\n")
    with pytest.raises(S.SlideClaimError, match="no claim was checked"):
        S.check_claims("t", {"g": {"size": 3.1}}, src)
    assert S.check_claims("u", {}, src) is None, "a deck without a claims file"


def test_a_slide_restating_a_notebook_is_tied_to_the_notebook_claim(tmp_path):
    (tmp_path / "nb.py").write_text("claims.check('the probe\\n  peaks early', True)\n")
    assert S.notebook_checks("nb", "the probe peaks early", tmp_path), "white space is normalised"
    assert not S.notebook_checks("nb", "the probe peaks late", tmp_path)
    assert not S.notebook_checks("missing", "the probe peaks early", tmp_path)


def test_a_full_build_stops_on_a_false_claim_and_fast_only_warns(tmp_path):
    shutil.copy2(S.SLIDES_DIR / "theme.css", tmp_path / "theme.css")
    claim = "claims.check('It is tiny', num('models.tiny-w2v2-ctc.parameters') < 1)\n"  # false: 3 M parameters
    src = _claims_src(tmp_path, claim=claim)
    with pytest.raises(S.SlideClaimError, match="'It is tiny'"):
        S.build(tmp_path / "out", src=src, decks=["t"], figures_cache=tmp_path / "cache", log=lambda _: None)
    assert not (tmp_path / "out" / "t.html").exists(), "no deck with a false sentence"
    logs: list[str] = []
    result = S.build(tmp_path / "out", src=src, decks=["t"], fast=True, figures_cache=tmp_path / "cache",
                     log=logs.append)
    assert result.claims_failed == ["It is tiny"] and (tmp_path / "out" / "t.html").is_file()
    assert any("It is tiny" in line and "WARNING" in line for line in logs)


def test_figure_cache_is_reused_and_rebuilt_when_stale(tmp_path):
    logs: list[str] = []
    figs, _ = S.ensure_figures(tmp_path, ["diagrams"], log=logs.append)
    assert set(figs) == {"pipeline", "methods_map"} and all((tmp_path / f["file"]).is_file() for f in figs.values())
    assert all(f["alt"] for f in figs.values())
    S.ensure_figures(tmp_path, ["diagrams"], log=logs.append)
    assert "cached" in logs[-1], "an unchanged group is not recomputed"
    manifest = json.loads((tmp_path / "diagrams.json").read_text())
    manifest["key"] = "stale"
    (tmp_path / "diagrams.json").write_text(json.dumps(manifest))
    S.ensure_figures(tmp_path, ["diagrams"], log=logs.append)
    assert "computing" in " ".join(logs[-2:]), "a changed input (key) recomputes the group"


def test_vendored_reveal_is_complete():
    vendor = S.SLIDES_DIR / "vendor" / "reveal.js"
    for f in ("reveal.js", "reveal.css", "reset.css", "plugin/notes.js", "LICENSE"):
        assert (vendor / f).is_file(), f"slides/vendor/reveal.js/{f} is missing"
    assert "Permission is hereby granted, free of charge" in (vendor / "LICENSE").read_text(), "the MIT licence"


# --------------------------------------------------------------------------
# The build, in a browser


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every deck built (fast figures) into a fresh folder, with PDFs when Chromium is available."""
    out = tmp_path_factory.mktemp("slides")
    try:
        import playwright  # noqa: F401
        pdf = S.find_chromium() is not None
    except ImportError:
        pdf = False
    return S.build(out, pdf=pdf, fast=True, log=lambda _: None)


@pytest.mark.slow
def test_every_deck_builds(built):
    assert set(built.decks) == set(S.DECKS)
    for name, path in built.decks.items():
        html = path.read_text()
        assert built.slide_counts[name] == html.count("<section") >= 8
        assert not re.findall(r'(?:src|href)="(?:https?:)?//', html), f"{name}: a remote resource (CDN)"
        for src in re.findall(r'(?:src|href)="([^"#:]+)"', html):
            assert (path.parent / src).is_file(), f"{name}: {src} is not next to the deck"
        for tag in re.findall(r"<img[^>]*>", html):
            assert re.search(r'alt="[^"]{20,}"', tag), f"{name}: image without a real alt text: {tag[:120]}"
    assert (built.out / "index.html").is_file() and (built.out / "reveal" / "LICENSE").is_file()
    bad = [f for f in built.placeholders if sf_group(f) not in TOLERATED_PLACEHOLDERS]
    assert not bad, f"placeholder figures: {bad}"
    if built.placeholders:
        warnings.warn(f"Part II figures are placeholders: {built.placeholders}", stacklevel=1)
    assert not built.missing_numbers, f"numbers missing in the text: {built.missing_numbers}"
    assert set(built.claims) == set(S.DECKS), "every deck's claims ran"
    unchecked = {d: r.unchecked for d, r in built.claims.items() if r.unchecked}
    assert not unchecked or built.placeholders, f"claims not checked: {unchecked}"
    if built.claims_failed:  # --fast numbers come from small samples: the full numbers are checked below
        warnings.warn(f"with --fast numbers these sentences do not hold: {built.claims_failed}", stacklevel=1)


# --------------------------------------------------------------------------
# The claims on the full figures: a retrain or corpus change that makes a sentence false fails here


@pytest.fixture(scope="module")
def full_numbers():
    """The full figures' numbers (computed once into slides/build/figures, then cached) and the static ones."""
    _, numbers = S.ensure_figures(S.DEFAULT_OUT / "figures", log=lambda _: None)
    for group, values in S.static_numbers().items():
        numbers.setdefault(group, {}).update(values)
    return numbers


def _deck_numbers(numbers: dict, name: str) -> dict:
    """Only the groups a deck uses (as a ``--deck`` build has them)."""
    deck = S.load_deck(name)
    groups = {S._group_of(f) for f in deck.figure_names()} | set(deck.number_groups())
    return {g: v for g, v in numbers.items() if g in groups}


@pytest.mark.slow
def test_claims_hold_on_the_shipped_models(full_numbers):
    bad = [g for g in full_numbers if g in sf.GROUPS and not full_numbers[g] and g != "diagrams"]
    assert not bad, f"placeholder figure groups: {bad}"
    results = [S.check_claims(name, _deck_numbers(full_numbers, name)) for name in S.DECKS]
    assert all(r is not None and r.unchecked is None for r in results), [r.unchecked for r in results if r]
    assert not any(r.failed for r in results), "sentences of the decks no longer hold:\n" + S.claims_message(results)


@pytest.mark.slow
def test_a_falsified_number_fails_its_claim(full_numbers):
    import copy

    numbers = copy.deepcopy(full_numbers)
    summary = numbers["representations"]["summary"]
    summary["probe_mfcc"] = summary["probe_max"] + 0.01  # as if the MFCC baseline had overtaken the model
    failed = S.check_claims("02_representations", _deck_numbers(numbers, "02_representations")).failed
    sentences = [" ".join(c.sentence.split()) for c in failed]
    assert "and above the MFCC baseline" in sentences and "On this model: trained above MFCC" in sentences
    numbers["corpus"]["test_speakers"] = 4  # the old corpus: the smallest sign-flip p is no longer 0.008
    failed = S.check_claims("04_outlook", _deck_numbers(numbers, "04_outlook")).failed
    assert failed and all("sign-flip" in c.sentence for c in failed)


def sf_group(figure: str) -> str:
    return next(g for g, spec in sf.GROUPS.items() if figure in spec.figures)


_BOTTOM_JS = """() => { const s = Reveal.getCurrentSlide(); const top = s.getBoundingClientRect().top;
  const scale = Reveal.getScale(); let bottom = 0;
  s.querySelectorAll('*').forEach(e => { if (e.closest('aside.notes')) return;
    const r = e.getBoundingClientRect(); if (r.height > 0) bottom = Math.max(bottom, r.bottom); });
  return (bottom - top) / scale; }"""
_IMAGES_JS = """() => Array.from(Reveal.getCurrentSlide().querySelectorAll('img'))
  .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))"""


@pytest.mark.slow
def test_every_slide_renders_in_chromium(built):
    chromium = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=S._CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": S.SLIDE_WIDTH, "height": S.SLIDE_HEIGHT})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed load: {r.url} ({r.failure})"))
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            for name, path in built.decks.items():
                page.goto(path.resolve().as_uri(), wait_until="load")
                page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
                assert page.evaluate("Reveal.getTotalSlides()") == built.slide_counts[name]
                assert page.evaluate("document.querySelectorAll('aside.notes').length") > 0, f"{name}: no notes"
                for k in range(built.slide_counts[name]):
                    page.evaluate(f"Reveal.slide({k})")
                    page.wait_for_function("() => Array.from(Reveal.getCurrentSlide().querySelectorAll('img'))"
                                           ".every(i => i.complete)", timeout=10_000)
                    broken = page.evaluate(_IMAGES_JS)
                    if broken:
                        problems.append(f"{name} slide {k + 1}: images not shown: {broken}")
                    bottom = page.evaluate(_BOTTOM_JS)
                    if bottom > S.SLIDE_HEIGHT + 2:
                        problems.append(f"{name} slide {k + 1}: content overflows the slide ({bottom:.0f} px)")
                    if k == 0:
                        page.screenshot(path=str(ARTIFACTS / f"{name}-title.png"))
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    assert {f"{n}-title.png" for n in S.DECKS} <= {f.name for f in ARTIFACTS.glob("*-title.png")}


@pytest.mark.slow
def test_pdf_has_one_page_per_slide(built):
    _browser_or_skip()
    assert set(built.pdfs) == set(S.DECKS)
    for name, pdf in built.pdfs.items():
        assert pdf.read_bytes()[:5] == b"%PDF-"
        assert S.pdf_page_count(pdf) == built.slide_counts[name], f"{name}: pages and slides differ"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf, ARTIFACTS / pdf.name)  # for a look at the printed decks
