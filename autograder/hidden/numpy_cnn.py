"""Hidden tests of 05-numpy-cnn: the layers as objects, SimpleConvNet, pool_output_units,
train and save/load.

Layers and the network are compared with torch references (autograder/cases/numpy_cnn.py);
`train` and save/load are checked on small stand-in networks built here, so that a mistake in
the student's SimpleConvNet does not cost those points again.
"""
import pathlib
import tempfile

import numpy as np

from course.checks import CheckFailed, call_student, check_array, check_close, check_equal, check_raises
from course.data import load_digits
from course.diagnose_layers import (conv_backward_mistake, conv_forward_mistake,
                                    max_pool_backward_mistake, pool_forward_mistake)
from course.gradcheck import gradient_report

from autograder.hidden import cases, load_references
from autograder.hidden.tripwire import library_convolutions_forbidden

ASSIGNMENT = "05-numpy-cnn"
PARAM_KEYS = ["W1", "W2", "W3", "b1", "b2", "b3"]


def _stored(layer, name, what):
    """layer.<name>, which backward must have set to an array."""
    value = getattr(layer, name, None)
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what}: after backward, layer.{name} is {type(value).__name__}.\n"
                          f"  Hint: backward must store the gradient as a NumPy array: self.{name} = ...")
    return value


def _same(a, b):
    return (isinstance(a, np.ndarray) and a.shape == np.shape(b)
            and np.issubdtype(a.dtype, np.number) and np.allclose(a, b, rtol=1e-6, atol=1e-8))


def _first_named(actual, wrong_answers):
    """The sentence of the first (candidate, sentence) whose candidate equals actual."""
    for candidate, sentence in wrong_answers:
        if candidate is not None and _same(actual, candidate):
            return sentence
    return None


# ----------------------------------------------------------------------------- layers

def check_convolution_layer(Convolution):
    """Convolution(W, b, stride, pad): forward and backward on every reference case, and the
    inputs it must refuse."""
    refs = load_references(ASSIGNMENT)
    for case in cases(refs, "conv"):
        x, W, b, dout = case["x"], case["W"], case["b"], case["dout"]
        stride, pad = (int(v) for v in case["stride_pad"])
        conv_param = {"stride": stride, "pad": pad}
        dtype = ", float32" if x.dtype == np.float32 else ""
        what = (f"hidden test: Convolution(W {W.shape}, b, stride={stride}, pad={pad}) "
                f"on x {x.shape}{dtype}")
        with library_convolutions_forbidden("Convolution", Convolution):
            layer = call_student(Convolution, W.copy(), b.copy(), stride, pad, what=what)
            out = call_student(layer.forward, x.copy(), what=f"{what}: forward(x)")
        check_array(out, case["out"], f"{what}: forward(x)", reveal=False, rtol=1e-5,
                    diagnose=lambda got: conv_forward_mistake(got, x, W, b, conv_param),
                    hint="Compare your output with F.conv2d on this shape, stride and padding.")
        with library_convolutions_forbidden("Convolution", Convolution):
            dx = call_student(layer.backward, dout.copy(), what=f"{what}: backward(dout)")
        dW, db = _stored(layer, "dW", what), _stored(layer, "db", what)

        def mistake(_):
            return conv_backward_mistake(dx, dW, db, x, W, b, conv_param, dout)

        for got, label in ((db, "db"), (dW, "dW")):
            check_array(got, case[label], f"{what}: layer.{label} after backward(dout)", reveal=False,
                        rtol=1e-5, diagnose=mistake,
                        hint="Check this shape, stride and padding against the formulas of notebook 03.")
        check_array(dx, case["dx"], f"{what}: dx = backward(dout)", reveal=False, rtol=1e-5,
                    diagnose=mistake, hint="dx has the shape of x; cut the padding off at the end.")

    for case in cases(refs, "conv_refused"):
        x_shape, W_shape = tuple(int(v) for v in case["x_shape"]), tuple(int(v) for v in case["W_shape"])
        stride, pad = (int(v) for v in case["stride_pad"])
        what = f"hidden test: Convolution(W {W_shape}, b, stride={stride}, pad={pad}).forward(x {x_shape})"
        layer = call_student(Convolution, np.ones(W_shape), np.zeros(W_shape[0]), stride, pad, what=what)
        with library_convolutions_forbidden("Convolution", Convolution):
            check_raises(lambda: layer.forward(np.ones(x_shape)), ValueError, what,
                         hint="Refuse a channel mismatch, a filter larger than the padded input, and "
                              "windows that do not tile it.")


