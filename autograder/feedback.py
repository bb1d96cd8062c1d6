"""Feedback that never shows hidden tests.

nbgrader's feedback HTML shows every test cell as it ran during autograding, hidden regions
included, and the traceback of a failed test quotes the code around the failing line.
`HideHiddenTests` removes the hidden regions from the shown source, drops traceback frames
inside the hidden test modules, and cuts every quoted line of hidden code out of the others.
The message written by course.checks for the student stays.
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


def _redact(frame, hidden_lines):
    """The frame with every line that quotes hidden test code cut out; None for a frame that
    belongs to the hidden test modules themselves."""
    plain = _ANSI.sub("", frame).strip()
    if "autograder" in plain.split("\n", 1)[0]:      # "File .../autograder/hidden/...py:12"
        return None
    secret = [line.strip() for line in hidden_lines if line.strip()] + [BEGIN, END]
    kept = [line for line in frame.split("\n")
            if not any(text in _ANSI.sub("", line) for text in secret)]
    return "\n".join(kept)


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
                kept = [_redact(frame, hidden_lines) for frame in frames]
                kept = [frame for frame in kept if frame is not None]
                if kept != frames:
                    kept.append("(lines of the hidden tests are not shown)")
                output["traceback"] = kept + output["traceback"][-1:]
        return cell, resources
