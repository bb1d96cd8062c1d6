"""Preparing the gradebook: every assignment recorded, release/ untouched, staleness said."""
import shutil

import pytest
from nbgrader.api import Gradebook

from autograder import gradebook, nbgrader_steps as steps

NAMES = ["01-convolution-basics", "04-pooling"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = steps.make_course(tmp_path_factory.mktemp("gradebook"), NAMES)
    for name in NAMES:
        shutil.copytree(steps.REPO / "release" / name, course / "release" / name)
    return course


def test_every_assignment_goes_into_the_gradebook_and_release_is_left_alone(course):
    before = {p: p.read_bytes() for p in (course / "release").rglob("*.ipynb")}
    lines = []
    stale = gradebook.prepare_gradebook(course, progress=lines.append)
    assert stale == {name: [] for name in NAMES}
    with Gradebook(gradebook.default_db_url(course)) as gb:
        assert {a.name: a.max_score for a in gb.assignments} == {NAMES[0]: 18.0, NAMES[1]: 10.0}
    assert {p: p.read_bytes() for p in (course / "release").rglob("*.ipynb")} == before
    assert lines == [f"{name}: in the gradebook" for name in NAMES]


def test_a_stale_release_is_named_with_the_command_that_fixes_it(course):
    notebook = course / "release" / NAMES[1] / f"{NAMES[1]}.ipynb"
    kept = notebook.read_bytes()
    notebook.write_bytes(kept.replace(b"pooling", b"pooling!", 1))
    try:
        lines = []
        gradebook.prepare_gradebook(course, [NAMES[1]], progress=lines.append)
    finally:
        notebook.write_bytes(kept)
    assert "release/04-pooling is out of date: run ./course.sh release" in lines[0]


def test_grading_an_assignment_the_gradebook_lacks_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit) as info:
        gradebook.require_assignment("01-convolution-basics", f"sqlite:///{tmp_path / 'g.db'}")
    assert "python -m autograder.gradebook" in str(info.value)
    assert "has no assignment '01-convolution-basics'" in str(info.value)


def test_an_unknown_assignment_is_named(course):
    with pytest.raises(SystemExit, match="unknown assignment.*09-nothing"):
        gradebook.prepare_gradebook(course, ["09-nothing"])
