"""course.hints: a ladder of 2-3 hints for every graded code exercise of notebooks 01-05,
none holding a line of solution code; the ladder advances, repeats and stops; every hint taken
is recorded where the module says, and read back; grading makes it silent."""
import ast
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tokenize

import nbformat
import pytest

import course.hints as hints
from course import progress as progress_module
from course.hints import UnknownExercise, exercises, hint, hints_taken, progress_file

REPO = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(REPO.glob("source/0[1-5]-*/0[1-5]-*.ipynb"))
MIN_LINE = 8  # a solution line of fewer characters (spaces aside) gives nothing away


def graded_exercises():
    """{grade_id: (notebook, solution cell source, task heading or None)} of notebooks 01-05."""
    found = {}
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in cells}
        for cell in cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                task = by_id.get(meta["grade_id"] + "_task")
                heading = task.source.splitlines()[0] if task is not None else None
                found[meta["grade_id"]] = (path, cell.source, heading)
    return found


EXERCISES = graded_exercises()


def solution_lines(source):
    """The lines between the solution markers, comments cut off, stripped, non-trivial."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.start[1]
    inside, lines = False, []
    for number, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            code = line[:comments.get(number, len(line))].strip()
            if len(re.sub(r"\s", "", code)) >= MIN_LINE:
                lines.append(code)
    return lines


def squeeze(text):
    return re.sub(r"\s", "", text)


@pytest.fixture
def progress(tmp_path, monkeypatch):
    """Hints recorded in a scratch folder; not grading."""
    folder = tmp_path / "progress"
    monkeypatch.setenv("COURSE_PROGRESS", str(folder))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return folder / "hints.jsonl"


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------------------- the ladders

def test_the_notebooks_were_found():
    assert len(NOTEBOOKS) == 5, f"expected source/01-... to source/05-..., found {NOTEBOOKS}"
    assert len(EXERCISES) >= 25, f"only {len(EXERCISES)} solution cells found in {NOTEBOOKS}"


def test_every_graded_code_exercise_has_a_ladder_of_two_or_three_hints():
    missing = [name for name in EXERCISES if name not in hints.LADDERS]
    assert not missing, (f"These exercises have no hints: {missing}. Add a ladder of 2-3 hints "
                         "for each to LADDERS in course/hints.py.")
    stale = [name for name in hints.LADDERS if name not in EXERCISES]
    assert not stale, (f"course/hints.py has hints for {stale}, which no solution cell of "
                       "notebooks 01-05 has as its grade_id (renamed or removed?).")
    for name, (section, ladder) in hints.LADDERS.items():
        assert 2 <= len(ladder) <= 3, f"{name} has {len(ladder)} hints; a ladder has 2 or 3"
        assert all(isinstance(h, str) and h.strip() for h in ladder), f"{name}: an empty hint"
        assert len(set(ladder)) == len(ladder), f"{name}: two hints are the same"


def test_exercises_lists_them_in_course_order():
    assert exercises() == list(EXERCISES)
    assert exercises("02") == [name for name in EXERCISES if name.startswith("a2_")]
    assert exercises(4) == [name for name in EXERCISES if name.startswith("a4_")]


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_ladder_names_the_exercise_heading(name):
    path, _, heading = EXERCISES[name]
    assert heading is not None, f"{name} has no task cell ({name}_task) in {path.name}"
    section = hints.LADDERS[name][0]
    assert heading.startswith("### " + section), (
        f"the hints of {name} point to {section!r}, but {path.name} heads it {heading!r}")


@pytest.mark.parametrize("name", list(EXERCISES))
def test_no_hint_holds_a_line_of_solution_code(name):
    """Any exercise's solution lines, not only its own: no hint gives one away."""
    _, ladder = hints.LADDERS[name]
    for level, text in enumerate(ladder, start=1):
        assert "SOLUTION" not in text
        for other, (_, source, _) in EXERCISES.items():
            for line in solution_lines(source):
                assert squeeze(line) not in squeeze(text), (
                    f"hint {level} of {name} holds this line of the solution of {other}: {line!r}")


def test_the_solution_lines_are_read():
    """The check above compares real lines: e.g. the loop body of conv_forward_naive."""
    lines = solution_lines(EXERCISES["a2_conv_forward_naive"][1])
    assert "out[n, f, i, j] = np.sum(window * w[f]) + b[f]" in lines
    assert all("#" not in line for line in solution_lines(EXERCISES["a4_conv1d_forward"][1]))


