"""Late submissions: the LMS's mark in a file name, and the configured penalty."""
import shutil

import pytest

from autograder import late, nbgrader_steps as steps

NAME = "01-convolution-basics"


@pytest.fixture
def course(tmp_path):
    shutil.copy(steps.REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    extracted = tmp_path / "downloaded" / NAME / "extracted" / "submissions"
    extracted.mkdir(parents=True)
    for name in (f"ada_1_2_{NAME}.ipynb", f"bob_LATE_3_4_{NAME}-1.ipynb",
                 f"late_5_6_{NAME}.ipynb", f"LATE_7_8_{NAME}.ipynb"):
        (extracted / name).write_text("{}")
    return tmp_path


def test_a_file_canvas_marked_late_makes_its_student_late(course):
    assert late.late_files(course, NAME, "bob") == [f"bob_LATE_3_4_{NAME}-1.ipynb"]
    assert late.late_files(course, NAME, "ada") == []


def test_a_student_called_late_is_not_late_for_it(course):
    assert late.late_files(course, NAME, "late") == []
    assert late.late_files(course, NAME, "LATE") == []


def test_without_a_download_nobody_is_late_by_name(tmp_path):
    assert late.late_files(tmp_path, NAME, "bob") == []


def test_the_penalty_is_the_configured_share_of_the_score():
    plugin = late.LatePenalty(fraction=0.1)
    assert plugin.late_submission_penalty("bob", 14.0, 0) == pytest.approx(1.4)
    assert late.LatePenalty(fraction=1).late_submission_penalty("bob", 14.0, 0) == 14.0
    assert late.LatePenalty().late_submission_penalty("bob", 14.0, 0) == 0.0


def test_a_penalty_that_is_not_a_share_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="from 0 .* to 1"):
        late.LatePenalty(fraction=10).late_submission_penalty("bob", 14.0, 0)
