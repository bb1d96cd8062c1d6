"""05-numpy-cnn judged outside the kernel: each check run as the grading kernel runs it
(COURSE_JUDGE=outside, recording only), then judged by autograder.judge. A right answer
passes; a lying one (an ndarray subclass that says it equals anything, a tuple subclass, a
gradient stored as the wrong type) and a typical wrong one fail with the student's message,
which never holds the expected values."""
import os

import numpy as np
import pytest

from course.checks import CheckFailed

from autograder.hidden import numpy_cnn, record
from autograder.solutions import load_solutions
from autograder.tests.judging import LyingArray, LyingTuple, graded_outside


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0


class LyingInt(int):
    def __eq__(self, other):
        return True


def lie(array):
    return np.asarray(array).view(LyingArray)


@pytest.fixture(scope="module")
def S():
    return load_solutions("05-numpy-cnn")


def graded(tmp_path, monkeypatch, check, names, fns):
    """Run a hidden check of 05 as the grading kernel would (recording only), then judge it."""
    return graded_outside(tmp_path, monkeypatch, "numpy_cnn", check, names, fns)


CALLS = {
    "check_convolution_layer": ["Convolution"],
    "check_relu_affine": ["ReLU", "Affine"],
    "check_max_pooling_layer": ["MaxPooling"],
    "check_softmax_with_loss": ["SoftmaxWithLoss"],
    "check_simple_conv_net": ["SimpleConvNet"],
    "check_network_gradient": ["SimpleConvNet"],
    "check_pool_output_units": ["pool_output_units"],
    "check_train": ["train"],
    "check_save_load": ["save_params", "load_params"],
    "check_batchnorm_forward": ["spatial_batchnorm_forward"],
    "check_batchnorm_running": ["spatial_batchnorm_forward"],
    "check_batchnorm_backward": ["spatial_batchnorm_forward", "spatial_batchnorm_backward"],
    "check_he_init": ["he_init"],
}


def test_every_check_of_05_is_judged_outside():
    assert set(numpy_cnn.CHECKS) == set(CALLS)


@pytest.mark.parametrize("check", list(CALLS))
def test_the_solution_passes_outside(tmp_path, monkeypatch, S, check):
    assert graded(tmp_path, monkeypatch, check, CALLS[check], [S[n] for n in CALLS[check]]) is None


# ----------------------------------------------------------------------------- lying answers

def lying_forward(Layer):
    class Liar(Layer):
        def forward(self, *args):
            return lie(super().forward(*args))
    return Liar


def stored_as(Layer, name, convert):
    class Liar(Layer):
        def backward(self, dout):
            dx = super().backward(dout)
            setattr(self, name, convert(getattr(self, name)))
            return dx
    return Liar


def refusing_nothing(Layer):
    """Right on every case, but returns a lying array where it should raise ValueError."""
    class Liar(Layer):
        def forward(self, x):
            try:
                return super().forward(x)
            except ValueError:
                return lie(np.zeros(1))
    return Liar


def lying_backward(Layer):
    class Liar(Layer):
        def backward(self, *args):
            return lie(super().backward(*args))
    return Liar


def lying_loss(Layer):
    class Liar(Layer):
        def forward(self, x, t):
            return LyingFloat(super().forward(x, t) + 1.0)
    return Liar


def lying_params(Net):
    class Liar(Net):
        def __init__(self, *args):
            super().__init__(*args)
            self.params["W1"] = self.params["W1"].view(LyingArray)
    return Liar


def lying_predict(Net):
    class Liar(Net):
        def predict(self, x):
            return lie(np.zeros((len(x), 1)))
    return Liar


def lying_gradient(Net):
    class Liar(Net):
        def gradient(self, x, t):
            return {key: lie(np.zeros(value.shape)) for key, value in super().gradient(x, t).items()}
    return Liar


def tuple_gradient(Net):
    class Liar(Net):
        def gradient(self, x, t):
            return LyingTuple(super().gradient(x, t).values())
    return Liar


def lying_history(train):
    def liar(*args):
        history = train(*args)
        return {key: [LyingFloat(v) for v in values] for key, values in history.items()}
    return liar


def no_training(train):
    """Trains nothing; a history of lying floats."""
    def liar(net, *args):
        return {key: [LyingFloat(0.0)] * args[4] for key in numpy_cnn.HISTORY_KEYS}
    return liar


