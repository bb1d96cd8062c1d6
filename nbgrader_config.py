"""nbgrader configuration of the course (instructors: see README, "Instructors")."""
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# `nbgrader zip_collect` reads a zip of submissions downloaded from an LMS. Canvas names each
# file <login>_[LATE_]<canvas id>_<submission id>_<notebook name>[-<resubmission>].ipynb;
# change this pattern for another LMS (it must name student_id and file_id).
c.FileNameCollectorPlugin.named_regexp = (
    r"^(?:.*/)?(?P<student_id>[^_/]+)_(?:LATE_)?\d+_\d+_(?P<file_id>[^/]+?)(?:-\d+)?\.ipynb$")

# Only notebooks are assignment files; anything else in source/ stays instructor-only.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Seconds one cell may run while grading. Slow cells ask course.mode.small(...) for a quick
# size when NBGRADER_EXECUTION is set, so real cells finish in seconds; this limit only stops
# runaway code (an endless loop) from holding up a whole class.
c.Execute.timeout = 120
# The given cells above the first exercise (the imports, the data) may take this long, when it
# is more than the limit above (a busy machine can take 10 s to import torch).
c.ResilientExecute.setup_timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.error_on_timeout = {
    "ename": "CellTimeoutError", "evalue": "",
    "traceback": ["\x1b[0;31mCellTimeoutError\x1b[0m: this cell ran longer than the grading "
                  "limit and was stopped. Look for a loop that never ends."]}

# How a submission runs while it is graded (autograder/execute.py, autograder/sandbox.py):
# in bubblewrap (COURSE_SANDBOX=required|auto|off; auto = when installed), under memory, CPU
# and file-size limits; a cell that kills or hangs the kernel costs only itself, and the
# whole notebook has a time budget.
c.Autograde.autograde_preprocessors = [
    "autograder.execute.ResilientExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "autograder.late.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Late submissions (autograder/late.py): late by their time (a due date in the gradebook),
# or marked late by the LMS in the file name (Canvas: login_LATE_...). This share of a late
# notebook's score is taken off: 0 for no penalty, 1 for zero.
c.LatePenalty.fraction = 0.1
c.AssignLatePenalties.plugin_class = "autograder.late.LatePenalty"
c.LateFileNames.pattern = r"^[^_/]+_LATE_"

# `nbgrader export` also says who submitted nothing, who was late, and how many answers
# still wait for a grade by hand (autograder/export.py).
c.ExportApp.plugin_class = "autograder.export.CourseCsvExport"

c.ResilientExecute.notebook_timeout = 900      # seconds for the whole notebook
c.SandboxedKernelManager.memory_limit_mb = 6144
c.SandboxedKernelManager.cpu_limit_seconds = 1800
c.SandboxedKernelManager.file_size_limit_mb = 256
# Deleted test cells are put back before grading by autograder/repair.py (grade_class), not
# by nbgrader's OverwriteCells.add_missing_cells, which fails when the cell before a deleted
# one is a read-only markdown cell.

# What a student gets when an exercise is not done yet.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows no hidden test code and no traceback lines from hidden tests: only the
# message the check wrote for the student.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.feedback.HideHiddenTests",
]
c.GenerateFeedback.exporter_class = "autograder.feedback.FeedbackExporter"
