"""nbgrader configuration of the course (instructors: see README, "Instructors")."""
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Only notebooks are assignment files; anything else in source/ stays instructor-only.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Seconds one cell may run while grading. Slow cells ask course.mode.small(...) for a quick
# size when NBGRADER_EXECUTION is set, so real cells finish in seconds; this limit only stops
# runaway code (an endless loop) from holding up a whole class.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

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