def lying_load(load_params):
    def liar(net, path):
        load_params(net, path)
        for key in list(net.params):
            net.params[key] = net.params[key].view(LyingArray)
    return liar


def swallowing_load(load_params):
    def liar(net, path):
        try:
            load_params(net, path)
        except ValueError:
            return LyingTuple()
    return liar


def lying_pair(forward):
    def liar(*args):
        out, cache = forward(*args)
        return lie(out), cache
    return liar


def tuple_pair(forward):
    def liar(*args):
        return LyingTuple(forward(*args))
    return liar


def refusing_no_mode(forward):
    """Right on every case, but returns a lying array where it should raise ValueError."""
    def liar(x, gamma, beta, bn_param):
        try:
            return forward(x, gamma, beta, bn_param)
        except ValueError:
            return lie(np.zeros(1)), None
    return liar


def lying_running(forward):
    def liar(x, gamma, beta, bn_param):
        result = forward(x, gamma, beta, bn_param)
        bn_param["running_mean"] = bn_param["running_mean"].view(LyingArray)
        return result
    return liar


def lying_grads(backward, convert):
    def liar(dout, cache):
        return convert(backward(dout, cache))
    return liar


def lying_he(he_init):
    def liar(shape, rng):
        return lie(he_init(shape, rng))
    return liar


LIARS = [
    ("check_convolution_layer", lambda S: [lying_forward(S["Convolution"])],
     "forward(x): returned a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_convolution_layer", lambda S: [stored_as(S["Convolution"], "dW", lie)],
     "after backward, layer.dW is a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_convolution_layer", lambda S: [refusing_nothing(S["Convolution"])],
     "returned a autograder.tests.judging.LyingArray, which is not plain data instead of raising ValueError"),
    ("check_relu_affine", lambda S: [lying_forward(S["ReLU"]), S["Affine"]],
     "hidden test: ReLU() on x (4, 7): forward(x): returned a autograder.tests.judging.LyingArray"),
    ("check_relu_affine", lambda S: [S["ReLU"], stored_as(S["Affine"], "db", LyingTuple)],
     "after backward, layer.db is a autograder.tests.judging.LyingTuple"),
    ("check_relu_affine", lambda S: [S["ReLU"], stored_as(S["Affine"], "dW", list)],
     "after backward, layer.dW is list"),
    ("check_max_pooling_layer", lambda S: [lying_backward(S["MaxPooling"])],
     "dx = backward(dout): returned a autograder.tests.judging.LyingArray"),
    ("check_max_pooling_layer", lambda S: [refusing_nothing(S["MaxPooling"])],
     "instead of raising ValueError"),
    ("check_softmax_with_loss", lambda S: [lying_loss(S["SoftmaxWithLoss"])],
     "forward(x, t): returned a test_judge_numpy_cnn.LyingFloat, which is not plain data"),
    ("check_simple_conv_net", lambda S: [lying_params(S["SimpleConvNet"])],
     "net.params['W1'] is a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_simple_conv_net", lambda S: [lying_predict(S["SimpleConvNet"])],
     "predict(x (4, 2, 6, 10)): returned a autograder.tests.judging.LyingArray"),
    ("check_network_gradient", lambda S: [lying_gradient(S["SimpleConvNet"])],
     "gradient(x, t)['W1']: returned a autograder.tests.judging.LyingArray"),
    ("check_network_gradient", lambda S: [tuple_gradient(S["SimpleConvNet"])],
     "gradient(x, t) returned a autograder.tests.judging.LyingTuple, which is not plain data"),
    ("check_pool_output_units", lambda S: [lambda *args: LyingInt(0)],
     "pool_output_units(8, 3, 1, 1, 16): returned a test_judge_numpy_cnn.LyingInt"),
    ("check_train", lambda S: [lying_history(S["train"])],
     "holds a value that is not a plain number"),
    ("check_train", lambda S: [no_training(S["train"])], "not a plain number"),
    ("check_save_load", lambda S: [lambda net, path: LyingTuple(), S["load_params"]],
     "hidden test: save_params(net, 'weights.params') wrote no file at that path"),
    ("check_save_load", lambda S: [S["save_params"], lying_load(S["load_params"])],
     "net.params['W1'] after load_params: returned a autograder.tests.judging.LyingArray"),
    ("check_batchnorm_forward", lambda S: [lying_pair(S["spatial_batchnorm_forward"])],
     "mode='train': returned a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_batchnorm_forward", lambda S: [tuple_pair(S["spatial_batchnorm_forward"])],
     "returned a autograder.tests.judging.LyingTuple, which is not plain data; it should return a "
     "pair (out, cache)"),
    ("check_batchnorm_forward", lambda S: [refusing_no_mode(S["spatial_batchnorm_forward"])],
     "mode='eval'): returned a tuple of 2 item(s) (NoneType, Unsupported) instead of raising ValueError"),
    ("check_batchnorm_running", lambda S: [lying_running(S["spatial_batchnorm_forward"])],
     "bn_param['running_mean'] after 1 train step(s): returned a autograder.tests.judging.LyingArray"),
    ("check_batchnorm_backward",
     lambda S: [S["spatial_batchnorm_forward"],
                lying_grads(S["spatial_batchnorm_backward"], lambda g: (lie(g[0]), *g[1:]))],
     "dx: returned a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_batchnorm_backward",
     lambda S: [S["spatial_batchnorm_forward"], lying_grads(S["spatial_batchnorm_backward"], LyingTuple)],
     "returned a autograder.tests.judging.LyingTuple, which is not plain data; it should return a "
     "tuple (dx, dgamma, dbeta)"),
    ("check_he_init", lambda S: [lying_he(S["he_init"])],
     "he_init((32, 8, 5, 3), np.random.default_rng(0)): returned a autograder.tests.judging.LyingArray"),
    ("check_save_load", lambda S: [S["save_params"], swallowing_load(S["load_params"])],
     "load_params(net, an empty file): returned a autograder.tests.judging.LyingTuple, which is "
     "not plain data instead of raising ValueError"),
]


