"""The tamper scan: quiet on the course's own answers, loud on changes to the grading tools."""
import nbformat
import pytest

from autograder.nbgrader_steps import REPO, assignments
from autograder.submissions import fill_in
from autograder.tamper import scan_sources, student_sources


@pytest.mark.parametrize("name", assignments())
def test_the_solutions_of_every_assignment_raise_no_tamper_finding(name, tmp_path):
    release = REPO / "release" / name / f"{name}.ipynb"
    solved = nbformat.read(fill_in(release, REPO / "source" / name / f"{name}.ipynb",
                                   tmp_path / "solved.ipynb"), as_version=4)
    template = nbformat.read(release, as_version=4)
    findings = scan_sources(student_sources(solved, template))
    assert [f for f in findings if f[0] == "tamper"] == []


@pytest.mark.parametrize("code, what", [
    ("import numpy as xp\nxp.allclose = lambda *a, **k: True", "replaces xp.allclose"),
    ("from course import checks\nchecks.check_array = print", "replaces checks.check_array"),
    ("check_close = lambda *a, **k: None", "assigns to check_close"),
    ("def all_passed(name):\n    pass", "defines its own all_passed"),
    ("import sys\nsys.modules['numpy'] = None", "uses sys.modules"),
    ("get_ipython().showtraceback = lambda *a, **k: None", "calls get_ipython()"),
    ("exec('import bu' + 'iltins')", "calls exec()"),
    ("open('../../../gradebook.db', 'w')", "mentions the grader's files"),
    ("__builtins__['len'] = lambda x: 0", "changes __builtins__"),
    ("%time x = 1\nimport gc\ngc.get_objects()", "imports gc"),
])
def test_tampering_is_found(code, what):
    findings = scan_sources([("cell 1", code)])
    assert any(kind == "tamper" and what in text for kind, _, _, text in findings), findings


@pytest.mark.parametrize("code", [
    "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (6, 4)",
    "import torch\ntorch.backends.cudnn.benchmark = False",
    "x = np.zeros(3)\nx[0] = 1\nmodel.fc.weight.data[:] = 0",
    "np.savez('weights.npz', w=w)",
])
def test_ordinary_code_is_not_tampering(code):
    assert [f for f in scan_sources([("cell 1", code)]) if f[0] == "tamper"] == []


def test_unsafe_calls_are_noted_but_not_tampering():
    findings = scan_sources([("cell 1", "import os\nos._exit(1)\n!rm -rf /")])
    kinds = {(kind, text) for kind, _, _, text in findings}
    assert ("unsafe", "calls os._exit()") in kinds
    assert ("unsafe", "runs a shell command (!)") in kinds
    assert not [k for k in kinds if k[0] == "tamper"]