def _affine_mistake(dx, dW, db, x, W, dout):
    """Name a classic mistake of an affine backward pass, or None."""
    N, M = dout.shape
    x_flat = x.reshape(N, -1)
    if isinstance(dx, np.ndarray) and dx.shape == x_flat.shape and dx.shape != x.shape:
        return ("dx has the flattened shape (N, D): reshape it back to the shape of the input x, "
                "which forward should remember (self.x_shape = x.shape).")
    if isinstance(dW, np.ndarray) and dW.shape == (M, x_flat.shape[1]) and M != x_flat.shape[1]:
        return "dW is transposed: it has the shape of W, (D, M), and is x_flat.T @ dout."
    if isinstance(db, np.ndarray) and db.shape == (N, M) and N > 1:
        return "db must be summed over the batch: dout.sum(axis=0), shape (M,)."
    return (_first_named(db, [(dout.mean(axis=0), "db is the sum of dout over the batch, not the mean.")])
            or _first_named(dW, [(x_flat.T @ dout / N, "dW is x_flat.T @ dout, not divided by N: the "
                                                        "1/N of the mean loss is already inside dout.")]))


def check_relu_affine(ReLU, Affine):
    """ReLU() and Affine(W, b), forward and backward on every reference case."""
    refs = load_references(ASSIGNMENT)
    for case in cases(refs, "relu"):
        x, dout = case["x"], case["dout"]
        what = f"hidden test: ReLU() on x {x.shape}"
        x_in, dout_in = x.copy(), dout.copy()
        layer = call_student(ReLU, what=what)
        out = call_student(layer.forward, x_in, what=f"{what}: forward(x)")
        check_array(out, case["out"], f"{what}: forward(x)", reveal=False, hint="np.maximum(x, 0)")
        dx = call_student(layer.backward, dout_in, what=f"{what}: backward(dout)")
        check_array(dx, case["dx"], f"{what}: dx = backward(dout)", reveal=False,
                    diagnose=lambda got: _first_named(got, [(dout, "dx is dout everywhere: it must be 0 "
                                                                   "where the input x was not positive.")]),
                    hint="dx is dout where x > 0 and 0 elsewhere.")
        check_array(x_in, x, f"x after {what}", hint="Copy x before you set entries to 0.")
        check_array(dout_in, dout, f"dout after {what}", hint="Copy dout before you set entries to 0.")

    for case in cases(refs, "affine"):
        x, W, b, dout = case["x"], case["W"], case["b"], case["dout"]
        what = f"hidden test: Affine(W {W.shape}, b) on x {x.shape}"
        layer = call_student(Affine, W.copy(), b.copy(), what=what)
        out = call_student(layer.forward, x.copy(), what=f"{what}: forward(x)")
        check_array(out, case["out"], f"{what}: forward(x)", reveal=False,
                    hint="Flatten with x.reshape(N, -1) (also when N is 1), then x_flat @ W + b.")
        dx = call_student(layer.backward, dout.copy(), what=f"{what}: backward(dout)")
        dW, db = _stored(layer, "dW", what), _stored(layer, "db", what)

        def mistake(_):
            return _affine_mistake(dx, dW, db, x, W, dout)

        check_array(db, case["db"], f"{what}: layer.db after backward(dout)", reveal=False,
                    diagnose=mistake, hint="db = dout.sum(axis=0), shape (M,).")
        check_array(dW, case["dW"], f"{what}: layer.dW after backward(dout)", reveal=False,
                    diagnose=mistake, hint="dW = x_flat.T @ dout, shape (D, M).")
        check_array(dx, case["dx"], f"{what}: dx = backward(dout)", reveal=False,
                    diagnose=mistake, hint="dx = dout @ W.T, reshaped to the shape of x.")


