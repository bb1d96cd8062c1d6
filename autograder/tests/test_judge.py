"""The judge outside the kernel: plain records in, a verdict out; forged records fail."""
import os
import sys
import types

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import judge
from autograder.hidden import record
from autograder.tests.judging import LyingArray, LyingTuple, graded_outside

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


def test_a_check_still_judged_in_the_kernel_is_left_alone(monkeypatch):
    module = types.ModuleType("autograder.hidden.judged_in_kernel")  # no CHECKS table
    module.check_layer = lambda Layer: None
    monkeypatch.setitem(sys.modules, module.__name__, module)
    source = ("### BEGIN HIDDEN TESTS\nfrom autograder.hidden.judged_in_kernel import check_layer\n"
              "check_layer(Layer)\n### END HIDDEN TESTS")
    assert judge.hidden_checks(source) == [(module.__name__, "check_layer", ["Layer"])]
    assert judge.judge_cell(source, []) is None


def test_an_imported_check_is_found_under_its_local_name_and_once():
    source = ("### BEGIN HIDDEN TESTS\n"
              "from autograder.hidden.numpy_cnn import check_network_gradient as hidden_gradient\n"
              "from autograder.hidden.numpy_cnn import (check_relu_affine,\n    check_train)\n"
              "hidden_gradient(SimpleConvNet)\ncheck_relu_affine(ReLU, Affine)\ncheck_train(train)\n"
              "### END HIDDEN TESTS")
    assert judge.hidden_checks(source) == [
        ("autograder.hidden.numpy_cnn", "check_network_gradient", ["SimpleConvNet"]),
        ("autograder.hidden.numpy_cnn", "check_relu_affine", ["ReLU", "Affine"]),
        ("autograder.hidden.numpy_cnn", "check_train", ["train"])]
    # an aliased check that recorded nothing fails: it is judged, not skipped
    assert "no answer was recorded" in judge.judge_cell(source, [])


def _lying(shape_of):
    """A function that returns a lying array of the right shape, found from its inputs."""
    def cheat(*args):
        return np.zeros(shape_of(*args)).view(LyingArray)
    return cheat


def _graded_in_and_out(tmp_path, monkeypatch, module, check, fn_names, fns):
    return graded_outside(tmp_path, monkeypatch, module, check, fn_names, fns)


