"""The learner's progress: the table ./course.sh progress prints and the figure a notebook draws."""
import json

import matplotlib
import pytest

from course import progress

matplotlib.use("Agg")

NAMES = ["01-convolution-basics", "02-convolution-forward", "03-convolution-backward"]


def write(folder, name, entries, damaged=False):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(e) for e in entries] + (["not json", "[1, 2]"] if damaged else [])
    (folder / name).write_text("\n".join(lines) + "\n")


def check(assignment, time, points, most):
    return {"time": time, "assignment": assignment, "points": points, "max": most}


@pytest.fixture
def folder(tmp_path):
    """Three checks (01 twice, 02 once), three hints (two of 02, one of 01), damaged lines."""
    folder = tmp_path / "progress"
    most = {"a1_pad_image_tests": 1, "a1_correlate2d_valid_tests": 3}
    write(folder, progress.CHECKS_NAME, [
        check(NAMES[0], "2026-11-30T10:00:00", {"a1_pad_image_tests": 0, "a1_correlate2d_valid_tests": 3}, most),
        check(NAMES[1], "2026-11-30T11:00:00", {"a2_x_tests": 2, "a2_y_tests": 0}, {"a2_x_tests": 2, "a2_y_tests": 4}),
        check(NAMES[0], "2026-11-30T12:00:00", {"a1_pad_image_tests": 1, "a1_correlate2d_valid_tests": 3}, most),
    ], damaged=True)
    write(folder, progress.HINTS_NAME, [
        {"time": "t", "exercise": "a2_conv_forward_naive", "level": 1},
        {"time": "t", "exercise": "a2_conv_forward_naive", "level": 2},
        {"time": "t", "exercise": "a1_pad_image", "level": 1}], damaged=True)
    return folder


def test_the_summary_takes_each_notebooks_latest_check_and_counts_hints(folder):
    rows = {row["notebook"]: row for row in progress.summary(folder, NAMES)}
    assert (rows[NAMES[0]]["points"], rows[NAMES[0]]["max"], rows[NAMES[0]]["open"]) == (4, 4, 0)
    assert (rows[NAMES[1]]["points"], rows[NAMES[1]]["max"], rows[NAMES[1]]["open"]) == (2, 6, 1)
    assert [rows[n]["checks"] for n in NAMES] == [2, 1, 0]
    assert [rows[n]["hints"] for n in NAMES] == [1, 2, 0]
    assert rows[NAMES[2]]["points"] is None


def test_the_table_has_one_row_per_notebook(folder):
    lines = progress.progress_table(folder, NAMES)
    assert lines[0].split() == ["notebook", "points", "open", "checks", "hints", "last", "checked"]
    row = {line.split()[0]: line for line in lines[1:]}
    assert "4/4" in row[NAMES[0]].replace(" ", "") and "2026-11-30 12:00:00" in row[NAMES[0]]
    assert row[NAMES[1]].split()[1:5] == ["2/6", "1", "1", "2"]
    assert row[NAMES[2]].split()[1:] == ["-", "0", "0"]


def test_the_score_over_time_adds_the_latest_check_of_each_notebook(folder):
    assert [(points, most) for _, points, most in progress.score_over_time(folder)] == [
        (3, 4), (5, 10), (6, 10)]


def test_the_figure_shows_points_per_notebook_and_the_score_over_time(folder, capsys):
    fig = progress.show_progress(folder, NAMES)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["01", "02"]
    assert "4/4, 0 open" in [t.get_text().strip() for t in left.texts]
    assert list(right.lines[0].get_ydata()) == [3, 5, 6]
    assert "2/6" in capsys.readouterr().out.replace(" ", "")


def test_with_nothing_yet_it_says_how_to_begin(tmp_path, capsys):
    assert progress.show_progress(tmp_path, NAMES) is None
    assert "./course.sh check 01" in capsys.readouterr().out


def test_nothing_is_drawn_while_a_notebook_is_graded(folder, monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert progress.show_progress(folder, NAMES) is None
    assert capsys.readouterr().out == ""


def test_the_progress_folder_is_the_course_roots_unless_told_otherwise(tmp_path, monkeypatch):
    root = tmp_path / "course"
    (root / "release").mkdir(parents=True)
    (root / "course.sh").write_text("")
    (root / "release" / "sub").mkdir()
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.chdir(root / "release" / "sub")
    assert progress.progress_folder() == root.resolve() / "progress"
    assert progress.progress_folder(tmp_path / "x") == tmp_path / "x" / "progress"
    assert progress.course_notebooks() == ()           # release/ holds no notebook folder
    (root / "release" / "01-a").mkdir()
    (root / "release" / "01-a" / "01-a.ipynb").write_text("{}")
    assert progress.course_notebooks() == ("01-a",)
    monkeypatch.setenv("COURSE_PROGRESS", str(tmp_path / "mine"))
    assert progress.progress_folder() == tmp_path / "mine"


def test_a_hint_shown_again_is_not_a_new_hint(tmp_path):
    write(tmp_path, progress.HINTS_NAME, [
        {"time": "t", "exercise": "a2_im2col", "level": 1},
        {"time": "t", "exercise": "a2_im2col", "level": 1},      # hint(..., again=True)
        {"time": "t", "exercise": "a2_im2col", "level": "two"}])  # damaged
    assert progress.hints(tmp_path) == {"a2_im2col": 1}
    assert [row["hints"] for row in progress.summary(tmp_path, NAMES)] == [0, 1, 0]