def check_max_pooling_layer(MaxPooling):
    """MaxPooling(pool_h, pool_w, stride): forward and backward on every reference case, and the
    inputs it must refuse."""
    refs = load_references(ASSIGNMENT)
    for case in cases(refs, "maxpool"):
        x, dout = case["x"], case["dout"]
        ph, pw, stride = (int(v) for v in case["pool"])
        pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
        ties = ", small integers (tied maxima)" if np.all(x == np.round(x)) else ""
        what = f"hidden test: MaxPooling({ph}, {pw}, stride={stride}) on x {x.shape}{ties}"
        with library_convolutions_forbidden("MaxPooling", MaxPooling):
            layer = call_student(MaxPooling, ph, pw, stride, what=what)
            out = call_student(layer.forward, x.copy(), what=f"{what}: forward(x)")
            dx = call_student(layer.backward, dout.copy(), what=f"{what}: backward(dout)")
        check_array(out, case["out"], f"{what}: forward(x)", reveal=False,
                    diagnose=lambda got: pool_forward_mistake(got, x, pool_param, "max"),
                    hint="Compare your output with F.max_pool2d on this shape, window and stride.")
        check_array(dx, case["dx"], f"{what}: dx = backward(dout)", reveal=False,
                    diagnose=lambda got: max_pool_backward_mistake(got, x, pool_param, dout),
                    hint="Each dout value goes to the first maximum of its window (np.argmax's "
                         "choice); add where windows overlap.")
    for case in cases(refs, "pool_refused"):
        x_shape = tuple(int(v) for v in case["x_shape"])
        ph, pw, stride = (int(v) for v in case["pool"])
        what = f"hidden test: MaxPooling({ph}, {pw}, stride={stride}).forward(x {x_shape})"
        layer = call_student(MaxPooling, ph, pw, stride, what=what)
        with library_convolutions_forbidden("MaxPooling", MaxPooling):
            check_raises(lambda: layer.forward(np.zeros(x_shape)), ValueError, what,
                         hint="Refuse windows larger than the input or windows that do not tile it.")


def _softmax_parts(x, t):
    z = x - x.max(axis=1, keepdims=True)
    y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(x.shape[1])[t]
    return y, onehot


def check_softmax_with_loss(SoftmaxWithLoss):
    """SoftmaxWithLoss(): forward(x, t) and backward(dout) on every reference case."""
    for case in cases(load_references(ASSIGNMENT), "softmax"):
        x, t, dout = case["x"], case["t"], float(case["dout"])
        size = "large " if np.abs(x).max() > 100 else ""
        what = f"hidden test: SoftmaxWithLoss() on {size}scores {x.shape}"
        layer = call_student(SoftmaxWithLoss, what=what)
        loss = call_student(layer.forward, x.copy(), t.copy(), what=f"{what}: forward(x, t)")
        y, onehot = _softmax_parts(x, t)
        N = x.shape[0]
        if isinstance(loss, np.ndarray) and loss.ndim == 0:
            loss = loss[()]
        capped = -np.mean(np.log(y[np.arange(N), t] + 1e-7))
        named = None
        if isinstance(loss, (float, np.floating)) and np.isfinite(loss):
            if np.isclose(loss, N * float(case["loss"])) and N > 1:
                named = "The loss is summed over the batch; it must be the mean (divide by N)."
            elif np.isclose(loss, capped) and not np.isclose(capped, float(case["loss"])):
                named = ("log(y + 1e-7) caps the loss of a class with a tiny probability; use "
                         "log-probabilities z - log(sum(exp(z))) with z = x - max.")
        check_close(loss, float(case["loss"]), f"{what}: forward(x, t)", reveal=False,
                    hint=named or "The mean over the batch of -log softmax(x)[n, t[n]]; subtract "
                                  "the row maximum and use log-probabilities.")
        call = "backward()" if dout == 1.0 else f"backward({dout})"
        dx = call_student(layer.backward, *(() if dout == 1.0 else (dout,)), what=f"{what}: {call}")
        right = dout * (y - onehot) / N
        check_array(dx, case["dx"], f"{what}: dx = {call}", reveal=False,
                    diagnose=lambda got: _first_named(got, [
                        (right * N, "dx is not divided by N: the loss is a mean over the batch."),
                        (right / dout if dout != 1.0 else None, "dout is ignored: multiply by it."),
                        (onehot - y, "The sign is wrong: dx = dout * (y - onehot(t)) / N.")]),
                    hint="dx = dout * (y - onehot(t)) / N.")