def _conv_out_shape(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    return (x.shape[0], w.shape[0], (x.shape[2] + 2 * p - w.shape[2]) // s + 1,
            (x.shape[3] + 2 * p - w.shape[3]) // s + 1)


def _pool_out_shape(x, pool_param):
    s = pool_param["stride"]
    return (*x.shape[:2], (x.shape[2] - pool_param["pool_height"]) // s + 1,
            (x.shape[3] - pool_param["pool_width"]) // s + 1)


@pytest.mark.parametrize("module, check, names, fns, says", [
    ("convolution_forward", "check_conv_forward", ["conv_forward_naive"],
     [lambda x, w, b, p: (_lying(_conv_out_shape)(x, w, b, p), None)],
     "conv_forward_naive(x (1, 2, 3, 5), w (3, 2, 1, 1), stride 1, pad 0): returned a tuple "
     "whose item 0 is a autograder.tests.judging.LyingArray, which is not plain data"),
    ("convolution_forward", "check_conv_forward", ["conv_forward_fast"],
     [lambda x, w, b, p: LyingTuple((np.zeros(_conv_out_shape(x, w, b, p)), None))],
     "returned a autograder.tests.judging.LyingTuple, which is not plain data"),
    ("convolution_forward", "check_conv_forward", ["conv_forward_fast"],
     [lambda x, w, b, p: np.zeros(_conv_out_shape(x, w, b, p))],
     "returned ndarray; it should return a pair (out, cache)"),
    ("convolution_forward", "check_layout", ["last", "first", "rgb"],
     [lambda x: x.transpose(0, 2, 3, 1), lambda x: x.transpose(0, 3, 1, 2),
      _lying(lambda image: image.shape)], "hidden test: rgb(image of shape"),
    ("convolution_backward", "check_conv_backward", ["conv_backward_naive"],
     [lambda dout, cache: tuple(np.zeros_like(a).view(LyingArray) for a in cache[:3])],
     "not plain data"),
    ("pooling", "check_max_pool_forward", ["max_pool_forward_naive"],
     [lambda x, p: (_lying(_pool_out_shape)(x, p), None)], "not plain data"),
    ("pooling", "check_avg_pool", ["avg_pool_forward", "avg_pool_backward"],
     [lambda x, p: (np.zeros(_pool_out_shape(x, p)), None), lambda dout, cache: cache[0]],
     "hidden test: avg_pool_forward(x"),
    ("pooling", "check_conv1d", ["conv1d_forward"],
     [lambda x, w, b, s, p: LyingTuple()], "hidden test: conv1d_forward(x"),
])
def test_lying_answers_of_02_to_04_are_judged_wrong_outside(tmp_path, monkeypatch, module,
                                                            check, names, fns, says):
    message = _graded_in_and_out(tmp_path, monkeypatch, module, check, names, fns)
    assert message is not None and says in message, message


def test_a_right_answer_recorded_in_the_kernel_passes_outside(tmp_path, monkeypatch):
    fns = [lambda x: x.transpose(0, 2, 3, 1), lambda x: x.transpose(0, 3, 1, 2),
           lambda image: image[:, :, ::-1]]
    assert _graded_in_and_out(tmp_path, monkeypatch, "convolution_forward", "check_layout",
                              ["a", "b", "c"], fns) is None
    assert not (tmp_path / record.RECORDS_FOLDER).exists() or not os.listdir(
        tmp_path / record.RECORDS_FOLDER)


@pytest.mark.parametrize("case_a, case_b, says", [
    (((1, 1, 4, 5), (1, 1, 3, 3), 1, 0), ((1, 1, 4, 6), (1, 1, 2, 3), 1, 0), None),
    (((1, 1, 4, 4), (1, 1, 3, 3), 1, 1), ((1, 1, 4, 6), (1, 1, 2, 3), 1, 0),
     "does not expose bug A"),
    (((1, 1, 4, 5), (1, 1, 3, 3), 1, 0), ((1, 1, 4, 4), (1, 1, 2, 2), 1, 0),
     "it exposes bug A, not bug B"),
    (((1, 1, 4, 5), (1, 1, 3, 3), 1, 0), ((1, 2, 4, 6), (1, 1, 2, 3), 1, 0), "the same number of channels"),
    (((1, 1, 4, 5), (1, 1, 3, 3), 1, 0), LyingTuple(), "not plain data"),
])
def test_the_spot_the_bug_cases_are_run_outside(tmp_path, monkeypatch, case_a, case_b, says):
    message = _graded_in_and_out(tmp_path, monkeypatch, "convolution_backward",
                                 "check_failing_cases", ["case_for_bug_a", "case_for_bug_b"],
                                 [lambda: case_a, lambda: case_b])
    assert (message is None) if says is None else (says in message), message


def test_an_error_raised_in_the_kernel_is_explained_by_the_judge(tmp_path, monkeypatch):
    def float_sizes(x, w, b, conv_param):
        return np.zeros((x.shape[0], w.shape[0], x.shape[2] / 1, x.shape[3])), None
    message = _graded_in_and_out(tmp_path, monkeypatch, "convolution_forward",
                                 "check_conv_forward", ["conv_forward_naive"], [float_sizes])
    assert "raised TypeError" in message and "Sizes must be ints: use //" in message


# ------------------------------------------------- locating a bug by probing, judged outside

PAD_ONE_ONLY = '''
def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))) if pad else x   # pad 1, whatever pad is
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)
'''

# dx takes every filter's share with the first filter's weights: right when F = 1
DX_FIRST_FILTER = '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[0]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''

# every channel gets the maximum of channel 0: right when there is one channel
FIRST_CHANNEL = '''
def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    PH, PW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out, W_out = (H - PH) // S + 1, (W - PW) // S + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :1, i * S:i * S + PH, j * S:j * S + PW].max(axis=(2, 3))
    return out, (x, pool_param)
'''


def _defined(code, name):
    namespace = {"np": np}
    exec(code, namespace)
    return namespace[name]


def test_seed_002s_forward_pass_is_located_by_the_judge(tmp_path, monkeypatch):
    """Right for square kernels, a broadcast error for the others: the judge, which cannot call
    it, says so from the answers the kernel recorded on the nearby cases."""
    from autograder.tests.seeds import seed_002_forward
    message = _graded_in_and_out(tmp_path, monkeypatch, "convolution_forward",
                                 "check_conv_forward", ["conv_forward_naive"], [seed_002_forward()])
    assert "w (1, 3, 2, 3)" in message and "your function raised ValueError" in message
    assert ("Where to look: Your function is right when the kernel is square, and wrong on this "
            "case: look at where you use HH and WW") in message, message


@pytest.mark.parametrize("module, check, name, code, says", [
    ("convolution_forward", "check_conv_forward", "conv_forward_naive", PAD_ONE_ONLY,
     "right when there is no padding"),
    ("convolution_backward", "check_conv_backward", "conv_backward_naive", DX_FIRST_FILTER,
     "right when there is one filter, and wrong on this case: look at the sums over the filters"),
    ("pooling", "check_max_pool_forward", "max_pool_forward_naive", FIRST_CHANNEL,
     "right when there is one channel, and wrong on this case: look at the channel axis"),
])
def test_a_bug_no_known_mistake_fits_is_located_by_the_judge(tmp_path, monkeypatch, module,
                                                             check, name, code, says):
    message = _graded_in_and_out(tmp_path, monkeypatch, module, check, [name],
                                 [_defined(code, name)])
    assert message is not None and says in message, message


def test_a_known_mistake_is_named_and_not_probed(tmp_path, monkeypatch):
    def flipped(x, w, b, conv_param):
        import torch
        out = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w[:, :, ::-1, ::-1].copy()),
                                         torch.from_numpy(b), stride=conv_param["stride"],
                                         padding=conv_param["pad"])
        return out.numpy(), None
    monkeypatch.setattr("autograder.hidden.spec.refuse_shortcuts", lambda fn, exercise: None)
    monkeypatch.setattr("autograder.hidden.spec.library_convolutions_forbidden",
                        lambda name: __import__("contextlib").nullcontext())
    message = _graded_in_and_out(tmp_path, monkeypatch, "convolution_forward",
                                 "check_conv_forward", ["conv_forward_naive"], [flipped])
    assert "The kernel is flipped" in message and "Your function is right" not in message


def test_the_kernel_records_the_nearby_answers_without_reading_a_reference(tmp_path, monkeypatch):
    from autograder.hidden import spec
    from autograder.tests.seeds import seed_002_forward

    def no_references(assignment):
        raise AssertionError("the grading kernel read the references")
    monkeypatch.setattr(spec, "load_references", no_references)
    monkeypatch.setenv("COURSE_JUDGE", "outside")
    monkeypatch.chdir(tmp_path)
    from autograder.hidden.convolution_forward import check_conv_forward
    check_conv_forward(seed_002_forward())
    records = judge.take_records(tmp_path)
    assert len(records) == 18
    first = record.from_plain(records[0].data, records[0].arrays)
    assert set(first) == {"answer", "nearby"} and set(first["nearby"]) <= {
        "square kernel", "square input", "no padding", "stride 1", "one channel", "one image",
        "one filter"}
    raised = [record.from_plain(r.data, r.arrays) for r in records]
    assert any("raised" in got and got["nearby"].get("square kernel") is not None for got in raised)


@pytest.mark.parametrize("fn, says", [
    (lambda f, dilation=1: (dilation * (f - 1) // 2, dilation * (f - 1) // 2),
     "hidden test: same_padding_pair(2, dilation=1): returned the wrong value"),
    (lambda f, dilation=1: (dilation * (f - 1) - dilation * (f - 1) // 2, dilation * (f - 1) // 2),
     "PyTorch puts the extra one after"),
    (lambda f, dilation=1: ((f - 1) // 2, f - 1 - (f - 1) // 2), "not f"),
    (lambda f, dilation=1: [dilation * (f - 1) // 2, dilation * (f - 1) - dilation * (f - 1) // 2],
     "it should return a tuple (pad_before, pad_after)"),
    (lambda f, dilation=1: LyingTuple((0, 0)), "not plain data"),
])
def test_wrong_same_padding_pairs_are_judged_outside(tmp_path, monkeypatch, fn, says):
    message = graded_outside(tmp_path, monkeypatch, "convolution_basics",
                             "check_same_padding_pair", ["same_padding_pair"], [fn])
    assert message is not None and says in message, message


def test_a_right_same_padding_pair_passes_outside(tmp_path, monkeypatch):
    def same_padding_pair(f, dilation=1):
        total = dilation * (f - 1)
        return total // 2, total - total // 2
    assert graded_outside(tmp_path, monkeypatch, "convolution_basics", "check_same_padding_pair",
                          ["same_padding_pair"], [same_padding_pair]) is None
