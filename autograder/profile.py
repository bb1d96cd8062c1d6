"""Where the seconds of grading go: phase timings, written only when asked for.

Set COURSE_GRADING_PROFILE to a file and every grading step appends one JSON line to it:

- {"step": "execute", "notebook": ..., "kernel start": s, "kernel ready": s, "setup cells": s,
  "exercise cells": s, "test cells": s, "other cells": s, "judge": s, "total": s}, from
  autograder.execute, once per notebook graded (the setup cells are the given cells above
  the first exercise: imports, data);
- {"step": "autograde", "student": ..., "seconds": s}: one whole `nbgrader autograde` command
  of one student (the execute step above plus nbgrader's own work: reading and writing the
  notebook, the gradebook, the process);
- {"step": "prepare", "students": n, "seconds": s} and {"step": "feedback", "students": n,
  "seconds": s}: the class-wide steps of autograder.grade_class.

`summarize(records)` adds them up per submission (benchmarks/grade_class.py --profile prints it).
Without the variable nothing is timed or written.
"""
import json
import os
import pathlib
import threading
import time
from contextlib import contextmanager

ENV = "COURSE_GRADING_PROFILE"
_lock = threading.Lock()

# the columns of summarize(), in the order a submission goes through them
EXECUTE_PHASES = ("kernel start", "kernel ready", "setup cells", "exercise cells", "test cells",
                  "other cells", "judge")


def enabled():
    return bool(os.environ.get(ENV))


def write(record):
    """Append one record (a dict) to the profile file, if profiling is on."""
    path = os.environ.get(ENV)
    if not path:
        return
    with _lock, open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


class Timer:
    """Seconds added up per phase: `with timer.phase("judge"): ...`."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def phase(self, name):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - began)

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


def read(path):
    path = pathlib.Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarize(records):
    """Mean seconds per submission of each phase: a dict phase -> seconds, plus
    "submissions". "kernel stop, rest" is an execute step minus its phases (the kernel's
    shutdown, mostly); "nbgrader's own work" an autograde command minus its execute steps."""
    autogrades = [r for r in records if r["step"] == "autograde"]
    students = {r["student"] for r in autogrades}
    # only the notebooks of the students' autograde commands (not the check that grading
    # works, which grades the solution in a folder of its own)
    executes = [r for r in records if r["step"] == "execute"
                and pathlib.PurePath(r["notebook"]).parent.name in students]
    n = len(autogrades)
    if n == 0:
        return {"submissions": 0}
    summary = {"submissions": n}
    for phase in EXECUTE_PHASES:
        summary[phase] = sum(r.get(phase, 0.0) for r in executes) / n
    autograde = sum(r["seconds"] for r in autogrades) / n
    executed = sum(r["total"] for r in executes) / n
    summary["kernel stop, rest"] = executed - sum(summary[phase] for phase in EXECUTE_PHASES)
    summary["nbgrader's own work"] = autograde - executed
    summary["autograde command"] = autograde
    for step in ("prepare", "feedback"):
        summary[step] = sum(r["seconds"] for r in records if r["step"] == step) / n
    summary["total"] = autograde + summary["prepare"] + summary["feedback"]
    return summary
