"""Peak resident memory of the current process: the figure behind the notebooks' memory budget.

Its own module, with nothing but the standard library, because :mod:`course.grading.build` imports it inside the
kernel of the notebook it measures (``PEAK_RSS_PROBE``), where importing more would add to the figure.
"""

from __future__ import annotations

import resource


def peak_rss_kb() -> int:
    """Peak resident memory of this process in kB, since it started its current program.

    Read from ``VmHWM`` in ``/proc/self/status`` where there is one. ``getrusage``'s ``ru_maxrss`` (the
    fallback elsewhere) is not reliable in a freshly started child on Linux: it keeps the high-water mark
    the parent had when it forked, so a child of a large process reports at least the parent's size.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
