"""The course book (``speech-course site build``).

Fast tier: the staging rules (citations, reference lists, links, Binder buttons, the page scripts) on small inputs,
each with a broken variant (the bibliography itself: ``tests/test_bibliography.py``).

Slow: the whole book is built (Jupyter Book 1, offline), served on localhost and crawled in headless Chromium like
a reader would: every page loads without console errors, every internal link and anchor resolves, every image
decodes, math is typeset by the vendored MathJax, and no request leaves the machine. Screenshots of the landing
page and of a notebook page are kept in ``test-artifacts/site/`` (``COURSE_TEST_ARTIFACTS`` moves it).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from speech_course_tools import bibliography as B
from test_bibliography import BIB
from speech_course_tools import site as S
from system_packages import require_chromium

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "site"

# --------------------------------------------------------------------------
# Staging rules


@pytest.fixture
def entries(tmp_path):
    (tmp_path / "r.bib").write_text(BIB)
    return B.load(tmp_path / "r.bib")


@pytest.fixture
def stager(tmp_path, entries):
    return S.Stager(tmp_path, "me/course", entries)


def test_links_go_to_pages_or_to_github(stager):
    assert stager.link("models.md#shipped-models", "docs/corpus.md") == "models.md#shipped-models"
    assert stager.link("../docs/models.md", "solutions/02_probing.ipynb") == "../docs/models.md"
    assert stager.link("03_rsa_cka.ipynb", "solutions/02_probing.ipynb") == "03_rsa_cka.ipynb"
    assert stager.link("../course/probing.py", "docs/methods.md") == \
        "https://github.com/me/course/blob/main/course/probing.py"
    assert stager.link("../autograder", "docs/grading.md") == "https://github.com/me/course/tree/main/autograder"
    assert stager.link("https://example.org/x", "docs/x.md") == "https://example.org/x"
    assert stager.link("../nowhere.md", "docs/corpus.md") == "../nowhere.md", "left for the build to report"
    text = stager.rewrite_links("[a](../README.md) and <img src=\"figures/layerwise.png\">", "docs/models.md")
    assert "(https://github.com/me/course/blob/main/README.md)" in text and 'src="figures/layerwise.png"' in text


def test_a_docs_page_gets_its_references_from_the_bib(stager):
    text = "# T\n\nValue zeroing [@kobayashi2020attention] and [-@abnar2020quantifying].\n\n## References\n\n" \
           "* Kobayashi, G. (2020). Hand-written. [@kobayashi2020attention]\n\n## After\n\nmore\n"
    out = stager.markdown_page(text, "docs/methods.md", "docs/methods")
    assert "Value zeroing ({ref}`Kobayashi et al., 2020 <cite-kobayashi2020attention>`)" in out
    assert "Hand-written" not in out and "## After\n\nmore" in out
    refs = out.split("## References")[1]
    assert refs.index("Kobayashi, G., Kuribayashi, T.") < refs.index("Abnar, S., & Zuidema, W."), \
        "the listed works first, then those only cited in the text"
    assert stager.cited_in == {"kobayashi2020attention": {"docs/methods": None},
                               "abnar2020quantifying": {"docs/methods": None}}


def test_a_reference_list_with_an_unknown_key_is_an_error(stager):
    with pytest.raises(B.BibliographyError, match="unknown keys \\['nope'\\]"):
        stager.markdown_page("# T\n\n## References\n\n* Nobody (2020). X. [@nope]\n", "docs/x.md", "docs/x")


def test_a_notebook_page_has_a_binder_button_and_rendered_references(tmp_path):
    stager = S.Stager(tmp_path, "me/course", B.load())
    out = json.loads(stager.notebook_page("06_context_mixing"))
    cells = out["cells"]
    assert cells[1]["id"] == "site-binder" and \
        "https://mybinder.org/v2/gh/me/course/HEAD?urlpath=lab/tree/exercises/06_context_mixing.ipynb" \
        in cells[1]["source"], "the button opens the exercise, after the title cell"
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    assert sum(s.startswith("## References") for s in sources) == 1
    assert not any("[@" in s for s in sources), "every citation is rendered"
    assert any(c["cell_type"] == "code" and c.get("outputs") for c in cells), "the outputs are kept"


def test_the_programme_lists_every_notebook_once():
    listed = [nb for p in S.PARTS for nb in p.notebooks]
    assert sorted(listed) == sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    assert len(listed) == len(set(listed))
    rows = S._programme_rows((ROOT / "README.md").read_text(encoding="utf-8"))
    assert set(rows) == set(listed), "the README's table of notebooks gives each a description"


def test_every_doc_is_a_page():
    assert sorted(S.DOCS) == sorted(p.stem for p in (ROOT / "docs").glob("*.md"))


def test_the_book_extension_keeps_one_of_each_script_and_no_thebe():
    from types import SimpleNamespace as NS

    from speech_course_tools.book_extension import one_of_each

    def js(filename="", body=""):
        return NS(filename=filename, attributes={"body": body} if body else {})

    scripts = [js("mathjax/tex-chtml.js"), js(body="var a = 1;"), js("sphinx-thebe.js"),
               js(body='const THEBE_JS_URL = "https://unpkg.com/thebe"'), js(body="var a = 1;"),
               js("mathjax/tex-chtml.js?v=2"), js("doctools.js")]
    context = {"script_files": scripts}
    one_of_each(None, "index", "page.html", context, None)
    assert context["script_files"] is scripts, "changed in place (the builder's list)"
    assert [s.filename or s.attributes["body"] for s in scripts] == ["mathjax/tex-chtml.js", "var a = 1;",
                                                                    "doctools.js"]


def test_build_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(S.SiteError, match="not an earlier site build"):
        S.build(tmp_path, decks_dir=tmp_path)
    with pytest.raises(S.SiteError, match="OWNER/NAME"):
        S.build(tmp_path / "new", repo="https://github.com/x/y")
    assert (tmp_path / "precious.txt").read_text() == "keep me"


# --------------------------------------------------------------------------
# The built book in a browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "html"
    result = S.build(out, repo="me/course", fast_slides=True)
    return result


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site.out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


_IMAGES = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  return Promise.all(imgs.map(i => i.decode().then(() => null, () => i.getAttribute('src'))));
}"""


