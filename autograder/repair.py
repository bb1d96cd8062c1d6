"""Turn whatever a student handed in into a notebook nbgrader can grade, and say what was done.

File level (`pick_notebook`): the expected file name, a renamed copy, one of several copies,
or nothing usable (empty, not JSON, not a notebook). Cell level (`repair_cells`), against the
release notebook: unknown or duplicated grade ids, changed cell types, deleted graded cells
(put back), and edited read-only cells (nbgrader restores them; noted here). Every change is
one plain sentence in `notes`, shown to the student at the top of the graded notebook.
"""
import difflib
import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

NOTES_MARKER = "grading-notes"


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def read_notebook(path):
    """(notebook or None, notes): a lenient read of one submitted file."""
    raw = path.read_bytes()
    if not raw.strip():
        return None, [f"{path.name} is empty (0 bytes of notebook), so there was nothing to "
                      "grade. Save the notebook in Jupyter (Ctrl+S) before you submit it."]
    notes = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        text = raw.decode("latin-1")
        notes.append(f"{path.name} is not UTF-8 text (byte {err.start}); it was read as "
                     "Latin-1. Save notebooks from Jupyter, not from another editor.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return None, notes + [
            f"{path.name} is not a readable notebook: its JSON breaks at line {err.lineno}, "
            f"column {err.colno} ({err.msg}). It was probably edited as text or cut short; "
            "open it in Jupyter, fix or redo it, and submit again."]
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, notes + [f"{path.name} is JSON but not a Jupyter notebook (no list of "
                              "cells), so there was nothing to grade."]
    cells, ids = [], set()
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            continue
        make = {"code": new_code_cell, "markdown": new_markdown_cell}.get(
            cell.get("cell_type"), new_raw_cell)
        fresh = make(_source(cell))
        fresh.metadata = nbformat.from_dict(cell.get("metadata") or {})
        if isinstance(cell.get("id"), str) and cell["id"] not in ids:
            fresh.id = cell["id"]
        ids.add(fresh.id)
        cells.append(fresh)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict(data.get("metadata") or {})
    return nb, notes


def pick_notebook(folder, expected_name):
    """(path or None, notes): which file in `folder` to grade as `expected_name`."""
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    exact = folder / expected_name
    if exact in found:
        others = [p.name for p in found if p != exact]
        notes = [f"Graded {expected_name}; the other notebooks in your submission ("
                 f"{', '.join(others)}) were not graded."] if others else []
        return exact, notes
    if not found:
        return None, [f"No notebook was found in your submission (expected {expected_name})."]
    best = max(found, key=lambda p: difflib.SequenceMatcher(None, p.name, expected_name).ratio())
    notes = [f"Your notebook was named {best.name} instead of {expected_name}; it was graded "
             "as if it had the right name. Keep the name the assignment gives."]
    if len(found) > 1:
        notes.append(f"Other notebooks ({', '.join(p.name for p in found if p != best)}) "
                     "were not graded.")
    return best, notes


def repair_cells(nb, template):
    """Align `nb`'s graded cells with the release notebook `template`; return notes."""
    notes = []
    wanted = {_grade_id(c): c for c in template.cells if _grade_id(c)}
    by_cell_id = {c.get("id"): _grade_id(c) for c in template.cells if _grade_id(c)}
    seen = set()
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id is None and cell.get("id") in by_cell_id and by_cell_id[cell.id] not in seen:
            original = wanted[by_cell_id[cell.id]]
            if cell.cell_type == original.cell_type and "nbgrader" in original.metadata:
                cell.metadata["nbgrader"] = nbformat.from_dict(original.metadata["nbgrader"])
                grade_id = by_cell_id[cell.id]
                notes.append(f"The grading information of cell {grade_id} was deleted; it "
                             "was recognised by its cell id and graded as usual.")
        if grade_id is None:
            continue
        if grade_id not in wanted:
            cell.metadata.pop("nbgrader", None)
            notes.append(f"A cell had the grading id {grade_id!r}, which this assignment does "
                         "not have (was it changed by hand?); it ran as an ordinary cell.")
            continue
        if grade_id in seen:
            cell.metadata.pop("nbgrader", None)
            notes.append(f"Cell {grade_id} appears more than once (a copied cell?); the first "
                         "copy was graded and the others ran as ordinary cells.")
            continue
        seen.add(grade_id)
        original = wanted[grade_id]
        if cell.cell_type != original.cell_type:
            notes.append(f"Cell {grade_id} was changed from {original.cell_type} to "
                         f"{cell.cell_type}; it was changed back for grading.")
            fresh = (new_code_cell if original.cell_type == "code" else new_markdown_cell)(
                cell.source)
            fresh.metadata, fresh.id = cell.metadata, cell.get("id", fresh.id)
            nb.cells[nb.cells.index(cell)] = fresh
            cell = fresh
        locked = original.metadata["nbgrader"].get("locked")
        if locked and not original.metadata["nbgrader"].get("grade") and \
                cell.source.strip() != original.source.strip():
            notes.append(f"The read-only cell {grade_id} was edited; the original was used "
                         "for grading.")
        elif locked and cell.source.strip() != original.source.strip():
            notes.append(f"The test cell {grade_id} was edited; the original tests were run.")
    _put_back_missing(nb, template, seen, wanted, notes)
    return notes


def _put_back_missing(nb, template, seen, wanted, notes):
    """Insert each template cell with a grade id that `nb` lacks, after its predecessor."""
    position = {_grade_id(c): i for i, c in enumerate(nb.cells) if _grade_id(c)}
    previous = None
    for cell in template.cells:
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        if grade_id not in seen:
            where = position[previous] + 1 if previous in position else 0
            copy = nbformat.from_dict(json.loads(json.dumps(cell)))
            if copy.get("id") in {c.get("id") for c in nb.cells}:
                copy.id = new_raw_cell().id  # the student's cell kept the original id
            nb.cells.insert(where, copy)
            for key, index in position.items():
                if index >= where:
                    position[key] = index + 1
            position[grade_id] = where
            kind = "test cell" if cell.metadata["nbgrader"].get("grade") and \
                cell.metadata["nbgrader"].get("locked") else "cell"
            notes.append(f"The {kind} {grade_id} was missing from your notebook; the "
                         "original was put back and graded.")
        previous = grade_id


def add_notes_cell(nb, notes):
    """Put the notes at the top of the notebook as a markdown cell (kept in the feedback)."""
    if not notes:
        return
    lines = ["**Grading notes**: what the grader had to do with this notebook", ""]
    lines += [f"- {note}" for note in notes]
    cell = new_markdown_cell("\n".join(lines))
    cell.metadata["tags"] = [NOTES_MARKER]
    nb.cells.insert(0, cell)