# ----------------------------------------------------------------------------- the network

def _net_cases():
    for case in cases(load_references(ASSIGNMENT), "net"):
        filter_num, filter_size, pad, stride = (int(v) for v in case["conv"])
        hidden, output = (int(v) for v in case["sizes"])
        conv_param = {"filter_num": filter_num, "filter_size": filter_size, "pad": pad, "stride": stride}
        input_dim = tuple(int(v) for v in case["input_dim"])
        name = (f"SimpleConvNet(input_dim={input_dim}, filter_num {filter_num}, filter_size "
                f"{filter_size}, pad {pad}, stride {stride}, hidden_size {hidden}, output_size {output})")
        yield case, input_dim, conv_param, hidden, output, name


def _build(SimpleConvNet, input_dim, conv_param, hidden, output, what, seed=3, std=0.05):
    with library_convolutions_forbidden("SimpleConvNet", SimpleConvNet):
        return call_student(SimpleConvNet, input_dim, dict(conv_param), hidden, output, std, seed,
                            what=f"{what} (weight_init_std={std}, seed={seed})")


def _load_case_params(net, case, what):
    """Copy the reference parameters into net.params, in place (the layers share them)."""
    params = getattr(net, "params", None)
    if not isinstance(params, dict) or sorted(params) != PARAM_KEYS:
        raise CheckFailed(f"{what}: net.params must be a dict with the keys {PARAM_KEYS}.")
    for key in PARAM_KEYS:
        if getattr(params[key], "shape", None) != case[key].shape:
            raise CheckFailed(f"{what}: net.params[{key!r}] has shape {getattr(params[key], 'shape', None)}, "
                              f"expected {case[key].shape}.\n  Hint: compute the sizes from both the "
                              "height and the width of input_dim, with //.")
        params[key][...] = case[key]