@pytest.mark.slow
def test_the_book_builds_offline_with_every_page(site):
    pages = {p.relative_to(site.out).as_posix() for p in site.pages}
    expected = {"index.html", "lectures.html", "reading-list.html",
                *(f"notebooks/{nb}.html" for p in S.PARTS for nb in p.notebooks),
                *(f"docs/{d}.html" for d in S.DOCS), *(f"slides/{p.deck}.html" for p in S.PARTS)}
    assert expected <= pages, f"missing pages: {sorted(expected - pages)}"
    print(f"site built in {site.seconds:.0f} s: {len(pages)} pages")
    reading = (site.out / "reading-list.html").read_text(encoding="utf-8")
    for key in B.load():
        assert f'id="cite-{key}"' in reading, f"the reading list has no entry for {key}"
    page = (site.out / "notebooks" / "06_context_mixing.html").read_text(encoding="utf-8")
    assert "exercises/06_context_mixing.ipynb" in page and "reading-list.html#cite-" in page
    assert "<img" in page, "the notebook's figures are on its page"


@pytest.mark.slow
def test_every_page_loads_offline_in_chromium_with_links_images_and_math(site, server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    errors: list[str] = []
    broken: list[str] = []
    ids: dict[str, set[str]] = {}
    anchors: list[tuple[str, str, str]] = []  # (from page, to page, fragment)
    seen: set[str] = set()
    queue = deque([server + "index.html"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium())
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r):  # noqa: ANN001
            if r.request.url.startswith(server) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.on("requestfailed", lambda r: None if r.url in outside else errors.append(f"failed {r.url}"))
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            response = page.goto(url, wait_until="load")
            if response is None or response.status != 200:
                broken.append(f"{url}: HTTP {response.status if response else 'none'}")
                continue
            name = url[len(server):]
            ids[name] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
            bad = [b for b in page.evaluate(_IMAGES) if b]
            broken += [f"{name}: image {b} does not load" for b in bad]
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
                target, fragment = urldefrag(urljoin(url, href))
                if not target.startswith(server):
                    continue
                rel = target[len(server):] or "index.html"
                path = site.out / rel
                if rel.endswith("/"):
                    path = path / "index.html"
                if not path.exists():
                    broken.append(f"{name}: link to {href} ({rel} does not exist)")
                elif rel.endswith(".html"):
                    queue.append(server + rel)
                    if fragment and not fragment.startswith("/"):  # "#/3": a reveal.js route, not an id
                        anchors.append((name, rel, fragment))
            if name == "index.html":
                page.screenshot(path=str(ARTIFACTS / "landing.png"), full_page=True)
            if name == "notebooks/06_context_mixing.html":
                page.wait_for_selector("mjx-container", timeout=15000)  # the vendored MathJax typeset the math
                page.screenshot(path=str(ARTIFACTS / "notebook-06.png"), full_page=False)
                page.locator(".cell_output img").first.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "notebook-06-figure.png"), full_page=False)
        browser.close()
    missing_anchors = [f"{a}: #{f} is not on {b}" for a, b, f in anchors if b in ids and f not in ids[b]]
    print(f"crawled {len(seen)} pages, {len(anchors)} anchored links")
    assert not outside, f"requests left the machine: {sorted(set(outside))[:10]}"
    assert not errors, "console errors:\n" + "\n".join(errors[:20])
    assert not broken, "broken links or images:\n" + "\n".join(broken[:20])
    assert not missing_anchors, "links to missing anchors:\n" + "\n".join(missing_anchors[:20])
    assert len(seen) >= 25, f"only {len(seen)} pages reached from the landing page"
    assert (ARTIFACTS / "landing.png").stat().st_size > 10_000 and (ARTIFACTS / "notebook-06.png").is_file()
    assert urlparse(server).hostname == "127.0.0.1"
