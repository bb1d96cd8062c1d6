"""The reference solutions, taken from the source notebooks (for benchmarks and demos).

Solutions are written once, inside the `### BEGIN SOLUTION` regions of source/; this module
runs a notebook's first code cell (its imports) and its solution cells, and returns the
functions they define. Instructor-only: nothing in course/ imports it.
"""
import pathlib

import nbformat

from autograder.nbgrader_steps import REPO
from autograder.submissions import solution_text


def load_solutions(assignment, root=REPO):
    """Run the imports and solution cells of source/<assignment>/<assignment>.ipynb.

    Returns the namespace (a dict) holding the solution functions.
    """
    path = pathlib.Path(root) / "source" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    namespace = {"__name__": f"solutions_{assignment.replace('-', '_')}"}
    exec(compile(code[0].source, f"{path.name}:imports", "exec"), namespace)
    for cell in code:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            exec(compile(solution_text(cell), f"{path.name}:{meta['grade_id']}", "exec"), namespace)
    return namespace