def check_simple_conv_net(SimpleConvNet):
    """Construction (shapes, initialisation, layers sharing params), predict, loss, accuracy."""
    for case, input_dim, conv_param, hidden, output, name in _net_cases():
        what = f"hidden test: {name}"
        net = _build(SimpleConvNet, input_dim, conv_param, hidden, output, what)
        params = getattr(net, "params", None)
        if not isinstance(params, dict):
            raise CheckFailed(f"{what}: net.params is {type(params).__name__}; it should be a dict.")
        check_equal(sorted(params), PARAM_KEYS, f"{what}: the keys of net.params")
        for key in PARAM_KEYS:
            check_equal(getattr(params[key], "shape", None), case[key].shape, f"{what}: net.params[{key!r}].shape",
                        reveal=False, hint="Compute the sizes from both the height and the width of "
                                           "input_dim, with integer arithmetic (//).")
            check_equal(str(params[key].dtype), "float64", f"{what}: net.params[{key!r}].dtype")
        for key in ("b1", "b2", "b3"):
            check_equal(float(np.abs(params[key]).max()), 0.0, f"{what}: the largest |{key}|",
                        hint="Biases start at 0.")
        check_close(params["W2"].std(), 0.05, f"{what}, weight_init_std=0.05: the standard deviation of W2",
                    rtol=0.3, hint="weight_init_std * rng.standard_normal(shape)")
        again = _build(SimpleConvNet, input_dim, conv_param, hidden, output, what)
        other = _build(SimpleConvNet, input_dim, conv_param, hidden, output, what, seed=4)
        check_array(again.params["W1"], params["W1"], f"{what}: W1 of two networks built with seed=3",
                    hint="Draw from rng = np.random.default_rng(seed).")
        if np.array_equal(other.params["W2"], params["W2"]):
            raise CheckFailed(f"{what}: seed=3 and seed=4 give the same W2.\n  Hint: draw from "
                              "rng = np.random.default_rng(seed), not from a fixed generator.")
        layers = getattr(net, "layers", None)
        check_equal(list(layers) if hasattr(layers, "keys") else None,
                    ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"], f"{what}: the keys of net.layers")
        for layer_name, attr, key in [("Conv1", "W", "W1"), ("Conv1", "b", "b1"), ("Affine1", "W", "W2"),
                                      ("Affine1", "b", "b2"), ("Affine2", "W", "W3"), ("Affine2", "b", "b3")]:
            check_equal(getattr(layers[layer_name], attr, None) is params[key], True,
                        f"{what}: net.layers[{layer_name!r}].{attr} is net.params[{key!r}]",
                        hint="Give the layers the arrays of self.params themselves, not copies.")

        _load_case_params(net, case, what)
        x, t = case["x"], case["t"]
        with library_convolutions_forbidden("SimpleConvNet", SimpleConvNet):
            scores = call_student(net.predict, x.copy(), what=f"{what}: predict(x {x.shape})")
            loss = call_student(net.loss, x.copy(), t.copy(), what=f"{what}: loss(x, t)")
            accuracy = call_student(net.accuracy, x.copy(), t.copy(), what=f"{what}: accuracy(x, t)")
        check_array(scores, case["scores"], f"{what}, random parameters: predict(x {x.shape})", reveal=False,
                    hint="Run x through the layers of net.layers in order.")
        check_close(loss, float(case["loss"]), f"{what}, random parameters: loss(x, t)", reveal=False,
                    hint="net.last_layer.forward(net.predict(x), t)")
        right = float(np.mean(case["scores"].argmax(axis=1) == t))
        check_close(accuracy, right, f"{what}, random parameters: accuracy(x, t)", reveal=False,
                    hint="The fraction of images whose largest score is at t.")


def _gradient_mistake(net, x, t, key, got):
    """Say whether got disagrees with the slope of the student's own loss."""
    if not isinstance(got, np.ndarray) or got.shape != net.params[key].shape:
        return None
    try:
        report = gradient_report(lambda _: np.asarray(net.loss(x, t), dtype=np.float64),
                                 net.params[key], np.array(1.0), got.astype(np.float64), name=key)
    except Exception:
        return None
    if report.ok:
        return (f"{key} matches the slope of your own loss, so the loss itself differs from the "
                "right one: see the SimpleConvNet tests.")
    return (f"{key} does not match the slope of your own loss (numeric gradient): the backward "
            "pass is wired wrong. Check the reverse order of the layers and which layer's dW or "
            "db goes into which key.")


def check_network_gradient(SimpleConvNet):
    """SimpleConvNet.gradient against torch autograd on the hidden configurations."""
    for case, input_dim, conv_param, hidden, output, name in _net_cases():
        what = f"hidden test: {name}"
        net = _build(SimpleConvNet, input_dim, conv_param, hidden, output, what)
        _load_case_params(net, case, what)
        x, t = case["x"], case["t"]
        with library_convolutions_forbidden("SimpleConvNet", SimpleConvNet):
            grads = call_student(net.gradient, x.copy(), t.copy(), what=f"{what}: gradient(x, t)")
        if not isinstance(grads, dict):
            raise CheckFailed(f"{what}: gradient(x, t) returned {type(grads).__name__}; it should "
                              "return a dict with the keys of params.")
        check_equal(sorted(grads), PARAM_KEYS, f"{what}: the keys of gradient(x, t)")
        for key in PARAM_KEYS:
            got = grads[key]
            check_array(got, case[f"grad_{key}"], f"{what}, random parameters: gradient(x, t)[{key!r}]",
                        reveal=False, diagnose=lambda g, key=key: _gradient_mistake(net, x, t, key, g),
                        hint="Compare with a numeric gradient of net.loss, as in section 4.")


# ----------------------------------------------------------------------------- sizes

def check_pool_output_units(pool_output_units):
    """pool_output_units(input_size, filter_size, pad, stride, filter_num) on every reference case."""
    for row in load_references(ASSIGNMENT)["pool_units/cases"]:
        args, expected = tuple(int(v) for v in row[:5]), int(row[5])
        what = f"hidden test: pool_output_units{args}"
        if expected < 0:
            check_raises(lambda: pool_output_units(*args), ValueError, what,
                         hint="Raise when the filter is larger than the padded input, when the "
                              "windows do not tile it, or when the convolution output is odd.")
            continue
        got = call_student(pool_output_units, *args, what=what)
        check_equal(got, expected, what, reveal=False,
                    hint="conv size (input_size + 2*pad - filter_size) // stride + 1, halved by "
                         "the pooling, squared, times filter_num.")


# ----------------------------------------------------------------------------- training

class _SoftmaxRegression:
    """A stand-in network for `train`: scores = x.reshape(N, -1) @ W + b, mean cross-entropy.
    It has params, gradient, loss and accuracy (what train may use), and predict."""

    def __init__(self, inputs, classes, seed):
        rng = np.random.default_rng(seed)
        self.params = {"W": 0.01 * rng.standard_normal((inputs, classes)), "b": np.zeros(classes)}

    def predict(self, x):
        return x.reshape(len(x), -1) @ self.params["W"] + self.params["b"]

    def _probabilities(self, x):
        scores = self.predict(x)
        z = scores - scores.max(axis=1, keepdims=True)
        return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)

    def loss(self, x, t):
        y = self._probabilities(x)
        return float(-np.mean(np.log(y[np.arange(len(t)), t])))

    def accuracy(self, x, t):
        return float(np.mean(self._probabilities(x).argmax(axis=1) == t))

    def gradient(self, x, t):
        y = self._probabilities(x)
        y[np.arange(len(t)), t] -= 1
        y /= len(t)
        return {"W": x.reshape(len(x), -1).T @ y, "b": y.sum(axis=0)}


