"""The drift check compares what is generated exactly, and executed numbers within a tolerance.

``speech-course build --check`` (and the test suite's drift test) must not fail on a machine that rounds floating
point differently, and must still fail on a stale notebook. The notebooks here are small, hand-made ones;
docs/environment.md records the check on the real solutions rebuilt under a perturbed BLAS setting.
"""

from __future__ import annotations

import copy
import json

from course.grading.build import ABS_TOL, REL_TOL, differences


def _nb(source: str = "print(acc)", text: str = "accuracy 0.227 on 342 segments\n", image: str = "iVBOR0") -> str:
    cell = {"cell_type": "code", "id": "c0", "metadata": {}, "execution_count": 1, "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": text},
                        {"output_type": "display_data", "metadata": {},
                         "data": {"image/png": image, "text/plain": "<Figure size 640x480 with 1 Axes>"}}]}
    md = {"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "The probe reaches 0.9."}
    return json.dumps({"cells": [md, cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_identical_notebooks_do_not_differ():
    assert differences(_nb(), _nb()) == []


def test_floating_point_noise_in_outputs_is_not_drift():
    assert differences(_nb(), _nb(text="accuracy 0.229 on 342 segments\n")) == []
    # numpy pads an array to its widest number, so a rounding that drops a digit moves the spaces
    assert differences(_nb(text="[0.456 0.079]\n"), _nb(text="[0.46  0.079]\n")) == []
    assert differences(_nb(), _nb(image="AAAA")) == []  # images by kind only


def test_a_number_beyond_the_tolerance_is_drift():
    found = differences(_nb(), _nb(text="accuracy 0.250 on 342 segments\n"))
    assert found == ["output of cell [1]: 0.227 became 0.250"]
    assert 0.250 - 0.227 > max(ABS_TOL, REL_TOL * 0.25)
    assert differences(_nb(), _nb(text="accuracy 0.227 on 300 segments\n"))


def test_changed_words_or_numbers_count_in_outputs_are_drift():
    assert differences(_nb(), _nb(text="selectivity 0.227 on 342 segments\n"))
    assert differences(_nb(), _nb(text="accuracy 0.227 on 342 segments, 8 speakers\n"))


def test_sources_and_metadata_must_be_identical():
    assert differences(_nb(), _nb(source="print(acc )")) == ["sources, metadata or cells differ"]
    nb = json.loads(_nb())
    changed = copy.deepcopy(nb)
    changed["cells"][0]["source"] = "The probe reaches 0.91."  # prose is generated exactly, numbers included
    assert differences(json.dumps(nb), json.dumps(changed)) == ["sources, metadata or cells differ"]
    changed = copy.deepcopy(nb)
    changed["cells"][1]["metadata"] = {"tags": ["analysis"]}
    assert differences(json.dumps(nb), json.dumps(changed))
