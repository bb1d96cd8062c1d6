"""No message of the course package hands over a line of any graded solution: every string
constant in course/ (hints, diagnoses, test messages) is compared with every non-trivial line
between the solution markers of every source notebook (the rule of tests/test_hints.py, for the
whole package that students install)."""
import ast
import pathlib
import re

import nbformat
import pytest

from tests.test_hints import MIN_LINE, solution_lines

REPO = pathlib.Path(__file__).resolve().parent.parent
MODULES = sorted((REPO / "course").rglob("*.py"))


def squeeze(text):
    return re.sub(r"\s", "", text)


def all_solution_lines():
    lines = {}
    for path in sorted(REPO.glob("source/*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                for line in solution_lines(cell.source):
                    lines.setdefault(squeeze(line), (meta["grade_id"], line))
    return lines


# formulas the notebooks teach in their text, which a solution line may also be
TAUGHT = {squeeze("H_out = (H + 2 * pad - HH) // stride + 1"),   # 01, "Stride and the general formula"
          squeeze("W_out = (W + 2 * pad - WW) // stride + 1")}
SOLUTIONS = {key: value for key, value in all_solution_lines().items() if key not in TAUGHT}


def string_constants(path):
    """(line number, text) of every string constant in a module (f-strings' literal parts
    joined), docstrings included."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(v.value for v in node.values
                                               if isinstance(v, ast.Constant))))
    return found


def test_solution_lines_are_read():
    assert len(SOLUTIONS) > 200
    assert all(len(key) >= MIN_LINE for key in SOLUTIONS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_message_holds_a_solution_line(path):
    leaks = []
    for lineno, text in string_constants(path):
        flat = squeeze(text)
        for key, (grade_id, line) in SOLUTIONS.items():
            if key in flat:
                leaks.append(f"line {lineno}: the solution of {grade_id}: {line!r}")
    assert not leaks, "\n".join(leaks)
