"""`nbgrader export` with what a bare 0 hides (c.ExportApp.plugin_class).

nbgrader's CSV columns, in nbgrader's order, and three more:
- submitted: "yes", or "no" when the student handed nothing in (the score 0 is not a grade)
- late: "yes" when the submission was late (by its time, or as the LMS marked it)
- needs_manual_grade: how many answers still wait for a grade by hand (free responses);
  until it is 0 the score is not final
"""
import csv
import os

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

from autograder.late import late_files

COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
           "email", "raw_score", "late_submission_penalty", "score", "max_score",
           "submitted", "late", "needs_manual_grade"]


def manual_grades_left(submission):
    """How many graded cells of `submission` still need a grade by hand."""
    return sum(bool(grade.needs_manual_grade) for notebook in submission.notebooks
               for grade in notebook.grades)


def final_score(submission):
    """(score after the late penalty, the penalty) of a submission in the gradebook."""
    penalty = submission.late_submission_penalty or 0.0
    return max(0.0, float(submission.score) - penalty), penalty


def _text(value):
    return "" if value is None else str(value)


class CourseCsvExport(ExportPlugin):
    """CSV export: one row per student and assignment (see the module docstring)."""

    def export(self, gradebook):
        dest = self.to or "grades.csv"
        root = getattr(getattr(self.parent, "coursedir", None), "root", None) or os.getcwd()
        students = {str(s) for s in self.student}
        assignments = {str(a) for a in self.assignment}
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for student in gradebook.students:
                    if students and student.id not in students:
                        continue
                    writer.writerow(self._row(gradebook, assignment, student, root))

    def _row(self, gradebook, assignment, student, root):
        row = dict(assignment=assignment.name, duedate=_text(assignment.duedate),
                   student_id=student.id, last_name=_text(student.last_name),
                   first_name=_text(student.first_name), email=_text(student.email),
                   max_score=assignment.max_score)
        try:
            submission = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:
            return dict(row, timestamp="", raw_score=0.0, late_submission_penalty=0.0,
                        score=0.0, submitted="no", late="", needs_manual_grade="")
        score, penalty = final_score(submission)
        late = (penalty > 0 or submission.total_seconds_late > 0
                or bool(late_files(root, assignment.name, student.id)))
        return dict(row, timestamp=_text(submission.timestamp), raw_score=submission.score,
                    late_submission_penalty=penalty,
                    score=score, submitted="yes",
                    late="yes" if late else "no",
                    needs_manual_grade=manual_grades_left(submission))
