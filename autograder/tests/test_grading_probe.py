"""Locating a bug by probing, in a real grading: 02 graded in the sandbox (./course.sh check,
nbgrader autograde, judged outside the kernel) with seed 002's published forward pass, and with
a vectorised forward pass that pads by 1 whatever the padding (the public tests, with pads 0
and 1, pass it; the hidden cases with pad 2 do not). The feedback says what each bug depends on:
seed 002's from the public test in the kernel, the other from the judge outside."""
import os
import shutil

import pytest

from autograder import nbgrader_steps as steps, selfcheck
from autograder.submissions import fill_in, solution_text
from autograder.tests.seeds import SEED_002_FORWARD

A = "02-convolution-forward"
SEED_002_SAYS = ("Where to look: Your function is right when the kernel is square, and wrong "
                 "on this case: look at where you use HH and WW")
PAD_ONE_SAYS = ("Where to look: Your function is right when there is no padding, and wrong on "
                "this case: look at how you pad x")


def _pads_by_one(source):
    """The solution of conv_forward_strided, padding by 1 instead of by pad."""
    import nbformat
    nb = nbformat.read(source, as_version=4)
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "a2_conv_forward_strided")
    code = solution_text(cell)
    right = "x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))"
    assert right in code
    return code.replace(right, "x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))) if pad else x")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    shutil.copy(steps.REPO / "nbgrader_config.py", root)
    shutil.copytree(steps.REPO / "source" / A, root / "source" / A)
    (root / "release" / A).mkdir(parents=True)
    source = root / "source" / A / f"{A}.ipynb"
    fill_in(steps.REPO / "release" / A / f"{A}.ipynb", source, root / "release" / A / f"{A}.ipynb",
            replace={"a2_conv_forward_naive": SEED_002_FORWARD,
                     "a2_conv_forward_strided": _pads_by_one(source)})
    before = os.environ.get("COURSE_SANDBOX")
    os.environ["COURSE_SANDBOX"] = "required"      # in the grading sandbox, or not at all
    try:
        result = selfcheck.grade_own(A, root)
    finally:
        if before is None:
            del os.environ["COURSE_SANDBOX"]
        else:
            os.environ["COURSE_SANDBOX"] = before
    return {e["id"]: e for e in result["exercises"]}, open(result["feedback"]).read()


def test_seed_002s_forward_pass_gets_the_probing_hint(graded):
    by_id, page = graded
    naive = by_id["a2_conv_forward_naive_tests"]
    assert naive["points"] == 0 and SEED_002_SAYS in naive["message"], naive["message"]
    assert "w (3, 3, 3, 2)" in naive["message"]          # the public case with a 3x2 kernel
    assert SEED_002_SAYS in page


def test_a_bug_the_public_tests_miss_gets_the_probing_hint_from_the_judge(graded):
    by_id, page = graded
    strided = by_id["a2_conv_forward_strided_tests"]
    assert strided["points"] == 0, strided
    assert strided["message"].startswith("hidden test: conv_forward_strided(") and "pad 2" in strided["message"]
    assert PAD_ONE_SAYS in strided["message"] and PAD_ONE_SAYS in page
    assert by_id["a2_im2col_tests"]["points"] == by_id["a2_im2col_tests"]["max"]
