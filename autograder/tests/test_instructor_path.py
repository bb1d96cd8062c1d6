"""The instructor's path as the README says it, on a fresh clone.

The clone is graded with this environment, which was installed from another checkout (this
one): the set-up that once gave every student a silent 0. The commands are the README's own
code block, run line by line; a broken set-up must stop them with the cause, and no grade.
"""
import csv
import os
import re
import subprocess
import sys
import zipfile

import pytest
from nbgrader.api import Gradebook

from autograder import nbgrader_steps as steps
from autograder.submissions import fill_in
from autograder.tests.corpus import WRONG_CORRELATE

NAME = "01-convolution-basics"
FILE = f"{NAME}.ipynb"
HEADING = "### Grading an assignment handed in through an LMS (Canvas)"


def readme_commands():
    """The shell lines of the README's LMS block, less activating an environment (this test
    brings its own) and the interactive formgrader."""
    text = (steps.REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index(HEADING):], re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    kept = [line for line in lines
            if not line.startswith("source ") and "(interactive)" not in line]
    assert len(kept) == len(lines) - 2, "the README block lost its activate or formgrader line"
    return kept


def run_readme(clone):
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                 os.environ["PATH"]]))
    env.pop("PYTHONPATH", None)
    script = "set -euo pipefail\n" + "\n".join(readme_commands())
    return subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=1500)


def canvas_zip(clone, scratch):
    """A Canvas download: ada on time, bob late (a resubmission), cy with one bug; dan, on the
    roster, handed in nothing."""
    release = clone / "release" / NAME / FILE
    source = clone / "source" / NAME / FILE
    solved = fill_in(release, source, scratch / "solved.ipynb")
    buggy = fill_in(release, source, scratch / "buggy.ipynb",
                    replace={"a1_correlate2d_valid": WRONG_CORRELATE})
    (clone / "instructor").mkdir()
    (clone / "instructor" / "students.csv").write_text(
        "id,first_name,last_name,email\nada,Ada,Lovelace,ada@example.org\n"
        "bob,Bob,Smith,bob@example.org\ncy,Cy,Young,cy@example.org\n"
        "dan,Dan,Brown,dan@example.org\n")
    with zipfile.ZipFile(clone / "instructor" / "submissions.zip", "w") as archive:
        archive.write(solved, f"ada_1234_5678_{FILE}")
        archive.write(solved, f"bob_LATE_4321_8765_{NAME}-1.ipynb")
        archive.write(buggy, f"cy_1111_2222_{FILE}")


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh clone of this repository, with a Canvas zip in instructor/."""
    if subprocess.run(["git", "-C", str(steps.REPO), "status", "--porcelain", "--",
                       "README.md", "autograder", "nbgrader_config.py"],
                      capture_output=True, text=True).stdout.strip():
        message = "uncommitted changes: the clone would not have them (commit, then test)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("instructor")
    subprocess.run(["git", "clone", "-q", str(steps.REPO), str(root / "course")], check=True)
    canvas_zip(root / "course", tmp_path_factory.mktemp("scratch"))
    return root / "course"


@pytest.fixture(scope="module")
def broken(clone):
    """The README's commands with a kernel that cannot import the course."""
    config = clone / "nbgrader_config.py"
    original = config.read_text()
    config.write_text(original + "\nc.SandboxedKernelManager.hidden_paths = "
                      f"[{str(clone / 'course')!r}]\n")
    try:
        done = run_readme(clone)
    finally:
        config.write_text(original)
    with Gradebook(f"sqlite:///{clone / 'gradebook.db'}") as gb:
        graded = [s.student.id for s in gb.find_assignment(NAME).submissions]
    return done, graded


@pytest.fixture(scope="module")
def graded(clone, broken):
    done = run_readme(clone)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open(clone / "instructor" / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == NAME}
    return done, rows


def test_a_broken_setup_stops_with_the_cause_and_grades_no_one(broken):
    done, graded = broken
    assert done.returncode != 0
    assert "the grading kernel cannot import the course's own packages" in done.stderr
    assert "No student was graded" in done.stderr
    assert graded == []


def test_the_readme_commands_grade_a_canvas_zip_on_a_fresh_clone(graded):
    _, rows = graded
    assert {s: float(r["score"]) for s, r in rows.items()} == {
        "ada": 16.0, "bob": 14.4, "cy": 11.0, "dan": 0.0}


def test_the_export_says_who_handed_nothing_in_who_was_late_and_what_needs_a_hand_grade(graded):
    _, rows = graded
    assert {s: r["submitted"] for s, r in rows.items()} == {
        "ada": "yes", "bob": "yes", "cy": "yes", "dan": "no"}
    assert {s: r["late"] for s, r in rows.items()} == {
        "ada": "no", "bob": "yes", "cy": "no", "dan": ""}
    assert float(rows["bob"]["late_submission_penalty"]) == pytest.approx(1.6)
    assert rows["ada"]["needs_manual_grade"] == "1"   # the free-response answer


def test_each_student_gets_a_feedback_zip_named_for_the_lms(graded, clone):
    out = clone / "instructor" / NAME
    assert sorted(p.name for p in (out / "feedback").glob("*.zip")) == [
        f"ada_1234_5678_{NAME}.zip", f"bob_LATE_4321_8765_{NAME}-1.zip",
        f"cy_1111_2222_{NAME}.zip"]
    with zipfile.ZipFile(out / "feedback-all.zip") as archive:
        assert f"cy_1111_2222_{NAME}.html" in archive.namelist()
        page = archive.read(f"cy_1111_2222_{NAME}.html").decode()
    assert "correlate2d_valid" in page and "HIDDEN TESTS" not in page


def test_the_report_says_late_and_answers_left_to_grade_by_hand(graded, clone):
    with open(clone / "reports" / f"{NAME}.csv") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["bob"]["late"] == "yes" and rows["ada"]["late"] == "no"
    assert rows["ada"]["needs_manual_grade"] == "1"
    assert "LATE" in rows["bob"]["notes"]


def test_nothing_the_instructor_downloaded_or_graded_would_be_committed(graded, clone):
    status = subprocess.run(["git", "status", "--porcelain", "--ignored=no"], cwd=clone,
                            capture_output=True, text=True).stdout
    assert status == "", status


def test_run_class_does_the_same_in_one_go(graded, clone):
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                 os.environ["PATH"]]))
    done = subprocess.run([str(clone / "autograder" / "run_class.sh"), NAME,
                           "instructor/students.csv", "instructor/submissions.zip",
                           "--workers", "2"], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[  3/3]" in done.stdout and "Done: 3 graded" in done.stdout
    with open(clone / "instructor" / f"grades-{NAME}.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)
                  if row["assignment"] == NAME}
    assert scores == {"ada": 16.0, "bob": 14.4, "cy": 11.0, "dan": 0.0}


def test_run_class_explains_its_arguments(tmp_path):
    done = subprocess.run([str(steps.REPO / "autograder" / "run_class.sh")], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "ROSTER.csv" in done.stdout
