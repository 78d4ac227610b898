import pytest

from course.textgrid import Interval, TextGridError, read_textgrid, write_textgrid


def test_round_trip_fills_silence_and_drops_it_on_read(tmp_path):
    words = [Interval(0.1, 0.4, "hello"), Interval(0.5, 0.9, "world")]
    phones = [Interval(0.1, 0.2, "h"), Interval(0.2, 0.4, "əʊ"), Interval(0.5, 0.9, "w")]
    path = tmp_path / "a.TextGrid"
    write_textgrid(path, {"words": words, "phones": phones}, duration=1.0)
    text = path.read_text()
    assert 'text = ""' in text, "silences should be written as empty intervals"
    got = read_textgrid(path)
    assert got["words"] == words and got["phones"] == phones


def test_overlapping_intervals_are_refused(tmp_path):
    with pytest.raises(Exception):
        write_textgrid(tmp_path / "b.TextGrid", {"words": [Interval(0, 0.5, "a"), Interval(0.4, 0.8, "b")]}, 1.0)


def test_read_errors(tmp_path):
    with pytest.raises(TextGridError, match="No TextGrid"):
        read_textgrid(tmp_path / "missing.TextGrid")
    bad = tmp_path / "bad.TextGrid"
    bad.write_text("this is not a textgrid")
    with pytest.raises(TextGridError, match="Cannot read"):
        read_textgrid(bad)
    one = tmp_path / "one.TextGrid"
    write_textgrid(one, {"words": [Interval(0, 0.5, "a")]}, 1.0)
    with pytest.raises(TextGridError, match="no tier 'phones'"):
        read_textgrid(one)
