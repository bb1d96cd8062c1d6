"""Feedback that never shows hidden tests.

nbgrader's feedback HTML shows every test cell as it ran during autograding, hidden regions
included, and the traceback of a failed hidden test quotes its code. `HideHiddenTests`
removes the hidden regions from the shown source and cuts each error in a graded test cell
down to its last line: the message written by course.checks for the student.
"""
import re

from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def split_hidden_region(source):
    """Split a test cell's source into (shown source, list of hidden lines)."""
    shown, hidden_lines, hidden = [], [], False
    for line in source.splitlines():
        if BEGIN in line:
            hidden = True
        elif END in line:
            hidden = False
        elif hidden:
            hidden_lines.append(line)
        else:
            shown.append(line)
    return "\n".join(shown), hidden_lines


def _leaks(frame, hidden_lines):
    plain = _ANSI.sub("", frame)
    return "autograder" in plain or any(line.strip() and line.strip() in plain for line in hidden_lines)


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden test code, and the traceback frames that quote it, from test cells."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            return cell, resources
        cell.source, hidden_lines = split_hidden_region(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("traceback"):
                frames = output["traceback"][:-1]
                kept = [frame for frame in frames if not _leaks(frame, hidden_lines)]
                if len(kept) < len(frames):
                    kept.append("(lines of the hidden tests are not shown)")
                output["traceback"] = kept + output["traceback"][-1:]
        return cell, resources
