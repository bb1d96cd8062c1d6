"""The verdict of hidden checks, reached in the grading process, outside the student's kernel.

While a notebook is graded (autograder.execute.ResilientExecute), the records a cell's
hidden checks wrote (autograder.hidden.record) are taken out of the kernel's folder right
after that cell has run, before any later cell of the student's can touch them. Records
written by any other cell are dropped. After the notebook has run, each test cell's hidden
checks that have a judge (a `CHECKS` entry in their autograder.hidden module) are judged
against the reference outputs, which the kernel cannot read. A failure becomes an error
output of the test cell, with the same message the student would have seen before, so
nbgrader scores the cell 0 and the feedback shows why. A case with no record, or with two,
fails and says so.
"""
import importlib
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field

import numpy as np
from nbformat.v4 import new_output

from course.checks import CheckFailed

from autograder.hidden import cases, load_references
from autograder.hidden.record import RECORDS_FOLDER, from_plain
from autograder.hidden.spec import argument_index, describe, load_inputs, parts, verdict

MAX_RECORD_BYTES = 64 * 1024 * 1024
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)
IMPORT = re.compile(r"from\s+(autograder\.hidden\.\w+)\s+import\s+(\([^)]*\)|[^\n#;]*)")
NAME = re.compile(r"^(?P<check>check_\w+)-(?P<case>\d+)-[0-9a-f]{8}\.npz$")


@dataclass
class Record:
    check: str
    case: int
    data: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    problem: str = ""            # why the record cannot be used ("" when it can)


def _read(path):
    """One record file, read without following links or running code."""
    match = NAME.match(os.path.basename(path))
    if match is None:
        return None
    record = Record(match["check"], int(match["case"]))
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RECORD_BYTES:
        record.problem = "its record is not a plain file of a sensible size"
        return record
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f, zipfile.ZipFile(f) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_RECORD_BYTES:
                raise ValueError("too large")
            f.seek(0)
            with np.load(f, allow_pickle=False) as data:
                record.data = json.loads(str(data["meta"]))
                record.arrays = {k: data[k] for k in data.files if k != "meta"}
    except Exception as err:  # a forged or broken record is a failed case, not a crash
        record.problem = f"its record could not be read ({type(err).__name__})"
    return record


def take_records(workdir):
    """Read and delete every record in workdir's records folder; [Record]."""
    folder = os.path.join(workdir, RECORDS_FOLDER)
    records = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return records
    for name in names:
        path = os.path.join(folder, name)
        record = _read(path)
        if record is not None:
            records.append(record)
        try:
            os.unlink(path) if not os.path.isdir(path) or os.path.islink(path) else None
        except OSError:
            pass
    return records


def hidden_checks(source):
    """[(module, check name, [argument names])] that the hidden region of a test cell calls."""
    found = []
    for region in HIDDEN_REGION.findall(source):
        for module, names in IMPORT.findall(region):
            for name, local in _imported(names):
                if not name.startswith("check_"):
                    continue
                for args in re.findall(rf"\b{local}\s*\(([^)]*)\)", region):
                    found.append((module, name, [a.strip() for a in args.split(",") if a.strip()]))
    return found


def _imported(names):
    """[(name, local name)] of an import list: 'a, b as c', or one in parentheses."""
    pairs = []
    for item in names.strip().strip("()").split(","):
        words = item.split()
        if len(words) == 1:
            pairs.append((words[0], words[0]))
        elif len(words) == 3 and words[1] == "as":
            pairs.append((words[0], words[2]))
    return pairs


def judged_here(module_name, check_name):
    """(CHECKS entry of `check_name` or None when it is judged in the kernel, assignment)."""
    module = importlib.import_module(module_name)
    return getattr(module, "CHECKS", {}).get(check_name), getattr(module, "ASSIGNMENT", None)


def _cases(assignment, prefix, loaded):
    """(inputs, references) of one check's cases; each file is read once per notebook."""
    if prefix is None:
        return [{}], [{}]
    if assignment not in loaded:
        loaded[assignment] = (load_inputs(assignment), load_references(assignment))
    inputs, refs = loaded[assignment]
    return cases(inputs, prefix), cases(refs, prefix)


def judge_cell(source, records, loaded=None):
    """The message of the first failed hidden case of a test cell, or None when all pass."""
    loaded = {} if loaded is None else loaded
    for module_name, check_name, arg_names in hidden_checks(source):
        entry, assignment = judged_here(module_name, check_name)
        if entry is None:
            continue
        for k, (record_name, check) in enumerate(parts(check_name, entry)):
            index = argument_index(k, check)
            fn_name = (arg_names[index] if index < len(arg_names) and arg_names[index].isidentifier()
                       else None)
            message = _judge_check(check, record_name, fn_name, assignment, records, loaded)
            if message is not None:
                return message
    return None


def _judge_check(check, record_name, fn_name, assignment, records, loaded):
    inputs, refs = _cases(assignment, check.prefix, loaded)
    mine = [r for r in records if r.check == record_name]
    for number, (case, ref) in enumerate(zip(inputs, refs)):
        what = describe(check, case, fn_name)
        found = [r for r in mine if r.case == number]
        if not found:
            return (f"{what}: no answer was recorded for this case, so it cannot be "
                    "graded. Did your code change the tests or stop them?")
        if len(found) > 1:
            return (f"{what}: this case's answer was recorded {len(found)} times; only "
                    "the test may record it, once.")
        if found[0].problem:
            return f"{what}: {found[0].problem}."
        try:
            verdict(check, case, ref, from_plain(found[0].data, found[0].arrays), fn_name)
        except CheckFailed as failed:
            return str(failed)
        except Exception as err:  # a record the judge cannot make sense of
            return f"{what}: the recorded answer could not be judged ({type(err).__name__})."
    return None


def failure_output(message):
    return new_output("error", ename="CheckFailed", evalue=message,
                      traceback=[f"\x1b[0;31mCheckFailed\x1b[0m: {message}"])


def is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def judge_notebook(nb, records_by_cell):
    """Add the judge's verdict to every test cell of `nb` that has judged hidden checks."""
    loaded = {}
    for index, cell in enumerate(nb.cells):
        if not is_test_cell(cell) or not hidden_checks(cell.source):
            continue
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            continue  # it failed in the kernel already: 0 points, and the student sees why
        message = judge_cell(cell.source, records_by_cell.get(index, []), loaded)
        if message is not None:
            cell.outputs.append(failure_output(message))
