"""The judge outside the kernel: plain records in, a verdict out; forged records fail."""
import json
import os

import numpy as np
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import judge
from autograder.hidden import record

CELL = ("check_equal(1, 1, 'x')\n### BEGIN HIDDEN TESTS\n"
        "from autograder.hidden.convolution_basics import check_dense_params\n"
        "check_dense_params(dense_params)\n### END HIDDEN TESTS")
RIGHT = [150529000, 30730, 4160, 6, 559]  # (224,224,3)->1000, (32,32,3)->10, ... (torch)


def write(folder, check, case, value):
    arrays = {}
    return record.write_record(check, case, record.to_plain(value, arrays), arrays, folder)


def test_plain_data_is_kept_and_anything_else_only_named():
    arrays = {}
    data = record.to_plain((3, 2.5, "x", [True, None], np.arange(3.0), {"k": np.int64(4)}), arrays)
    assert record.from_plain(data, arrays)[:3] == (3, 2.5, "x")
    assert np.array_equal(record.from_plain(data, arrays)[4], np.arange(3.0))

    class Liar(int):
        def __eq__(self, other):
            return True
    for value in (Liar(1), np.zeros(2).view(type("Sub", (np.ndarray,), {})), object()):
        got = record.from_plain(record.to_plain(value, {}), {})
        assert isinstance(got, record.Unsupported)


def test_the_judge_takes_each_cells_records_and_deletes_them(tmp_path):
    folder = tmp_path / record.RECORDS_FOLDER
    for case, value in enumerate(RIGHT):
        write(folder, "check_dense_params", case, value)
    taken = judge.take_records(tmp_path)
    assert [r.case for r in taken] == list(range(5)) and not os.listdir(folder)
    assert judge.judge_cell(CELL, taken) is None


def test_a_wrong_answer_fails_with_the_students_message(tmp_path):
    folder = tmp_path / record.RECORDS_FOLDER
    for case, value in enumerate([0] + RIGHT[1:]):
        write(folder, "check_dense_params", case, value)
    message = judge.judge_cell(CELL, judge.take_records(tmp_path))
    assert "dense_params((224, 224, 3), 1000): returned the wrong value" in message
    assert "150529000" not in message  # the expected value stays hidden


@pytest.mark.parametrize("damage, says", [
    ("missing", "no answer was recorded"),
    ("twice", "recorded 2 times"),
    ("corrupt", "could not be read"),
    ("symlink", "not a plain file"),
])
def test_a_forged_or_broken_record_fails_the_case(tmp_path, damage, says):
    folder = tmp_path / record.RECORDS_FOLDER
    for case, value in enumerate(RIGHT):
        if damage == "missing" and case == 2:
            continue
        path = write(folder, "check_dense_params", case, value)
        if damage == "twice" and case == 0:
            write(folder, "check_dense_params", case, value)
        if damage == "corrupt" and case == 1:
            with open(path, "r+b") as f:
                f.write(b"not a zip file at all")
        if damage == "symlink" and case == 1:
            os.unlink(path)
            os.symlink("/etc/hostname", path)
    assert says in judge.judge_cell(CELL, judge.take_records(tmp_path))


def test_records_written_by_other_cells_are_dropped(tmp_path):
    nb = new_notebook(cells=[new_code_cell("forge()"), new_code_cell(CELL)])
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t"}
    records = {}
    for case, value in enumerate(RIGHT):  # a student's cell wrote the right answers...
        write(tmp_path / record.RECORDS_FOLDER, "check_dense_params", case, value)
    judge.take_records(tmp_path)           # ...and they were taken after that cell: dropped
    judge.judge_notebook(nb, records)      # the test cell itself recorded nothing
    assert "no answer was recorded" in nb.cells[1].outputs[-1]["evalue"]


def test_a_check_still_judged_in_the_kernel_is_left_alone():
    source = ("### BEGIN HIDDEN TESTS\nfrom autograder.hidden.pooling import check_max_pool\n"
              "check_max_pool(f)\n### END HIDDEN TESTS")
    assert judge.judge_cell(source, []) is None
