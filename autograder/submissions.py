"""Make student submissions from the release and source notebooks (for tests and demos).

`fill_in(release_nb, source_nb)` answers every exercise of a release notebook with the
source's solution; `replace` swaps in other code for chosen cells (a typical bug).
"""
import nbformat

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_text(source_cell):
    """A solution cell's source without its BEGIN/END SOLUTION marker lines."""
    return "\n".join(line for line in source_cell.source.splitlines()
                     if line.strip() not in SOLUTION_MARKERS)


def fill_in(release_path, source_path, out_path, replace=None):
    """Write `out_path`: the release notebook with solutions (or `replace[grade_id]`) filled in.

    Inputs:
    - release_path, source_path: the student and instructor versions of one notebook
    - replace: {grade_id: new source} for cells to answer differently
    """
    replace = dict(replace or {})
    release = nbformat.read(release_path, as_version=4)
    source = nbformat.read(source_path, as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replace:
            cell.source = replace.pop(grade_id)
        elif grade_id in solutions:
            cell.source = solution_text(solutions[grade_id])
    if replace:
        raise KeyError(f"no cells with grade_id {sorted(replace)} in {release_path}")
    nbformat.write(release, out_path)
    return out_path
