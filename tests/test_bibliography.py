"""The one bibliography: ``references.bib``, citations by key in notebooks, slides and docs.

``references.bib`` parses, every entry has a topic and a reason to read it, every key the notebooks, slides and
docs cite resolves, every written-out reference names its work's first author and year, nothing in it goes uncited;
and the citation rules on small inputs, each with a broken variant.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speech_course_tools import bibliography as B

ROOT = Path(__file__).resolve().parents[1]

BIB = """\
@inproceedings{kobayashi2020attention,
  author = {Kobayashi, Goro and Kuribayashi, Tatsuki and Yokoi, Sho and Inui, Kentaro},
  title = {Attention is Not Only a Weight},
  booktitle = {Proceedings of {EMNLP}},
  year = {2020},
  keywords = {context-mixing},
  annote = {Norms of the transformed vectors, not the weights alone.}
}
@article{abnar2020quantifying,
  author = {Abnar, Samira and Zuidema, Willem},
  title = {Quantifying Attention Flow in Transformers},
  journal = {ACL},
  year = {2020},
  keywords = {context-mixing},
  annote = {Rollout.}
}
"""


@pytest.fixture
def entries(tmp_path):
    (tmp_path / "r.bib").write_text(BIB)
    return B.load(tmp_path / "r.bib")


# --------------------------------------------------------------------------
# The bibliography itself


@pytest.fixture(scope="module")
def bib():
    return B.load()


def test_every_entry_has_a_topic_and_a_reason(bib):
    assert len(bib) >= 40, "the course cites more works than that"
    for e in bib.values():
        assert e.topic in B.TOPICS and len(e.why.split()) >= 6, f"{e.key}: topic {e.topic!r}, why {e.why!r}"
    assert {e.topic for e in bib.values()} >= set(B.TOPICS) - {"software"}, "a topic of the programme without works"


def test_every_citation_resolves_and_every_reference_list_agrees_with_the_bib():
    assert B.check_repository() == []


def test_every_entry_is_cited_somewhere(bib):
    cited: set[str] = set()
    for path in sorted((ROOT / "autograder" / "source").glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cited |= {k for c in nb["cells"] for k in B.cited_keys("".join(c["source"]))}
    for path in [*(ROOT / "slides").glob("0*.md"), *(ROOT / "docs").glob("*.md")]:
        cited |= set(B.cited_keys(path.read_text(encoding="utf-8")))
    assert set(bib) - cited == set(), "entries of references.bib that nothing cites"


def test_load_rejects_entries_without_topic_or_reason(tmp_path):
    (tmp_path / "r.bib").write_text(BIB.replace("  keywords = {context-mixing},\n", "", 1))
    with pytest.raises(B.BibliographyError, match="kobayashi2020attention: keywords"):
        B.load(tmp_path / "r.bib")
    (tmp_path / "r.bib").write_text(BIB.replace("  annote = {Rollout.}\n", ""))
    with pytest.raises(B.BibliographyError, match="abnar2020quantifying: annote"):
        B.load(tmp_path / "r.bib")
    (tmp_path / "r.bib").write_text(BIB.replace("@article{abnar", "@article{abnar,,", 1))
    with pytest.raises(B.BibliographyError, match="does not parse"):
        B.load(tmp_path / "r.bib")


# --------------------------------------------------------------------------
# Citations


def test_citations_render_author_year_and_unknown_keys_fail(entries):
    text = "Rollout [@abnar2020quantifying]; Kobayashi et al. [-@kobayashi2020attention]; " \
           "both [@abnar2020quantifying; @kobayashi2020attention]. An e-mail a@b.c, code `x[@y]` and\n" \
           "```\n[@z]\n```\nare not citations; [@y] is one."
    with pytest.raises(B.BibliographyError, match="@y"):
        B.render_citations(text, entries, lambda e, s: s)
    out = B.render_citations(text.replace("; [@y] is", "; y is"), entries, lambda e, s: f"<{e.key}|{s}>")
    assert "Rollout (<abnar2020quantifying|Abnar & Zuidema, 2020>)" in out
    assert "Kobayashi et al. (<kobayashi2020attention|2020>)" in out
    assert "both (<abnar2020quantifying|Abnar & Zuidema, 2020>; <kobayashi2020attention|Kobayashi et al., 2020>)" \
        in out
    assert "a@b.c" in out and "`x[@y]`" in out and "\n[@z]\n" in out, "code is left alone"
    assert B.cited_keys(text) == ["abnar2020quantifying", "kobayashi2020attention", "y"]


def test_reference_lists_must_name_the_cited_work(entries):
    good = "* Kobayashi, G. et al. (2020). Attention is not only a weight. [@kobayashi2020attention]\n" \
           "* Abnar & Zuidema (2020). Attention flow. [@abnar2020quantifying] · Kobayashi (2020) " \
           "[@kobayashi2020attention]\n"
    assert B.reference_list_problems(good, entries, "nb") == []
    wrong_year = good.replace("Kobayashi, G. et al. (2020)", "Kobayashi, G. et al. (2021)")
    assert len(B.reference_list_problems(wrong_year, entries, "nb")) == 1
    swapped = good.replace("[@abnar2020quantifying]", "[@kobayashi2020attention]", 1)
    assert "is marked @kobayashi2020attention" in B.reference_list_problems(swapped, entries, "nb")[0]
    assert "unknown key @nope" in B.reference_list_problems(good + "* X (2020) [@nope]\n", entries, "nb")[0]


def test_only_written_out_lists_must_name_their_work_but_every_key_must_resolve(entries):
    text = "Rollout [@abnar2020quantifying], in prose, needs no year.\n\n## References\n\n" \
           "* Abnar, S. (2019). Flow. [@abnar2020quantifying]\n\n## Next\n\nAnd [@nope].\n"
    problems = B.check_sources({"d": text}, entries)
    assert problems[0] == "d: unknown key @nope"
    assert len(problems) == 2 and "'* Abnar, S. (2019). Flow.' is marked @abnar2020quantifying" in problems[1]
    assert B.check_sources({"d": text.replace("(2019)", "(2020)").replace(" [@nope]", "")}, entries) == []


def test_slides_render_citations_and_drop_markers_on_the_references_slide():
    from speech_course_tools.slides import cite

    key = next(iter(B.load()))
    assert cite(f"as shown [@{key}]") != f"as shown [@{key}]" and "[@" not in cite(f"as shown [@{key}]")
    assert cite(f"## References\n\n- Someone (2020). A paper. [@{key}]") == \
        "## References\n\n- Someone (2020). A paper."
    assert cite("no citation here") == "no citation here"
