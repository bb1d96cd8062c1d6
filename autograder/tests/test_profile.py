"""Where the seconds of grading go (autograder.profile): the records grading writes when
COURSE_GRADING_PROFILE is set, and how they add up per submission."""
import pytest

from autograder import grade_class, nbgrader_steps as steps, profile
from autograder.submissions import fill_in

NAME = "01-convolution-basics"


def test_summarize_adds_up_phases_per_submission():
    records = [
        {"step": "prepare", "students": 2, "seconds": 0.4},
        {"step": "execute", "notebook": "/c/autograded/ada/A", "total": 10.0, "kernel start": 1.0,
         "kernel ready": 1.0, "setup cells": 3.0, "test cells": 4.0},
        {"step": "execute", "notebook": "/t/autograded/solution-check/A", "total": 99.0,
         "setup cells": 99.0},                           # the check that grading works: not a student
        {"step": "autograde", "student": "ada", "seconds": 12.0},
        {"step": "execute", "notebook": "/c/autograded/bob/A", "total": 6.0, "setup cells": 5.0},
        {"step": "autograde", "student": "bob", "seconds": 8.0},
        {"step": "feedback", "students": 1, "seconds": 1.0},
        {"step": "feedback", "students": 1, "seconds": 1.0},
    ]
    summary = profile.summarize(records)
    assert summary["submissions"] == 2
    assert summary["setup cells"] == pytest.approx(4.0)
    assert summary["kernel start"] == pytest.approx(0.5)
    assert summary["kernel stop, rest"] == pytest.approx(8.0 - 7.0)      # execute 8 on average, phases 7
    assert summary["nbgrader's own work"] == pytest.approx(10.0 - 8.0)
    assert summary["total"] == pytest.approx(10.0 + 0.2 + 1.0)
    assert profile.summarize([]) == {"submissions": 0}


def test_nothing_is_written_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(profile.ENV, raising=False)
    profile.write({"step": "prepare", "students": 1, "seconds": 1.0})
    assert not profile.enabled() and list(tmp_path.iterdir()) == []


def test_grading_a_student_records_every_phase(tmp_path, monkeypatch):
    """One real submission, graded as grade_class grades it: one record per step, the
    phases of the notebook's run inside its autograde command, feedback made right after."""
    course = steps.make_course(tmp_path / "course", [NAME])
    steps.generate_assignment(course, NAME)
    release = course / "release" / NAME / f"{NAME}.ipynb"
    notebook = fill_in(release, course / "source" / NAME / f"{NAME}.ipynb", tmp_path / "ada.ipynb")
    steps.submit(course, "ada", NAME, notebook, filename=release.name)
    path = tmp_path / "profile.jsonl"
    monkeypatch.setenv(profile.ENV, str(path))
    results = grade_class.grade_class(course, NAME, workers=1, check=False, progress=lambda line: None)
    assert (results[0].status, results[0].score, results[0].manual_left) == ("graded", 16.0, 1)
    assert (course / "feedback" / "ada" / NAME / f"{NAME}.html").exists()
    records = profile.read(path)
    assert [r["step"] for r in records] == ["prepare", "execute", "autograde", "feedback"]
    execute = records[1]
    assert execute["notebook"].endswith(f"autograded/ada/{NAME}")
    for phase in profile.EXECUTE_PHASES:
        assert execute.get(phase, 0.0) >= 0.0, phase
    for phase in ("kernel start", "kernel ready", "setup cells", "exercise cells", "test cells", "judge"):
        assert execute[phase] > 0.0, phase
    assert sum(execute.get(p, 0.0) for p in profile.EXECUTE_PHASES) <= execute["total"]
    assert len(execute["slowest cells"]) == 5
    summary = profile.summarize(records)
    assert summary["submissions"] == 1 and summary["nbgrader's own work"] > 0.0
    assert summary["total"] >= records[2]["seconds"]
