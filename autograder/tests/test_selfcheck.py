"""A self-learner grades their own notebook (./course.sh check): the hidden tests, the named
mistake, the total, their file untouched, and a history that ./course.sh progress reads."""
import hashlib
import shutil

import pytest

from autograder import nbgrader_steps as steps, selfcheck
from autograder.submissions import fill_in

A = "01-convolution-basics"
ONE_SIDED = "def pad_image(image, pad):\n    return np.pad(image, ((pad, 0), (pad, 0)))\n"


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """A course checkout whose 01 has every exercise answered, pad_image wrongly."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copy(steps.REPO / "nbgrader_config.py", root)
    shutil.copytree(steps.REPO / "source" / A, root / "source" / A)
    (root / "release" / A).mkdir(parents=True)
    notebook = root / "release" / A / f"{A}.ipynb"
    fill_in(steps.REPO / "release" / A / f"{A}.ipynb", root / "source" / A / f"{A}.ipynb",
            notebook, replace={"a1_pad_image": ONE_SIDED})
    before = hashlib.sha256(notebook.read_bytes()).hexdigest()
    result = selfcheck.grade_own(A, root)
    selfcheck.record(result, root)
    return dict(root=root, notebook=notebook, before=before, result=result)


def test_each_exercise_gets_its_points_and_the_wrong_one_its_named_mistake(learner):
    by_id = {e["id"]: e for e in learner["result"]["exercises"]}
    assert by_id["a1_pad_image_tests"]["points"] == 0 and by_id["a1_correlate2d_valid_tests"]["points"] == 3
    assert "pad_image(image of shape" in by_id["a1_pad_image_tests"]["message"]
    assert by_id["a1_odd_kernels"]["points"] is None  # free response: for the instructor
    lines = "\n".join(selfcheck.report(learner["result"]))
    assert "total (autograded): 15 / 16" in lines and "pad_image" in lines
    assert "BEGIN HIDDEN" not in lines and "autograder" not in lines.replace(".self-check", "")


def test_the_learners_file_is_not_changed_and_the_feedback_page_is_written(learner):
    assert hashlib.sha256(learner["notebook"].read_bytes()).hexdigest() == learner["before"]
    page = open(learner["result"]["feedback"]).read()
    assert "pad_image" in page and "BEGIN HIDDEN TESTS" not in page


def test_the_history_gives_the_progress_table(learner):
    lines = selfcheck.progress_lines(learner["root"])
    row = [line for line in lines if line.startswith(A)][0]
    assert "15/16" in row.replace(" ", "") and " 1 " in row


def test_assignments_are_named_by_number():
    assert selfcheck.resolve("3") == "03-convolution-backward"
    assert selfcheck.resolve("03") == "03-convolution-backward"
    with pytest.raises(selfcheck.CheckError, match="Name one of: 01, 02"):
        selfcheck.resolve("99")


def test_only_notebooks_with_an_answer_are_checked_by_default(learner):
    assert selfcheck.answered(learner["notebook"])
    assert not selfcheck.answered(steps.REPO / "release" / A / f"{A}.ipynb")