@pytest.mark.parametrize("check, fns, says", LIARS)
def test_a_lying_answer_of_05_is_judged_wrong_outside(tmp_path, monkeypatch, S, check, fns, says):
    message = graded(tmp_path, monkeypatch, check, CALLS[check], fns(S))
    assert message is not None and says in message, message


# ----------------------------------------------------------------------------- wrong answers

def affine_db_not_summed(Affine):
    class Wrong(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = dout.copy()
            return dx
    return Wrong


def gradient_keys_swapped(Net):
    class Wrong(Net):
        def gradient(self, x, t):
            grads = super().gradient(x, t)
            grads["W2"], grads["W3"] = grads["W3"], grads["W2"]
            return grads
    return Wrong


def gradient_wired_wrong(Net):
    class Wrong(Net):
        def gradient(self, x, t):
            grads = super().gradient(x, t)
            return {**grads, "b2": 2 * grads["b2"]}
    return Wrong


def loss_summed(Net):
    class Wrong(Net):
        def loss(self, x, t):
            return super().loss(x, t) * len(x)
    return Wrong


def not_in_place(train):
    def wrong(net, *args):
        history = train(net, *args)
        net.params = {key: value.copy() for key, value in net.params.items()}
        return history
    return wrong


def copying_layers(Net):
    class Wrong(Net):
        def __init__(self, *args):
            super().__init__(*args)
            self.layers["Affine2"].W = self.params["W3"].copy()
    return Wrong


def fake_history(train):
    """Claims a falling loss of the right values' kind, but trains nothing."""
    def wrong(net, *args):
        epochs = args[4]
        return {key: [0.01] * epochs for key in numpy_cnn.HISTORY_KEYS}
    return wrong


def bn_per_pixel(forward):
    """Normalises each (c, i, j) over the batch axis alone in train mode."""
    def wrong(x, gamma, beta, bn_param):
        out, cache = forward(x, gamma, beta, bn_param)
        if bn_param["mode"] == "train":
            mean, var = x.mean(axis=0), x.var(axis=0)
            out = (gamma.reshape(1, -1, 1, 1) * (x - mean) / np.sqrt(var + bn_param.get("eps", 1e-5))
                   + beta.reshape(1, -1, 1, 1))
        return out, cache
    return wrong


def bn_momentum_reversed(forward):
    """Gives the batch's statistic the weight momentum (PyTorch's convention)."""
    def wrong(x, gamma, beta, bn_param):
        if bn_param["mode"] != "train":
            return forward(x, gamma, beta, bn_param)
        swapped = {**bn_param, "momentum": 1 - bn_param.get("momentum", 0.9)}
        result = forward(x, gamma, beta, swapped)        # the same running arrays, updated in place
        bn_param.setdefault("running_mean", swapped["running_mean"])
        bn_param.setdefault("running_var", swapped["running_var"])
        return result
    return wrong


def bn_not_in_place(forward):
    """Right values, but new running arrays in bn_param after every call."""
    def wrong(x, gamma, beta, bn_param):
        result = forward(x, gamma, beta, bn_param)
        for key in ("running_mean", "running_var"):
            bn_param[key] = bn_param[key].copy()
        return result
    return wrong


def bn_constants(backward):
    """dx with the batch mean and variance treated as constants (the solution's cache)."""
    def wrong(dout, cache):
        _, dgamma, dbeta = backward(dout, cache)
        _, gamma, inv_std = cache
        return dout * (gamma * inv_std).reshape(1, -1, 1, 1), dgamma, dbeta
    return wrong


def he_fan_out(shape, rng):
    fan = shape[0] * shape[2] * shape[3] if len(shape) == 4 else shape[1]
    return np.sqrt(2 / fan) * rng.standard_normal(shape)


def he_own_generator(he_init):
    def wrong(shape, rng):
        return he_init(shape, np.random.default_rng())
    return wrong


WRONG = [
    ("check_relu_affine", lambda S: [S["ReLU"], affine_db_not_summed(S["Affine"])],
     ["hidden test: Affine(W (6, 3), b) on x (5, 6): layer.db after backward(dout): returned an "
      "array of the wrong shape", "Hint: db must be summed over the batch"]),
    ("check_network_gradient", lambda S: [gradient_wired_wrong(S["SimpleConvNet"])],
     ["gradient(x, t)['b2']: returned the wrong values", "backward pass is wired wrong"]),
    ("check_network_gradient", lambda S: [gradient_keys_swapped(S["SimpleConvNet"])],
     ["gradient(x, t)['W2']: returned an array of the wrong shape"]),
    ("check_network_gradient", lambda S: [loss_summed(S["SimpleConvNet"])], None),  # loss not graded here
    ("check_simple_conv_net", lambda S: [loss_summed(S["SimpleConvNet"])],
     ["random parameters: loss(x, t): returned the wrong value", "expected: (hidden)"]),
    ("check_simple_conv_net", lambda S: [copying_layers(S["SimpleConvNet"])],
     ["net.layers['Affine2'].W is net.params['W3']", "not copies"]),
    ("check_train", lambda S: [not_in_place(S["train"])],
     ["net.params['W'] is the array it was", "Update the parameters in place"]),
    ("check_train", lambda S: [fake_history(S["train"])],
     ["history['train_loss'][-1]: returned the wrong value", "expected: (hidden)"]),
    ("check_batchnorm_forward", lambda S: [bn_per_pixel(S["spatial_batchnorm_forward"])],
     ["hidden test: spatial_batchnorm_forward(x (2, 3, 5, 4), gamma, beta, bn_param), mode='train': "
      "returned the wrong values", "per pixel", "you returned"]),
    ("check_batchnorm_running", lambda S: [bn_momentum_reversed(S["spatial_batchnorm_forward"])],
     ["bn_param['running_mean'] after 1 train step(s): returned the wrong values", "the other way round"]),
    ("check_batchnorm_running", lambda S: [bn_not_in_place(S["spatial_batchnorm_forward"])],
     ["bn_param['running_mean'] is the array it held before the train steps", "in place"]),
    ("check_batchnorm_backward",
     lambda S: [S["spatial_batchnorm_forward"], bn_constants(S["spatial_batchnorm_backward"])],
     ["spatial_batchnorm_backward(dout, cache) after spatial_batchnorm_forward(x (2, 3, 4, 5)",
      "dx: returned the wrong values", "as constants"]),
    ("check_batchnorm_backward",
     lambda S: [bn_per_pixel(S["spatial_batchnorm_forward"]), bn_constants(S["spatial_batchnorm_backward"])],
     ["dx: returned the wrong values", "already wrong on this case"]),
    ("check_he_init", lambda S: [he_fan_out],
     ["the standard deviation of its 3840 values: returned the wrong value", "fan_out = F * HH * WW (480)"]),
    ("check_he_init", lambda S: [he_own_generator(S["he_init"])],
     ["two calls with np.random.default_rng(0) gave different weights", "not from np.random"]),
]


@pytest.mark.parametrize("check, fns, says", WRONG)
def test_a_wrong_answer_of_05_gets_its_message_outside(tmp_path, monkeypatch, S, check, fns, says):
    message = graded(tmp_path, monkeypatch, check, CALLS[check], fns(S))
    if says is None:
        assert message is None
        return
    assert message is not None and all(phrase in message for phrase in says), message


def test_a_step_that_raises_is_named_and_stops_the_case(tmp_path, monkeypatch, S):
    class Broken(S["Convolution"]):
        def backward(self, dout):
            raise IndexError("index 3 is out of bounds")
    message = graded(tmp_path, monkeypatch, "check_convolution_layer", ["Convolution"], [Broken])
    assert message.startswith("hidden test: Broken(W (4, 3, 3, 3), b, stride=1, pad=1) on x "
                              "(2, 3, 7, 5): backward(dout): your function raised IndexError: "
                              "index 3 is out of bounds"), message


def test_a_library_convolution_is_refused(tmp_path, monkeypatch, S):
    import torch
    import torch.nn.functional as F
    from torch.nn.functional import conv2d

    class ThroughTheModule(S["Convolution"]):
        def forward(self, x):
            return F.conv2d(torch.from_numpy(x), torch.from_numpy(self.W)).numpy()

    class ByName(S["Convolution"]):
        def forward(self, x):
            return conv2d(torch.from_numpy(x), torch.from_numpy(self.W)).numpy()
    ByName.__module__ = "__main__"  # defined in the notebook, as a student's class is

    # the tripwire trips while forward runs: recorded, and said by the judge
    message = graded(tmp_path, monkeypatch, "check_convolution_layer", ["Convolution"],
                     [ThroughTheModule])
    assert message.startswith("ThroughTheModule called torch.nn.functional.conv2d: this exercise "
                              "is to write the operation yourself"), message
    # a library function the class reaches by a name of its own is refused before any call
    with pytest.raises(CheckFailed, match="conv2d"):
        graded(tmp_path, monkeypatch, "check_convolution_layer", ["Convolution"], [ByName])


def test_batchnorm_through_torch_is_refused(tmp_path, monkeypatch, S):
    import torch
    import torch.nn.functional as F

    def spatial_batchnorm_forward(x, gamma, beta, bn_param):
        out = F.batch_norm(torch.from_numpy(x), None, None, torch.from_numpy(gamma),
                           torch.from_numpy(beta), training=True)
        return out.numpy(), None

    for check in ("check_batchnorm_forward", "check_batchnorm_running"):
        with pytest.raises(CheckFailed, match="spatial_batchnorm_forward: it can reach the module "
                                              "torch.nn.functional"):
            graded(tmp_path, monkeypatch, check, CALLS[check], [spatial_batchnorm_forward])


def test_not_answered_yet_says_so(tmp_path, monkeypatch):
    class Blank:
        def __init__(self, *args):
            raise NotImplementedError()
    message = graded(tmp_path, monkeypatch, "check_simple_conv_net", ["SimpleConvNet"], [Blank])
    assert "not answered yet: SimpleConvNet() still raises NotImplementedError" in message


def test_the_kernel_never_reads_the_references_of_05(tmp_path, monkeypatch, S):
    def unreadable(assignment):
        raise AssertionError("the kernel read the reference outputs")
    monkeypatch.setattr("autograder.hidden.spec.load_references", unreadable)
    monkeypatch.setenv("COURSE_JUDGE", "outside")
    monkeypatch.chdir(tmp_path)
    for check, names in CALLS.items():
        getattr(numpy_cnn, check)(*[S[n] for n in names])
    assert os.listdir(tmp_path / record.RECORDS_FOLDER)


def test_in_the_kernel_without_the_judge_a_wrong_answer_fails_at_once(monkeypatch, S):
    monkeypatch.delenv("COURSE_JUDGE", raising=False)
    with pytest.raises(CheckFailed, match="db must be summed over the batch"):
        numpy_cnn.check_relu_affine(S["ReLU"], affine_db_not_summed(S["Affine"]))