def _reference_steps(net, x, t, optimizer, lr, steps):
    """The parameters after `steps` full-batch updates of the optimizer (on copies)."""
    params = {key: value.copy() for key, value in net.params.items()}
    probe = _SoftmaxRegression(1, 1, 0)
    probe.params = params
    first = {key: np.zeros_like(p) for key, p in params.items()}
    second = {key: np.zeros_like(p) for key, p in params.items()}
    for k in range(1, steps + 1):
        grads = probe.gradient(x, t)
        for key, p in params.items():
            g = grads[key]
            if optimizer == "sgd":
                p -= lr * g
            elif optimizer == "momentum":
                first[key] = 0.9 * first[key] - lr * g
                p += first[key]
            else:
                first[key] = 0.9 * first[key] + 0.1 * g
                second[key] = 0.999 * second[key] + 0.001 * g ** 2
                p -= lr * (first[key] / (1 - 0.9 ** k)) / (np.sqrt(second[key] / (1 - 0.999 ** k)) + 1e-8)
    return params


_STEP_HINTS = {
    "sgd": "p -= lr * g.",
    "momentum": "v = 0.9 * v - lr * g, then p += v; one v per parameter array, starting at 0.",
    "adam": ("m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g**2, m_hat = m / (1 - 0.9**k), "
             "v_hat = v / (1 - 0.999**k) with k = 1 at the first update, "
             "p -= lr * m_hat / (sqrt(v_hat) + 1e-8)."),
}


