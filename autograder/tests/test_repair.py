"""Repairs of submitted notebooks, one at a time (the corpus test grades them all for real)."""
import nbformat

from autograder import grade_class
from autograder.nbgrader_steps import REPO
from autograder.repair import pick_notebook, read_notebook, repair_cells

NAME = "01-convolution-basics"
RELEASE = REPO / "release" / NAME / f"{NAME}.ipynb"


def test_unreadable_files_say_why(tmp_path):
    empty, cut = tmp_path / "empty.ipynb", tmp_path / "cut.ipynb"
    empty.write_bytes(b"")
    cut.write_text(RELEASE.read_text()[:500])
    assert read_notebook(empty)[0] is None and "is empty" in read_notebook(empty)[1][0]
    nb, notes = read_notebook(cut)
    assert nb is None and "JSON breaks at line" in notes[0]


def test_a_renamed_notebook_is_found_and_named(tmp_path):
    (tmp_path / "mine.ipynb").write_text(RELEASE.read_text())
    path, notes = pick_notebook(tmp_path, f"{NAME}.ipynb")
    assert path.name == "mine.ipynb" and "was named mine.ipynb" in notes[0]


def test_a_deleted_test_cell_is_put_back_after_its_exercise():
    template = nbformat.read(RELEASE, as_version=4)
    nb = nbformat.read(RELEASE, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    del nb.cells[ids.index("a1_pad_image_tests")]
    notes = repair_cells(nb, template)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert ids.index("a1_pad_image_tests") == ids.index("a1_pad_image") + 1
    assert notes == ["The test cell a1_pad_image_tests was missing from your notebook; the "
                     "original was put back and graded."]


def test_a_submission_that_breaks_the_repair_is_graded_blank_with_a_note(tmp_path,
                                                                        monkeypatch):
    (tmp_path / "release" / NAME).mkdir(parents=True)
    (tmp_path / "release" / NAME / RELEASE.name).write_text(RELEASE.read_text())
    (tmp_path / "submitted" / "eve" / NAME).mkdir(parents=True)

    def broken(*args, **kwargs):
        raise RecursionError("too deep")
    monkeypatch.setattr(grade_class, "prepare", broken)
    result = grade_class._prepare_or_blank(tmp_path, NAME, "eve", trusted=False)
    assert "RecursionError: too deep" in result.notes[0]
    written = nbformat.read(tmp_path / "submitted" / "eve" / NAME / RELEASE.name, as_version=4)
    assert "RecursionError" in written.cells[0].source
