"""Feedback that never shows hidden tests.

nbgrader's feedback HTML shows every test cell as it ran during autograding, hidden regions
included, and the traceback of a failed test quotes the code around the failing line.
`HideHiddenTests` removes the hidden regions from the shown source, drops traceback frames
inside the hidden test modules, and cuts every quoted line of hidden code out of the others.
The message written by course.checks for the student stays.

`FeedbackExporter` is nbconvert's HTML exporter without its last step, which parses the whole
finished page (half a megabyte of it CSS) with BeautifulSoup to add alt text to images and
make cells focusable: the same two changes are made on the tags themselves (0.8 s a student).
"""
import re

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


NO_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)(?=[\s/>])", re.I)
_FOCUSABLE = re.compile(r'<div(\s[^>]*?class="(?:[^"]*\s)?(?:jp-Cell-inputWrapper|jp-OutputArea-output)'
                        r'(?=[\s"])[^"]*"[^>]*?)(/?)>')
_TABINDEX = re.compile(r'\stabindex=("[^"]*"|\'[^\']*\'|[^\s>]*)')


def make_focusable_and_described(html):
    """`html` with alt text on every <img> that has none, and tabindex="0" on every cell
    input and output (what nbconvert's HTMLExporter does with BeautifulSoup)."""
    html = _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', html)
    return _FOCUSABLE.sub(
        lambda m: f'<div{_TABINDEX.sub("", m.group(1))} tabindex="0"{m.group(2)}>', html)


class FeedbackExporter(HTMLExporter):
    """HTMLExporter with the page's last pass done on its tags, not on a parsed tree."""

    def from_notebook_node(self, nb, resources=None, **kw):
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return make_focusable_and_described(html), resources