def _run(train, net, data, what, **kwargs):
    x_train, t_train, x_test, t_test = data
    with library_convolutions_forbidden("train", train):
        history = call_student(train, net, x_train, t_train, x_test, t_test, kwargs["num_epochs"],
                               kwargs["batch_size"], kwargs["lr"], kwargs["optimizer"], kwargs["seed"],
                               what=what)
    if not isinstance(history, dict):
        raise CheckFailed(f"{what}: returned {type(history).__name__}; it should return the history dict.")
    return history


def check_train(train):
    """train(...) on a softmax-regression stand-in network and a fixed subset of the digits."""
    x, t = load_digits(limit=150)
    x = x.astype(np.float64)
    data = (x[:100], t[:100], x[100:], t[100:])
    for optimizer, lr in (("adam", 0.05), ("momentum", 0.1), ("sgd", 0.5)):
        settings = dict(num_epochs=4, batch_size=16, lr=lr, optimizer=optimizer, seed=5)
        what = (f"hidden test: train(a softmax-regression network, 100 digits, num_epochs=4, "
                f"batch_size=16, lr={lr}, optimizer={optimizer!r})")
        net = _SoftmaxRegression(64, 10, seed=1)
        arrays = dict(net.params)
        start = net.loss(x[:100], t[:100])
        history = _run(train, net, data, what, **settings)
        check_equal(sorted(history), ["test_acc", "test_loss", "train_acc", "train_loss"],
                    f"{what}: the keys of the history")
        for key, values in history.items():
            check_equal(len(values), 4, f"{what}: len(history[{key!r}])", hint="One value per epoch.")
            if not np.all(np.isfinite(np.asarray(values, dtype=float))):
                raise CheckFailed(f"{what}: history[{key!r}] holds a value that is not a finite number.")
        for key, array in arrays.items():
            check_equal(net.params[key] is array, True, f"{what}: net.params[{key!r}] is the array it was",
                        hint="Update the parameters in place (p -= ...), so the layers see the change.")
        if not history["train_loss"][-1] < start - 0.1:
            raise CheckFailed(f"{what}: the training loss went from {start:.4f} to "
                              f"{history['train_loss'][-1]:.4f}; it should fall.\n  Hint: "
                              f"{_STEP_HINTS[optimizer]}")
        for part, (xs, ts) in (("train", data[:2]), ("test", data[2:])):
            check_close(history[f"{part}_loss"][-1], net.loss(xs, ts), f"{what}: history['{part}_loss'][-1]",
                        reveal=False, hint=f"After each epoch, the loss on the whole {part} set.")
            check_close(history[f"{part}_acc"][-1], net.accuracy(xs, ts), f"{what}: history['{part}_acc'][-1]",
                        reveal=False, hint=f"After each epoch, the accuracy on the whole {part} set.")
        again = _run(train, _SoftmaxRegression(64, 10, seed=1), data, what, **settings)
        check_array(np.asarray(again["train_loss"], dtype=float), np.asarray(history["train_loss"], dtype=float),
                    f"{what}, run twice: history['train_loss']",
                    hint="Shuffle with rng = np.random.default_rng(seed), created once per call.")

        # two epochs of one full batch: exactly two updates, whatever the order
        what = (f"hidden test: train(a softmax-regression network, 100 digits, num_epochs=2, "
                f"batch_size=100, lr={lr}, optimizer={optimizer!r})")
        net = _SoftmaxRegression(64, 10, seed=2)
        expected = _reference_steps(net, x[:100], t[:100], optimizer, lr, steps=2)
        _run(train, net, data, what, num_epochs=2, batch_size=100, lr=lr, optimizer=optimizer, seed=0)
        for key in ("W", "b"):
            check_array(net.params[key], expected[key], f"{what}: the parameter {key} after two updates",
                        reveal=False, rtol=1e-5, atol=1e-9, hint=_STEP_HINTS[optimizer])
    net = _SoftmaxRegression(64, 10, seed=1)
    check_raises(lambda: train(net, *data, 1, 16, 0.1, "adagrad", 0), ValueError,
                 "hidden test: train(..., optimizer='adagrad')")


# ----------------------------------------------------------------------------- save / load

