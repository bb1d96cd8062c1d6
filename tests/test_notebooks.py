"""Notebooks: stored without outputs, release/ generated from source/, solutions run clean."""
import json
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.release import build_release

REPO = pathlib.Path(__file__).resolve().parent.parent
SOURCE = sorted(REPO.glob("source/*/*.ipynb"))
PLAYGROUNDS = {"08-playground"}  # for self-learners: one graded prediction, no free response
RELEASE = sorted(REPO.glob("release/*/*.ipynb"))


def relative(paths, top):
    return sorted(str(p.relative_to(REPO / top)) for p in paths)


def test_there_are_notebooks():
    assert SOURCE, "source/ holds no notebooks"


@pytest.mark.parametrize("path", SOURCE + RELEASE, ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{path.relative_to(REPO)} has outputs in cells {dirty}; clear them "
                       "(JupyterLab: Edit > Clear Outputs of All Cells) and save")


def test_release_mirrors_source():
    assert relative(RELEASE, "release") == relative(SOURCE, "source"), \
        "release/ and source/ hold different notebooks: run ./course.sh release"


def test_release_is_what_nbgrader_generates_from_source(tmp_path):
    built = build_release(tmp_path)
    for path in SOURCE:
        name = path.relative_to(REPO / "source")
        fresh = json.loads((built / name).read_text())
        committed_path = REPO / "release" / name
        assert committed_path.exists(), f"release/{name} is missing: run ./course.sh release"
        committed = json.loads(committed_path.read_text())
        assert committed == fresh, (f"release/{name} is stale (source/ changed since it was "
                                    "generated): run ./course.sh release and commit the result")


def nbgrader_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [(c, c.metadata["nbgrader"]) for c in nb.cells if "nbgrader" in c.metadata]


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.parent.name)
def test_graded_cells_follow_the_scheme(path):
    prefix = "a" + str(int(path.parent.name.split("-")[0]))
    cells = nbgrader_cells(path)
    ids = [meta["grade_id"] for _, meta in cells]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    assert all(i.startswith(prefix + "_") for i in ids), f"grade_ids must start with {prefix}_"
    autograded = [(c, m) for c, m in cells if m.get("grade") and not m.get("solution")]
    if path.parent.name in PLAYGROUNDS:
        assert len(autograded) == 1
    else:
        assert len(autograded) >= 4, "an assignment has at least 4 autograded test cells"
    for cell, meta in autograded:
        assert meta["locked"] and meta["grade_id"].endswith("_tests") and meta["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']} has no hidden tests"
    for cell, meta in cells:
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    assert path.parent.name in PLAYGROUNDS or any(c.cell_type == "markdown" and m.get("grade") for c, m in cells), \
        "every assignment has a free-response question graded by hand"


def autograded_count(name):
    return sum(1 for path in SOURCE if path.parent.name in name
               for _, meta in nbgrader_cells(path) if meta.get("grade") and not meta.get("solution"))


def test_enough_graded_cells():
    assert autograded_count(["01-convolution-basics"]) >= 6
    core = ["02-convolution-forward", "03-convolution-backward", "04-pooling"]
    assert autograded_count(core) >= 12, "the convolution core (02-04) has at least 12 graded cells"


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.parent.name)
def test_source_notebook_runs_top_to_bottom_with_every_test_passing(path, monkeypatch):
    # heavy cells in quick mode (course.mode): a busy machine must not fail the suite; the
    # full sizes are timed in benchmarks/
    monkeypatch.setenv("COURSE_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    graded = sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                 and c.cell_type == "code")
    assert printed.count("all public tests passed") == graded
