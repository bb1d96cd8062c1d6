"""The instructor's whole path in one script: roster, release, a Canvas zip, grading, CSV."""
import csv
import os
import subprocess
import sys
import zipfile

from autograder import nbgrader_steps as steps
from autograder.submissions import fill_in

NAME = "01-convolution-basics"


def test_run_class_grades_a_canvas_zip_into_a_grade_csv(tmp_path):
    course = steps.make_course(tmp_path / "course", [NAME])
    steps.generate_assignment(course, NAME)
    release = course / "release" / NAME / f"{NAME}.ipynb"
    solved = fill_in(release, course / "source" / NAME / f"{NAME}.ipynb", tmp_path / "ada.ipynb")
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n"
                                         "ada,Ada,Lovelace,ada@example.org\n"
                                         "bob,Bob,Smith,bob@example.org\n")
    with zipfile.ZipFile(tmp_path / "submissions.zip", "w") as archive:
        archive.write(solved, f"ada_1234_5678_{NAME}.ipynb")
        archive.write(release, f"bob_LATE_4321_8765_{NAME}-1.ipynb")   # a late resubmission
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                 os.environ["PATH"]]))
    done = subprocess.run([str(steps.REPO / "autograder" / "run_class.sh"), NAME,
                           str(tmp_path / "roster.csv"), str(tmp_path / "submissions.zip"),
                           "--workers", "2"], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[  2/2]" in done.stdout and "Done: 2 graded" in done.stdout
    with open(course / f"grades-{NAME}.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores == {"ada": 14.0, "bob": 0.0}
    for student in ("ada", "bob"):
        assert (course / "feedback" / student / NAME / f"{NAME}.html").exists()


def test_run_class_explains_its_arguments(tmp_path):
    done = subprocess.run([str(steps.REPO / "autograder" / "run_class.sh")], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "ROSTER.csv" in done.stdout