class _ParamsNet:
    """A stand-in network: only a params dict, of several shapes."""

    SHAPES = {"W1": (3, 2, 3, 3), "b1": (3,), "W2": (12, 4), "b2": (4,)}

    def __init__(self, seed, shapes=None):
        rng = np.random.default_rng(seed)
        self.params = {key: rng.normal(size=shape) for key, shape in (shapes or self.SHAPES).items()}


def _write_npz(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def check_save_load(save_params, load_params):
    """Round trip through a path without the .npz ending; every broken file refused, unchanged."""
    with tempfile.TemporaryDirectory(prefix="a5_hidden_") as folder:
        _check_save_load(save_params, load_params, pathlib.Path(folder))


def _check_save_load(save_params, load_params, folder):
    net = _ParamsNet(seed=0)
    path = folder / "weights.params"
    call_student(save_params, net, str(path), what="hidden test: save_params(net, 'weights.params')")
    if not path.exists():
        raise CheckFailed("hidden test: save_params(net, 'weights.params') wrote no file at that path.\n"
                          "  Hint: np.savez adds .npz to a name without it; open the path yourself "
                          "with open(path, 'wb') and pass the file to np.savez.")
    try:
        with np.load(path, allow_pickle=False) as data:
            saved = {key: data[key] for key in data.files}
    except Exception as err:
        raise CheckFailed(f"hidden test: the file save_params wrote cannot be read with "
                          f"np.load(path, allow_pickle=False): {err}") from None
    check_equal(sorted(saved), sorted(net.params), "hidden test: the arrays in the file save_params wrote")
    for key, value in net.params.items():
        check_array(saved[key], value, f"hidden test: the array {key!r} in the file save_params wrote")

    fresh = _ParamsNet(seed=1)
    arrays = dict(fresh.params)
    call_student(load_params, fresh, str(path), what="hidden test: load_params(net, 'weights.params')")
    for key, value in net.params.items():
        check_array(fresh.params[key], value, f"hidden test: net.params[{key!r}] after load_params")
        check_equal(fresh.params[key] is arrays[key], True,
                    f"hidden test: net.params[{key!r}] is the same array after load_params",
                    hint="Copy into the existing arrays, net.params[key][...] = loaded[key].")

    good = {key: value.copy() for key, value in net.params.items()}
    broken = {
        "an empty file": b"",
        "a text file": b"W1,b1,W2,b2\n1,2,3,4\n",
        "a file cut after 200 bytes": path.read_bytes()[:200],
        "a file cut 40 bytes before its end": path.read_bytes()[:-40],
    }
    arrays_files = {
        "a file without the array 'b2'": {k: v for k, v in good.items() if k != "b2"},
        "a file with an extra array 'W3'": {**good, "W3": np.ones((4, 2))},
        "a file whose 'b2' has shape (5,)": {**good, "b2": np.ones(5)},
        "a file whose 'W2' is float32": {**good, "W2": good["W2"].astype(np.float32)},
        "a file of another network": {k: np.ones(tuple(s + 1 for s in v.shape)) for k, v in good.items()},
        "a file holding a pickled object array": {**good, "b2": np.array([None, 1, "a", 2.0], dtype=object)},
    }
    files = {}
    for label, content in broken.items():
        files[label] = folder / f"broken_{len(files)}.npz"
        files[label].write_bytes(content)
    for label, content in arrays_files.items():
        files[label] = folder / f"broken_{len(files)}.npz"
        _write_npz(files[label], content)
    for label, file in files.items():
        target = _ParamsNet(seed=2)
        before = {key: value.copy() for key, value in target.params.items()}
        what = f"hidden test: load_params(net, {label})"
        check_raises(lambda: load_params(target, str(file)), ValueError, what,
                     hint="Read with np.load(path, allow_pickle=False) inside try/except and raise "
                          "ValueError; then compare keys, shapes and dtypes with net.params.")
        for key, value in before.items():
            check_array(target.params[key], value, f"{what}: net.params[{key!r}] after the failed load",
                        hint="Check the whole file before you copy anything into the network.")
