"""Time-aligned annotations: the :class:`Interval` type and Praat TextGrid files.

TextGrids are the speech community's format for alignments (Praat, Montreal
Forced Aligner). The course writes two interval tiers, ``words`` and
``phones``; an empty label marks silence. Reading and writing is done by the
maintained ``praatio`` library.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import NamedTuple, Sequence

from praatio import textgrid as _tg

from course.errors import CourseError


class Interval(NamedTuple):
    """A labelled time span ``[start, end)`` in seconds."""

    start: float
    end: float
    label: str

    @property
    def duration(self) -> float:
        return self.end - self.start


class TextGridError(CourseError, ValueError):
    """A TextGrid file is missing, unreadable or lacks the expected tiers."""


def write_textgrid(
    path: str | PathLike,
    tiers: dict[str, Sequence[Interval]],
    duration: float,
) -> None:
    """Write interval tiers to a long-format TextGrid.

    Gaps between intervals are written as intervals with an empty label
    (silence), so Praat shows a complete tier.

    Parameters
    ----------
    path : path-like
        Output file.
    tiers : dict
        Tier name -> non-overlapping intervals sorted by time.
    duration : float
        Length of the audio in seconds; every interval must end by then.
    """
    grid = _tg.Textgrid(minTimestamp=0.0, maxTimestamp=duration)
    for name, intervals in tiers.items():
        entries = [(round(i.start, 6), round(i.end, 6), i.label) for i in intervals if i.label]
        grid.addTier(_tg.IntervalTier(name, entries, 0.0, duration))
    grid.save(str(path), format="long_textgrid", includeBlankSpaces=True, reportingMode="error")


def read_textgrid(path: str | PathLike, tiers: Sequence[str] = ("words", "phones")) -> dict[str, list[Interval]]:
    """Read interval tiers from a TextGrid, dropping empty (silence) intervals.

    Raises
    ------
    TextGridError
        If the file does not exist, cannot be parsed, or lacks a tier.
    """
    path = Path(path)
    if not path.is_file():
        raise TextGridError(f"No TextGrid at {path}.")
    try:
        grid = _tg.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="silence")
    except Exception as exc:  # praatio raises several exception types for bad files
        raise TextGridError(f"Cannot read TextGrid {path}: {exc}") from exc
    out: dict[str, list[Interval]] = {}
    for name in tiers:
        if name not in grid.tierNames:
            raise TextGridError(f"TextGrid {path} has no tier {name!r} (tiers: {list(grid.tierNames)}).")
        out[name] = [Interval(float(e.start), float(e.end), e.label) for e in grid.getTier(name).entries]
    return out