def _imports(path, top_level_only=False):
    tree = ast.parse(pathlib.Path(path).read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    imported = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    return imported


def test_hints_are_text_only():
    """course/hints.py imports no numerical library and no course helper but course.mode and
    course.progress, which counts (and imports matplotlib only to draw)."""
    allowed = {"datetime", "difflib", "json", "os", "pathlib", "textwrap", "course.mode",
               "course.progress"}
    assert _imports(hints.__file__) <= allowed
    assert _imports(progress_module.__file__) <= {"json", "os", "pathlib", "course.mode",
                                                  "matplotlib.pyplot", "matplotlib.ticker"}
    assert _imports(progress_module.__file__, top_level_only=True) <= {
        "json", "os", "pathlib", "course.mode"}


# ------------------------------------------------------------------------------- the ladder in use

def test_the_ladder_advances_one_hint_at_a_time_and_stops(progress, capsys):
    name = "a2_conv_forward_naive"
    section, ladder = hints.LADDERS[name]
    for level in range(1, len(ladder) + 1):
        hint(name)
        out = capsys.readouterr().out
        assert out.startswith(f"Hint {level} of {len(ladder)}: ")
        assert squeeze(ladder[level - 1]) in squeeze(out)
        assert hints_taken() == {name: level}
    hint(name)
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith(f"No more hints for {name}")
    assert f"notebook 02, {section}" in out and "public test" in out
    assert hints_taken() == {name: len(ladder)}
    assert [r["level"] for r in records(progress)] == list(range(1, len(ladder) + 1))


def test_again_repeats_the_last_hint_without_moving_on(progress, capsys):
    name = "a4_max_pool_backward_naive"
    ladder = hints.LADDERS[name][1]
    hint(name, again=True)
    assert "No hint of a4_max_pool_backward_naive taken yet" in capsys.readouterr().out
    assert not progress.exists()
    hint(name)
    hint(name)
    capsys.readouterr()
    hint(name, again=True)
    out = capsys.readouterr().out
    assert out.startswith(f"Hint 2 of {len(ladder)}: ")
    assert hints_taken() == {name: 2}
    hint(name)
    assert capsys.readouterr().out.startswith(f"Hint 3 of {len(ladder)}: ")
    assert [r["level"] for r in records(progress)] == [1, 2, 2, 3]


def test_ladders_of_different_exercises_are_separate(progress, capsys):
    hint("a1_pad_image")
    hint("a1_pad_image")
    hint("a5_train")
    assert hints_taken() == {"a1_pad_image": 2, "a5_train": 1}


def test_each_hint_is_recorded_as_one_json_line(progress):
    hint("a1_correlate2d_valid")
    hint("a3_conv_backward_naive")
    lines = records(progress)
    assert [sorted(r) for r in lines] == [["exercise", "level", "time"]] * 2
    assert [(r["exercise"], r["level"]) for r in lines] == [("a1_correlate2d_valid", 1),
                                                           ("a3_conv_backward_naive", 1)]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", lines[0]["time"])


def test_the_history_survives_a_restart(progress, capsys):
    """A new Python process (a restarted kernel) carries on where the file says."""
    hint("a5_simple_conv_net")
    hint("a5_simple_conv_net")
    script = ("from course.hints import hint, hints_taken; print(hints_taken()); "
              "hint('a5_simple_conv_net')")
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    env["COURSE_PROGRESS"] = str(progress.parent)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, check=True)
    assert done.stdout.startswith("{'a5_simple_conv_net': 2}\nHint 3 of 3: "), done.stdout
    assert hints_taken() == {"a5_simple_conv_net": 3}


def test_a_damaged_line_of_the_history_is_skipped(progress):
    progress.parent.mkdir(parents=True)
    progress.write_text('{"time": "t", "exercise": "a1_pad_image", "level": 2}\nnot json\n'
                        '{"exercise": "a1_same_padding"}\n')
    assert hints_taken() == {"a1_pad_image": 2}


def test_the_history_lives_in_the_course_root(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    root = tmp_path / "course"
    (root / "release" / "02-convolution-forward").mkdir(parents=True)
    (root / "course.sh").write_text("#!/bin/sh\n")
    inner = root / "release" / "02-convolution-forward" / "scratch"
    inner.mkdir()
    (inner / "course.sh").write_text("")  # course.sh without release/ beside it: not a root
    monkeypatch.chdir(inner)
    assert progress_file() == root.resolve() / "progress" / "hints.jsonl"
    hint("a2_im2col")
    assert records(root / "progress" / "hints.jsonl")[0]["exercise"] == "a2_im2col"
    assert hints_taken() == {"a2_im2col": 1}


def test_outside_a_course_the_history_lives_in_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    expected = tmp_path / "home" / ".cnn-course" / "progress" / "hints.jsonl"
    assert progress_file() == expected
    hint("a1_dense_params")
    assert records(expected)[0]["level"] == 1


def test_course_progress_overrides_the_course_root(tmp_path, monkeypatch):
    root = tmp_path / "course"
    (root / "release").mkdir(parents=True)
    (root / "course.sh").write_text("")
    monkeypatch.chdir(root / "release")
    monkeypatch.setenv("COURSE_PROGRESS", str(tmp_path / "mine"))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert progress_file() == tmp_path / "mine" / "hints.jsonl"
    hint("a1_dense_params")
    assert (tmp_path / "mine" / "hints.jsonl").exists()
    assert not (root / "progress").exists()


def test_grading_makes_hint_silent(progress, monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert hint("a2_conv_forward_naive") is None
    hint("a2_conv_forward_naive", again=True)
    hint("no_such_exercise")  # not even an unknown id may break a graded notebook
    assert capsys.readouterr().out == ""
    assert not progress.exists()


# ------------------------------------------------------------------------------- unknown ids

@pytest.mark.parametrize("typed, meant", [("a2_conv_forwrd_naive", "a2_conv_forward_naive"),
                                          ("conv_forward_naive", "a2_conv_forward_naive"),
                                          ("a4_max_pool_forward", "a4_max_pool_forward_naive"),
                                          ("relu_affine", "a5_relu_affine")])
def test_an_unknown_id_fails_with_close_matches(progress, typed, meant):
    with pytest.raises(UnknownExercise) as failure:
        hint(typed)
    message = str(failure.value)
    assert repr(typed) in message and repr(meant) in message
    assert "exercises()" in message
    assert isinstance(failure.value, ValueError)
    assert not progress.exists()


def test_an_id_far_from_all_says_how_to_find_them(progress):
    with pytest.raises(UnknownExercise, match=r"exercises\('02'\)") as failure:
        hint("zzzz")
    assert "Did you mean" not in str(failure.value)
