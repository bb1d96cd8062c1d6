"""Late submissions: found from the time or from the LMS's file name, and the penalty.

A submission is late when nbgrader knows it was handed in after the due date (a timestamp
and a due date in the gradebook), or when the LMS marked it late in the name of the file
it downloaded: Canvas writes `<login>_LATE_<ids>_<notebook>.ipynb`, and `nbgrader
zip_collect` keeps the file names in downloaded/<assignment>/extracted/.

`AssignLatePenalties` (in c.Autograde.autograde_preprocessors) then asks `LatePenalty`
what to take off each late notebook: `c.LatePenalty.fraction` of its score (0.1 takes off
10 %, 1 gives zero).
"""
import os
import pathlib
import re

from nbgrader.api import Gradebook
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties as NbgraderAssignLatePenalties
from traitlets import Float, Unicode
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader

CANVAS_LATE = r"^[^_/]+_LATE_"


class LatePenalty(LateSubmissionPlugin):
    """Take `fraction` of a late notebook's score off."""

    fraction = Float(0.0, help="Share of a late notebook's score taken off (0.1 = 10 %, "
                     "1 = zero)").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        if not 0 <= self.fraction <= 1:
            raise ValueError(f"c.LatePenalty.fraction = {self.fraction}: use a number from 0 "
                             "(no penalty) to 1 (a late notebook gets zero).")
        if self.penalty_method == "zero":
            return score
        return self.fraction * score


class LateFileNames(Configurable):
    """Which downloaded file names mark a submission as late."""

    pattern = Unicode(CANVAS_LATE, help="A regular expression that matches the name of a "
                      "file the LMS marked late (Canvas: login_LATE_...)").tag(config=True)


def course_config(course):
    path = pathlib.Path(course) / "nbgrader_config.py"
    if not path.exists():
        return None
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def student_pattern(config):
    regexp = config.FileNameCollectorPlugin.get("named_regexp", "") if config else ""
    return re.compile(regexp) if regexp else None


def late_files(course, assignment, student):
    """Names of the downloaded files of `student` that the LMS marked late ([] if none)."""
    return [path.name for path in late_paths(course, assignment, student)]


def late_paths(course, assignment, student):
    """Paths of the downloaded files of `student` that the LMS marked late ([] if none)."""
    course = pathlib.Path(course)
    extracted = course / "downloaded" / assignment / "extracted"
    if not extracted.is_dir():
        return []
    config = course_config(course)
    names = student_pattern(config)
    late = re.compile(LateFileNames(config=config).pattern)
    found = []
    for path in sorted(extracted.rglob("*.ipynb")):
        relative = str(path.relative_to(extracted))
        match = names.match(relative) if names else None
        if match and match.groupdict().get("student_id") == student and late.search(path.name):
            found.append(path)
    return found


class AssignLatePenalties(NbgraderAssignLatePenalties):
    """nbgrader's late penalties, also for submissions the LMS marked late by file name."""

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        info = resources["nbgrader"]
        if not late_files(os.getcwd(), info["assignment"], info["student"]):
            return nb, resources
        with Gradebook(self.db_url) as gb:
            submission = gb.find_submission(info["assignment"], info["student"])
            if submission.total_seconds_late > 0:  # nbgrader has applied it already
                return nb, resources
            notebook = gb.find_submission_notebook(
                info["notebook"], info["assignment"], info["student"])
            penalty = self.plugin_inst.late_submission_penalty(
                info["student"], notebook.score, 0)
            if penalty is not None:
                notebook.late_submission_penalty = self._check_late_penalty(notebook, penalty)
            gb.db.commit()
        return nb, resources
