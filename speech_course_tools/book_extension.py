"""A small Sphinx extension for the course book: each page loads each script once, and nothing from a CDN.

Measured on the book built with Jupyter Book 1.0.4 (Sphinx 7.4, sphinx-book-theme 1.3, sphinx-thebe 0.3.1), in
headless Chromium (``tests/test_site.py``):

* some extensions' inline scripts reach a page twice (``const THEBE_JS_URL`` declared twice is a console error),
  and so does MathJax (loaded twice, it fails with "Cannot set property Package");
* sphinx-thebe's inline configuration names a script on unpkg.com; the book does not use Thebe (its notebook pages
  link to Binder instead), so that script and its loader are dropped.

The extension keeps the first of each script (by file, or by body for inline ones) and drops Thebe's, after every
other handler of ``html-page-context`` has added its own. ``speech_course_tools.site`` lists it in the book's
``extra_extensions``.
"""

from __future__ import annotations

from typing import Any

#: The priority of the handler: after the other extensions' (Sphinx's default is 500).
PRIORITY = 900


def _key(script: Any) -> str:
    filename = str(getattr(script, "filename", script) or "")
    if filename:
        return filename.split("?")[0]
    return "body:" + str(getattr(script, "attributes", {}).get("body", ""))


def _thebe(script: Any) -> bool:
    text = _key(script)
    return "thebe" in text.lower() or "unpkg.com" in text


def one_of_each(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Remove repeated and Thebe scripts from the page's ``script_files``, in place."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[str] = set()
    kept = []
    for script in scripts:
        key = _key(script)
        if key in seen or _thebe(script):
            continue
        seen.add(key)
        kept.append(script)
    scripts[:] = kept


def setup(app: Any) -> dict:
    app.connect("html-page-context", one_of_each, priority=PRIORITY)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
