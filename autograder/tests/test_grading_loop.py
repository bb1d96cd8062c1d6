"""The whole nbgrader loop on assignment 01, in a throw-away course directory:
generate_assignment, three submissions, autograde, manual grading, feedback, export."""
import csv
import pathlib
import re

import pytest
from nbgrader.api import Gradebook

from autograder import nbgrader_steps as steps
from autograder.submissions import fill_in

A1 = "01-convolution-basics"
NOTEBOOK = f"{A1}.ipynb"
AUTO_POINTS = 14
MANUAL_POINTS = 2

# height and width mixed up: the right values, transposed
SWAPPED_CORRELATE = '''
def correlate2d_valid(image, kernel):
    H, W = image.shape
    KH, KW = kernel.shape
    out = np.zeros((W - KW + 1, H - KH + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[j:j + KH, i:i + KW] * kernel)
    return out
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = steps.make_course(tmp_path_factory.mktemp("course"), [A1])
    steps.generate_assignment(course, A1)
    release = course / "release" / A1 / NOTEBOOK
    source = course / "source" / A1 / NOTEBOOK
    work = tmp_path_factory.mktemp("students")
    submissions = {
        "ada": fill_in(release, source, work / "ada.ipynb"),
        "blank": release,
        "swapped": fill_in(release, source, work / "swapped.ipynb",
                           replace={"a1_correlate2d_valid": SWAPPED_CORRELATE}),
    }
    for student, notebook in submissions.items():
        target = steps.submit(course, student, A1, notebook)
        (target / notebook.name).rename(target / NOTEBOOK)
    log = steps.autograde(course, A1)
    # the instructor grades the free-response answer of one student in the formgrader
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade("a1_odd_kernels", A1, A1, "ada")
        grade.manual_score = MANUAL_POINTS
        gb.db.commit()
    steps.generate_feedback(course, A1)
    steps.export_grades(course, course / "grades.csv")
    return course, log


def scores(course):
    with open(course / "grades.csv") as f:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(f)}


def feedback_html(course, student):
    return (course / "feedback" / student / A1 / f"{A1}.html").read_text()


def test_export_has_exactly_the_expected_scores(graded):
    course, _ = graded
    total = AUTO_POINTS + MANUAL_POINTS
    assert scores(course) == {
        "ada": (total, total),
        "blank": (0.0, total),
        "swapped": (AUTO_POINTS - 3 - 2, total),  # correlate2d_valid and convolve2d_valid fail
    }


def test_autograde_reports_no_timeout_or_crash(graded):
    _, log = graded
    assert "Timeout" not in log and "timed out" not in log
    assert "Dead kernel" not in log and "DeadKernelError" not in log


def test_feedback_names_the_bug_with_its_hint(graded):
    course, _ = graded
    html = feedback_html(course, "swapped")
    assert "correlate2d_valid(image of shape (4, 4), kernel of shape (2, 2)): returned the wrong values" in html
    assert "Height and width are swapped" in html


def test_feedback_of_an_unanswered_exercise_says_so(graded):
    course, _ = graded
    assert "NotImplementedError" in feedback_html(course, "blank")


@pytest.mark.parametrize("student", ["ada", "blank", "swapped"])
def test_feedback_shows_no_hidden_test_code_or_reference_values(graded, student):
    course, _ = graded
    html = feedback_html(course, student)
    assert "HIDDEN TESTS" not in html
    assert "autograder" not in html  # neither the hidden imports nor paths of hidden test files
    assert not re.search(r"check_[a-z0-9_]+\((dense_params|correlate2d_valid)\)", html)
    assert "expected: (hidden)" in html or student == "ada" or "NotImplementedError" in html
