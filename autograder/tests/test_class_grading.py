"""Grade a class of broken and hostile submissions in one run (autograder/tests/corpus.py).

One course, 01-convolution-basics, every corpus student, two workers: each student gets
exactly the expected score (never unearned marks), no run crashes, the feedback says what
went wrong, and nothing outside a student's own folder changes.
"""
import hashlib
import html
import os
import pathlib
import re

import pytest
from nbgrader.api import Gradebook

from autograder import grade_class, nbgrader_steps as steps, sandbox
from autograder.hidden import REFERENCES
from autograder.tests.corpus import CORPUS, FILE, NAME, build

ESCAPES = [pathlib.Path("/tmp/corpus-escape.txt"), pathlib.Path.home() / "corpus-escape.txt"]


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def sandboxed():
    """The corpus attacks the machine for real: grade it only inside bubblewrap."""
    if sandbox.bwrap_path() is None:
        message = "bubblewrap is not installed (sudo apt-get install bubblewrap)"
        if os.environ.get("COURSE_REQUIRE_SANDBOX"):
            pytest.fail(message)
        pytest.skip(message)
    before = os.environ.get("COURSE_SANDBOX")
    os.environ["COURSE_SANDBOX"] = "required"
    yield
    if before is None:
        del os.environ["COURSE_SANDBOX"]
    else:
        os.environ["COURSE_SANDBOX"] = before


@pytest.fixture(scope="module")
def graded(sandboxed, tmp_path_factory):
    for path in ESCAPES:
        path.unlink(missing_ok=True)
    references = {p.name: _sha(p) for p in REFERENCES.glob("*.npz")}
    course = steps.make_course(tmp_path_factory.mktemp("class"), [NAME])
    steps.generate_assignment(course, NAME)
    build(course / "release" / NAME / FILE, course / "source" / NAME / FILE,
          course / "submitted", tmp_path_factory.mktemp("scratch"))
    handed_in = {p.relative_to(course / "submitted"): p.read_bytes()
                 for p in (course / "submitted").rglob("*") if p.is_file()}
    lines = []
    results = grade_class.grade_class(
        course, NAME, workers=2, progress=lines.append,
        nbgrader_args=["--Execute.timeout=15", "--ResilientExecute.notebook_timeout=240"])
    return dict(course=course, results={r.student: r for r in results}, lines=lines,
                references=references, handed_in=handed_in)


def feedback_text(course, student):
    page = (course / "feedback" / student / NAME / FILE.replace(".ipynb", ".html")).read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_corpus_is_a_class_of_at_least_30():
    assert len(CORPUS) >= 30


def test_every_student_gets_exactly_the_expected_score(graded):
    got = {s: (r.status, r.score) for s, r in graded["results"].items()}
    wanted = {s: (case.status, float(case.score)) for s, case in CORPUS.items()}
    assert got == wanted


def test_no_run_crashed_and_everyone_was_graded(graded):
    assert not [r for r in graded["results"].values() if r.status == "failed"]
    assert set(graded["results"]) == set(CORPUS)


@pytest.mark.parametrize("student", [s for s, case in CORPUS.items() if case.says])
def test_feedback_says_what_went_wrong(graded, student):
    text = feedback_text(graded["course"], student)
    for phrase in CORPUS[student].says:
        assert phrase in text, f"{student}: {phrase!r} not in the feedback"


def test_progress_names_each_student_with_how_many_are_left(graded):
    done = [line for line in graded["lines"] if line.startswith("[")]
    assert len(done) == len(CORPUS)
    assert "0 left" in done[-1] and "elapsed" in done[-1]
    assert {line.split()[2] for line in done} == set(CORPUS)


def test_reference_outputs_are_unchanged(graded):
    assert {p.name: _sha(p) for p in REFERENCES.glob("*.npz")} == graded["references"]


def test_nothing_was_written_outside_the_students_folders(graded):
    assert not [p for p in ESCAPES if p.exists()]
    gradebook = graded["course"] / "gradebook.db"
    assert b"all grades gone" not in gradebook.read_bytes()


def test_what_students_handed_in_is_kept_unchanged(graded):
    originals = graded["course"] / "originals"
    for relative, content in graded["handed_in"].items():
        assert (originals / relative).read_bytes() == content, relative


def test_the_report_lists_every_student(graded):
    report = (graded["course"] / "reports" / f"{NAME}.csv").read_text()
    assert all(f"\n{student}," in report for student in CORPUS)


def test_a_held_student_is_graded_normally_once_trusted(graded):
    course = graded["course"]
    results = grade_class.grade_class(course, NAME, students=["redefines_checks"],
                                      trust={"redefines_checks"}, progress=lambda line: None)
    assert (results[0].status, results[0].score) == ("graded", 13.0)


def test_a_regrade_keeps_scores_the_instructor_changed_by_hand(graded):
    course = graded["course"]
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        gb.find_grade("a1_pad_image_tests", NAME, NAME, "perfect").manual_score = 0.5
        gb.db.commit()
    results = grade_class.grade_class(course, NAME, students=["perfect"],
                                      progress=lambda line: None)
    assert (results[0].status, results[0].score) == ("graded", 13.5)
