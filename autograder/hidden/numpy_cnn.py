"""Hidden tests of 05-numpy-cnn, judged outside the kernel (autograder.hidden.spec): the layers
as objects, spatial batch normalisation (forward in both modes, running statistics, backward on
the student's own caches), SimpleConvNet and its gradient, he_init, pool_output_units, train and
save/load.

In the kernel a check builds the student's object, runs it on a case's inputs and records plain
data only (a dict of what came back, step by step): the outputs, the gradients a layer stored
(layer.dW, layer.db, read after backward), the parameters a network holds, facts about the
student's objects only the kernel can see, taken as a bool (does net.layers['Conv1'].W *be*
net.params['W1'], is a parameter still the array it was after train or load_params), and, when
the student's code raised at a step, the message of that error (later steps are not run). The
judge compares with the torch references (autograder/cases/numpy_cnn.py) and names the
mistake (course.diagnose_layers, imported only when a case fails).

Batch normalisation is written with NumPy alone: its hidden tests refuse, in the kernel and
before any case, a function that can reach torch (course.diagnose_layers.torch_use), besides the
library convolutions and course helpers every forbid_library check refuses. he_init's draws are
compared with those of np.random.default_rng(seed), scaled by torch's He spread.

`train` and save/load run on small stand-in networks built here, so that a mistake in the
student's SimpleConvNet does not cost those points again; the kernel records the history and
the parameters afterwards, and the judge recomputes what they are compared with from the
cases' inputs (the digits, the stand-ins' seeds).
"""
import pathlib
import tempfile

import numpy as np

from course.checks import CheckFailed, check_array, check_close, check_equal, check_shape

from autograder.hidden.record import Unsupported
from autograder.hidden.spec import (Check, first_of_pair, function_name, lazy, runner, unpack,
                                    unpack_pair)
from autograder.hidden.steps import (Stop, failure, frozen, kind_of, layer_check, message_of,
                                     must_raise, outcome, plain, record_step, recorded,
                                     refusal_check, result_of)

ASSIGNMENT = "05-numpy-cnn"
PARAM_KEYS = ["W1", "W2", "W3", "b1", "b2", "b3"]
HISTORY_KEYS = ["test_acc", "test_loss", "train_acc", "train_loss"]
conv_forward_mistake = lazy("course.diagnose_layers", "conv_forward_mistake")
conv_backward_mistake = lazy("course.diagnose_layers", "conv_backward_mistake")
pool_forward_mistake = lazy("course.diagnose_layers", "pool_forward_mistake")
max_pool_backward_mistake = lazy("course.diagnose_layers", "max_pool_backward_mistake")
batchnorm_forward_mistake = lazy("course.diagnose_layers", "batchnorm_forward_mistake")
batchnorm_running_mistake = lazy("course.diagnose_layers", "batchnorm_running_mistake")
batchnorm_backward_mistake = lazy("course.diagnose_layers", "batchnorm_backward_mistake")
he_init_mistake = lazy("course.diagnose_layers", "he_init_mistake")
torch_use = lazy("course.diagnose_layers", "torch_use")


def _params_of(net):
    """net.params as plain data (the dict read with dict's own methods), or what it is."""
    return frozen(getattr(net, "params", None))


def _param(net, key):
    params = getattr(net, "params", None)
    if isinstance(params, dict) and key in list(dict.__iter__(params)):
        return frozen(dict.__getitem__(params, key))
    return None


def _is_param(net, key, array):
    """True when net.params[key] is `array` itself."""
    try:
        params = net.params
        return isinstance(params, dict) and dict.__getitem__(params, key) is array
    except Exception:
        return False


def _what(fn, exercise, text):
    return f"hidden test: {function_name(fn, exercise)}{text}"



def _stored(value, name, what):
    """layer.<name> as recorded after backward, which must be a NumPy array."""
    if not isinstance(value, np.ndarray):
        kind = (f"{value!r} (np.ndarray itself, not a subclass of it)" if isinstance(value, Unsupported)
                else type(value).__name__)
        raise CheckFailed(f"{what}: after backward, layer.{name} is {kind}.\n"
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


# ----------------------------------------------------------------------------- Convolution

def _stride_pad(case):
    return tuple(int(v) for v in case["stride_pad"])


def _conv_what(case):
    x, W = case["x"], case["W"]
    stride, pad = _stride_pad(case)
    dtype = ", float32" if x.dtype == np.float32 else ""
    return f"(W {W.shape}, b, stride={stride}, pad={pad}) on x {x.shape}{dtype}"


def _record_conv(fn, c, record):
    what = _what(fn, "Convolution", _conv_what(c))
    layer = record_step(record, None, lambda: fn(c["W"].copy(), c["b"].copy(), *_stride_pad(c)), what)
    record_step(record, "out", lambda: layer.forward(c["x"].copy()), f"{what}: forward(x)")
    record_step(record, "dx", lambda: layer.backward(c["dout"].copy()), f"{what}: backward(dout)")
    record["dW"], record["db"] = frozen(getattr(layer, "dW", None)), frozen(getattr(layer, "db", None))


def _judge_conv(got, case, ref, what):
    x, W, b, dout = case["x"], case["W"], case["b"], case["dout"]
    stride, pad = _stride_pad(case)
    conv_param = {"stride": stride, "pad": pad}
    forward = f"{what}: forward(x)"
    check_array(plain(recorded(got, "out", what), forward), ref["out"], forward, reveal=False, rtol=1e-5,
                diagnose=lambda out: conv_forward_mistake(out, x, W, b, conv_param),
                hint="Compare your output with F.conv2d on this shape, stride and padding.")
    dx = recorded(got, "dx", what)
    dW, db = _stored(got.get("dW"), "dW", what), _stored(got.get("db"), "db", what)

    def mistake(_):
        return conv_backward_mistake(dx, dW, db, x, W, b, conv_param, dout)

    for answer, label in ((db, "db"), (dW, "dW")):
        check_array(answer, ref[label], f"{what}: layer.{label} after backward(dout)", reveal=False,
                    rtol=1e-5, diagnose=mistake,
                    hint="Check this shape, stride and padding against the formulas of notebook 03.")
    backward = f"{what}: dx = backward(dout)"
    check_array(plain(dx, backward), ref["dx"], backward, reveal=False, rtol=1e-5, diagnose=mistake,
                hint="dx has the shape of x; cut the padding off at the end.")


def _record_conv_refused(fn, c, record):
    W_shape = tuple(int(v) for v in c["W_shape"])
    what = _what(fn, "Convolution", _conv_refused_what(c))
    layer = record_step(record, None, lambda: fn(np.ones(W_shape), np.zeros(W_shape[0]), *_stride_pad(c)), what)
    return layer.forward(np.ones(tuple(int(v) for v in c["x_shape"])))


def _conv_refused_what(case):
    stride, pad = _stride_pad(case)
    return (f"(W {tuple(int(v) for v in case['W_shape'])}, b, stride={stride}, pad={pad})"
            f".forward(x {tuple(int(v) for v in case['x_shape'])})")


# ----------------------------------------------------------------------------- ReLU, Affine

def _record_relu(fn, c, record):
    what = _what(fn, "ReLU", _relu_what(c))
    x_in, dout_in = c["x"].copy(), c["dout"].copy()
    layer = record_step(record, None, fn, what)
    record_step(record, "out", lambda: layer.forward(x_in), f"{what}: forward(x)")
    record_step(record, "dx", lambda: layer.backward(dout_in), f"{what}: backward(dout)")
    record["x_after"], record["dout_after"] = x_in.copy(), dout_in.copy()


def _relu_what(case):
    return f"() on x {case['x'].shape}"


def _judge_relu(got, case, ref, what):
    x, dout = case["x"], case["dout"]
    forward, backward = f"{what}: forward(x)", f"{what}: dx = backward(dout)"
    check_array(plain(recorded(got, "out", what), forward), ref["out"], forward, reveal=False,
                hint="np.maximum(x, 0)")
    check_array(plain(recorded(got, "dx", what), backward), ref["dx"], backward, reveal=False,
                diagnose=lambda dx: _first_named(dx, [(dout, "dx is dout everywhere: it must be 0 "
                                                             "where the input x was not positive.")]),
                hint="dx is dout where x > 0 and 0 elsewhere.")
    check_array(got.get("x_after"), x, f"x after {what}", hint="Copy x before you set entries to 0.")
    check_array(got.get("dout_after"), dout, f"dout after {what}", hint="Copy dout before you set entries to 0.")


def _record_affine(fn, c, record):
    what = _what(fn, "Affine", _affine_what(c))
    layer = record_step(record, None, lambda: fn(c["W"].copy(), c["b"].copy()), what)
    record_step(record, "out", lambda: layer.forward(c["x"].copy()), f"{what}: forward(x)")
    record_step(record, "dx", lambda: layer.backward(c["dout"].copy()), f"{what}: backward(dout)")
    record["dW"], record["db"] = frozen(getattr(layer, "dW", None)), frozen(getattr(layer, "db", None))


def _affine_what(case):
    return f"(W {case['W'].shape}, b) on x {case['x'].shape}"


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


def _judge_affine(got, case, ref, what):
    x, W, dout = case["x"], case["W"], case["dout"]
    forward = f"{what}: forward(x)"
    check_array(plain(recorded(got, "out", what), forward), ref["out"], forward, reveal=False,
                hint="Flatten with x.reshape(N, -1) (also when N is 1), then x_flat @ W + b.")
    dx = recorded(got, "dx", what)
    dW, db = _stored(got.get("dW"), "dW", what), _stored(got.get("db"), "db", what)

    def mistake(_):
        return _affine_mistake(dx, dW, db, x, W, dout)

    check_array(db, ref["db"], f"{what}: layer.db after backward(dout)", reveal=False,
                diagnose=mistake, hint="db = dout.sum(axis=0), shape (M,).")
    check_array(dW, ref["dW"], f"{what}: layer.dW after backward(dout)", reveal=False,
                diagnose=mistake, hint="dW = x_flat.T @ dout, shape (D, M).")
    backward = f"{what}: dx = backward(dout)"
    check_array(plain(dx, backward), ref["dx"], backward, reveal=False,
                diagnose=mistake, hint="dx = dout @ W.T, reshaped to the shape of x.")


# ----------------------------------------------------------------------------- MaxPooling

def _pool(case):
    return tuple(int(v) for v in case["pool"])


def _pool_what(case):
    x = case["x"]
    ph, pw, stride = _pool(case)
    ties = ", small integers (tied maxima)" if np.all(x == np.round(x)) else ""
    return f"({ph}, {pw}, stride={stride}) on x {x.shape}{ties}"


def _record_pool(fn, c, record):
    what = _what(fn, "MaxPooling", _pool_what(c))
    layer = record_step(record, None, lambda: fn(*_pool(c)), what)
    record_step(record, "out", lambda: layer.forward(c["x"].copy()), f"{what}: forward(x)")
    record_step(record, "dx", lambda: layer.backward(c["dout"].copy()), f"{what}: backward(dout)")


def _judge_pool(got, case, ref, what):
    x, dout = case["x"], case["dout"]
    ph, pw, stride = _pool(case)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    forward, backward = f"{what}: forward(x)", f"{what}: dx = backward(dout)"
    out = recorded(got, "out", what)
    check_array(plain(out, forward), ref["out"], forward, reveal=False,
                diagnose=lambda got_out: pool_forward_mistake(got_out, x, pool_param, "max"),
                hint="Compare your output with F.max_pool2d on this shape, window and stride.")
    check_array(plain(recorded(got, "dx", what), backward), ref["dx"], backward, reveal=False,
                diagnose=lambda dx: max_pool_backward_mistake(dx, x, pool_param, dout),
                hint="Each dout value goes to the first maximum of its window (np.argmax's "
                     "choice); add where windows overlap.")


def _record_pool_refused(fn, c, record):
    what = _what(fn, "MaxPooling", _pool_refused_what(c))
    layer = record_step(record, None, lambda: fn(*_pool(c)), what)
    return layer.forward(np.zeros(tuple(int(v) for v in c["x_shape"])))


def _pool_refused_what(case):
    ph, pw, stride = _pool(case)
    return f"({ph}, {pw}, stride={stride}).forward(x {tuple(int(v) for v in case['x_shape'])})"


# ----------------------------------------------------------------------------- SoftmaxWithLoss

def _softmax_what(case):
    size = "large " if np.abs(case["x"]).max() > 100 else ""
    return f"() on {size}scores {case['x'].shape}"


def _softmax_call(dout):
    return "backward()" if dout == 1.0 else f"backward({dout})"


def _record_softmax(fn, c, record):
    what = _what(fn, "SoftmaxWithLoss", _softmax_what(c))
    dout = float(c["dout"])
    layer = record_step(record, None, fn, what)
    record_step(record, "loss", lambda: layer.forward(c["x"].copy(), c["t"].copy()), f"{what}: forward(x, t)")
    record_step(record, "dx", lambda: layer.backward(*(() if dout == 1.0 else (dout,))),
          f"{what}: {_softmax_call(dout)}")


def _softmax_parts(x, t):
    z = x - x.max(axis=1, keepdims=True)
    y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(x.shape[1])[t]
    return y, onehot


def _judge_softmax(got, case, ref, what):
    x, t, dout = case["x"], case["t"], float(case["dout"])
    forward = f"{what}: forward(x, t)"
    loss = plain(recorded(got, "loss", what), forward)
    y, onehot = _softmax_parts(x, t)
    N = x.shape[0]
    if isinstance(loss, np.ndarray) and loss.ndim == 0:
        loss = loss[()]
    capped = -np.mean(np.log(y[np.arange(N), t] + 1e-7))
    named = None
    if isinstance(loss, (float, np.floating)) and np.isfinite(loss):
        if np.isclose(loss, N * float(ref["loss"])) and N > 1:
            named = "The loss is summed over the batch; it must be the mean (divide by N)."
        elif np.isclose(loss, capped) and not np.isclose(capped, float(ref["loss"])):
            named = ("log(y + 1e-7) caps the loss of a class with a tiny probability; use "
                     "log-probabilities z - log(sum(exp(z))) with z = x - max.")
    check_close(loss, float(ref["loss"]), forward, reveal=False,
                hint=named or "The mean over the batch of -log softmax(x)[n, t[n]]; subtract "
                              "the row maximum and use log-probabilities.")
    backward = f"{what}: dx = {_softmax_call(dout)}"
    right = dout * (y - onehot) / N
    check_array(plain(recorded(got, "dx", what), backward), ref["dx"], backward, reveal=False,
                diagnose=lambda dx: _first_named(dx, [
                    (right * N, "dx is not divided by N: the loss is a mean over the batch."),
                    (right / dout if dout != 1.0 else None, "dout is ignored: multiply by it."),
                    (onehot - y, "The sign is wrong: dx = dout * (y - onehot(t)) / N.")]),
                hint="dx = dout * (y - onehot(t)) / N.")


# ----------------------------------------------------------------------------- SimpleConvNet

def _net_args(case):
    filter_num, filter_size, pad, stride = (int(v) for v in case["conv"])
    hidden, output = (int(v) for v in case["sizes"])
    conv_param = {"filter_num": filter_num, "filter_size": filter_size, "pad": pad, "stride": stride}
    return tuple(int(v) for v in case["input_dim"]), conv_param, hidden, output


def _net_what(case):
    input_dim, p, hidden, output = _net_args(case)
    return (f"(input_dim={input_dim}, filter_num {p['filter_num']}, filter_size {p['filter_size']}, "
            f"pad {p['pad']}, stride {p['stride']}, hidden_size {hidden}, output_size {output})")


def _build(record, fn, case, what, seed=3, std=0.05):
    input_dim, conv_param, hidden, output = _net_args(case)
    return record_step(record, None, lambda: fn(input_dim, dict(conv_param), hidden, output, std, seed),
                 f"{what} (weight_init_std={std}, seed={seed})")


def _load_case_params(net, case, record, what):
    """Copy the case's parameters into net.params, in place (the layers share them); when
    that cannot be done the judge has found why already (net.params as recorded)."""
    try:
        params = net.params
        ok = isinstance(params, dict) and sorted(dict.__iter__(params)) == PARAM_KEYS
        for key in PARAM_KEYS if ok else ():
            value = dict.__getitem__(params, key)
            ok = ok and type(value) is np.ndarray and value.shape == case[key].shape
        if ok:
            for key in PARAM_KEYS:
                dict.__getitem__(params, key)[...] = case[key]
            return
    except Exception:  # the student's net.params is not what it should be
        pass
    record["failed"] = (f"{what}: the test could not copy its parameters into net.params in place "
                        "(net.params[key][...] = ...).")
    raise Stop


LAYER_PARAMS = [("Conv1", "W", "W1"), ("Conv1", "b", "b1"), ("Affine1", "W", "W2"),
                ("Affine1", "b", "b2"), ("Affine2", "W", "W3"), ("Affine2", "b", "b3")]


def _layer_keys(net):
    try:
        layers = getattr(net, "layers", None)
        return frozen(list(layers)) if hasattr(layers, "keys") else None
    except Exception:  # an object that cannot even list its keys
        return None


def _shares(net, layer_name, attr, key):
    """True when net.layers[layer_name].<attr> is net.params[key] itself."""
    try:
        return getattr(net.layers[layer_name], attr, None) is dict.__getitem__(net.params, key)
    except Exception:
        return False


def _record_net(fn, c, record):
    what = _what(fn, "SimpleConvNet", _net_what(c))
    net = _build(record, fn, c, what)
    record["params"] = _params_of(net)
    record["again_W1"] = _param(_build(record, fn, c, what), "W1")
    record["other_W2"] = _param(_build(record, fn, c, what, seed=4), "W2")
    record["layer_keys"] = _layer_keys(net)
    record["shared"] = [_shares(net, *names) for names in LAYER_PARAMS]
    _load_case_params(net, c, record, what)
    x, t = c["x"], c["t"]
    record_step(record, "scores", lambda: net.predict(x.copy()), f"{what}: predict(x {x.shape})")
    record_step(record, "loss", lambda: net.loss(x.copy(), t.copy()), f"{what}: loss(x, t)")
    record_step(record, "accuracy", lambda: net.accuracy(x.copy(), t.copy()), f"{what}: accuracy(x, t)")


def _judge_params(got, case, what):
    """The recorded net.params (a dict of arrays), or CheckFailed."""
    params = recorded(got, "params", what)
    if type(params) is not dict:
        raise CheckFailed(f"{what}: net.params is {kind_of(params)}; it should be a dict.")
    check_equal(sorted(params), PARAM_KEYS, f"{what}: the keys of net.params")
    for key in PARAM_KEYS:
        if isinstance(params[key], Unsupported):
            raise CheckFailed(f"{what}: net.params[{key!r}] is {params[key]!r}.\n  Hint: make every "
                              "parameter a NumPy array (np.ndarray itself, not a subclass of it).")
        check_equal(getattr(params[key], "shape", None), case[key].shape, f"{what}: net.params[{key!r}].shape",
                    reveal=False, hint="Compute the sizes from both the height and the width of "
                                       "input_dim, with integer arithmetic (//).")
        check_equal(str(params[key].dtype), "float64", f"{what}: net.params[{key!r}].dtype")
    return params


def _judge_net(got, case, ref, what):
    params = _judge_params(got, case, what)
    for key in ("b1", "b2", "b3"):
        check_equal(float(np.abs(params[key]).max()), 0.0, f"{what}: the largest |{key}|",
                    hint="Biases start at 0.")
    check_close(params["W2"].std(), 0.05, f"{what}, weight_init_std=0.05: the standard deviation of W2",
                rtol=0.3, hint="weight_init_std * rng.standard_normal(shape)")
    again = f"{what}: W1 of two networks built with seed=3"
    check_array(plain(recorded(got, "again_W1", what), again), params["W1"], again,
                hint="Draw from rng = np.random.default_rng(seed).")
    if np.array_equal(recorded(got, "other_W2", what), params["W2"]):
        raise CheckFailed(f"{what}: seed=3 and seed=4 give the same W2.\n  Hint: draw from "
                          "rng = np.random.default_rng(seed), not from a fixed generator.")
    check_equal(got.get("layer_keys"), ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"],
                f"{what}: the keys of net.layers")
    shared = got.get("shared")
    for k, (layer_name, attr, key) in enumerate(LAYER_PARAMS):
        check_equal(type(shared) is list and k < len(shared) and shared[k] is True, True,
                    f"{what}: net.layers[{layer_name!r}].{attr} is net.params[{key!r}]",
                    hint="Give the layers the arrays of self.params themselves, not copies.")

    x, t = case["x"], case["t"]
    predict = f"{what}, random parameters: predict(x {x.shape})"
    check_array(plain(recorded(got, "scores", what), predict), ref["scores"], predict, reveal=False,
                hint="Run x through the layers of net.layers in order.")
    loss = f"{what}, random parameters: loss(x, t)"
    check_close(plain(recorded(got, "loss", what), loss), float(ref["loss"]), loss, reveal=False,
                hint="net.last_layer.forward(net.predict(x), t)")
    accuracy = f"{what}, random parameters: accuracy(x, t)"
    right = float(np.mean(ref["scores"].argmax(axis=1) == t))
    check_close(plain(recorded(got, "accuracy", what), accuracy), right, accuracy, reveal=False,
                hint="The fraction of images whose largest score is at t.")


def _record_gradient(fn, c, record):
    what = _what(fn, "SimpleConvNet", _net_what(c))
    net = _build(record, fn, c, what)
    record["params"] = _params_of(net)
    _load_case_params(net, c, record, what)
    x, t = c["x"], c["t"]
    record_step(record, "grads", lambda: net.gradient(x.copy(), t.copy()), f"{what}: gradient(x, t)")
    try:  # the student's own loss here tells a wrong forward pass from a miswired backward one
        record["own_loss"] = frozen(net.loss(x.copy(), t.copy()))
    except Exception:
        record["own_loss"] = None


def _gradient_mistake(got, ref, key, grad):
    """Whether a wrong gradient comes with a wrong loss (forward) or a right one (backward)."""
    if not isinstance(grad, np.ndarray) or grad.shape != ref[f"grad_{key}"].shape:
        return None
    own = got.get("own_loss")
    if isinstance(own, np.ndarray) and own.size == 1:
        own = own.reshape(())[()]
    if not isinstance(own, (int, float, np.number)) or isinstance(own, bool) or not np.isfinite(own):
        return None
    if np.isclose(own, float(ref["loss"]), rtol=1e-6, atol=1e-9):
        return (f"Your loss(x, t) is right on this case but its gradient {key} is not: the backward "
                "pass is wired wrong. Check the reverse order of the layers and which layer's dW "
                "or db goes into which key.")
    return (f"Your loss(x, t) is already wrong on this case, so its gradient {key} cannot be right: "
            "fix the forward pass first (see the SimpleConvNet tests).")


def _judge_gradient(got, case, ref, what):
    params = recorded(got, "params", what)
    if type(params) is not dict or sorted(params) != PARAM_KEYS:
        raise CheckFailed(f"{what}: net.params must be a dict with the keys {PARAM_KEYS}.")
    for key in PARAM_KEYS:
        shape = getattr(params[key], "shape", None)
        if shape != case[key].shape:
            raise CheckFailed(f"{what}: net.params[{key!r}] has shape {shape}, expected "
                              f"{case[key].shape}.\n  Hint: compute the sizes from both the height "
                              "and the width of input_dim, with //.")
    call = f"{what}: gradient(x, t)"
    grads = recorded(got, "grads", what)
    if type(grads) is not dict:
        raise CheckFailed(f"{call} returned {kind_of(grads)}; it should return a dict with the keys "
                          "of params.")
    check_equal(sorted(grads), PARAM_KEYS, f"{what}: the keys of gradient(x, t)")
    for key in PARAM_KEYS:
        text = f"{what}, random parameters: gradient(x, t)[{key!r}]"
        check_array(plain(grads[key], text), ref[f"grad_{key}"], text, reveal=False,
                    diagnose=lambda g, key=key: _gradient_mistake(got, ref, key, g),
                    hint="Compare with a numeric gradient of net.loss, as in section 4.")


# ----------------------------------------------------------------------------- sizes

def _units_args(case):
    return tuple(int(v) for v in case["args"])


def _judge_units(got, case, ref, what):
    expected = int(ref["expected"])
    if expected < 0:
        must_raise(got, "ValueError", what, exercise="pool_output_units()",
                    hint="Raise when the filter is larger than the padded input, when the windows "
                         "do not tile it, or when the convolution output is odd.")
        return
    check_equal(got, expected, what, reveal=False,
                hint="conv size (input_size + 2*pad - filter_size) // stride + 1, halved by the "
                     "pooling, squared, times filter_num.")


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


def _stand_in(seed, params=None):
    net = _SoftmaxRegression(64, 10, seed=seed)
    if params is not None:
        net.params = params
    return net


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


def _train_data(case):
    x, t = case["x"].astype(np.float64), case["t"].astype(np.int64)
    return x[:100], t[:100], x[100:], t[100:]


def _train_what(case, num_epochs=4, batch_size=16):
    return (f"(a softmax-regression network, 100 digits, num_epochs={num_epochs}, "
            f"batch_size={batch_size}, lr={float(case['lr'])}, optimizer={str(case['optimizer'])!r})")


def _record_train(fn, c, record):
    data, optimizer, lr = _train_data(c), str(c["optimizer"]), float(c["lr"])
    what = _what(fn, "train", _train_what(c))
    net = _stand_in(seed=1)
    arrays = dict(net.params)
    record_step(record, "history", lambda: fn(net, *data, 4, 16, lr, optimizer, 5), what)
    record["params"] = _params_of(net)
    record["same_arrays"] = {key: _is_param(net, key, array) for key, array in arrays.items()}
    record_step(record, "again", lambda: fn(_stand_in(seed=1), *data, 4, 16, lr, optimizer, 5), what)
    # two epochs of one full batch: exactly two updates, whatever the order
    net = _stand_in(seed=2)
    record_step(record, None, lambda: fn(net, *data, 2, 100, lr, optimizer, 0),
          _what(fn, "train", _train_what(c, 2, 100)))
    record["two_updates"] = _params_of(net)


def _history(history, what):
    """The recorded history dict, or CheckFailed."""
    if type(history) is not dict:
        if isinstance(history, Unsupported):
            raise CheckFailed(f"{what}: returned {history!r}; it should return the history dict "
                              "(a dict itself, of lists of floats).")
        raise CheckFailed(f"{what}: returned {type(history).__name__}; it should return the history dict.")
    return history


def _floats(values, text, what):
    """values (a recorded list of numbers) as a float array, or CheckFailed."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what}: {text} holds a value that is not a plain number.\n  Hint: "
                          "append float(...) of each epoch's loss and accuracy.") from None


def _stand_in_params(params, what, text):
    """The recorded parameters of a stand-in network, as {W, b} arrays of their shapes."""
    if (type(params) is not dict or sorted(params) != ["W", "b"]
            or not all(isinstance(params[k], np.ndarray) for k in ("W", "b"))
            or params["W"].shape != (64, 10) or params["b"].shape != (10,)):
        raise CheckFailed(f"{what}: after train, net.params is not the dict of the arrays W (64, 10) "
                          f"and b (10,) it was ({text}).\n  Hint: update the arrays of net.params "
                          "in place (p -= ...); do not replace them or the dict.")
    return params


def _judge_train(got, case, ref, what):
    x_train, t_train, x_test, t_test = data = _train_data(case)
    optimizer, lr = str(case["optimizer"]), float(case["lr"])
    history = _history(recorded(got, "history", what), what)
    check_equal(sorted(history), HISTORY_KEYS, f"{what}: the keys of the history")
    for key, values in history.items():
        if isinstance(values, Unsupported):
            raise CheckFailed(f"{what}: history[{key!r}] is {values!r}; it should be a list of floats.")
        length = len(values) if type(values) in (list, tuple) or getattr(values, "ndim", 0) >= 1 else None
        check_equal(length, 4, f"{what}: len(history[{key!r}])", hint="One value per epoch.")
        if not np.all(np.isfinite(_floats(values, f"history[{key!r}]", what))):
            raise CheckFailed(f"{what}: history[{key!r}] holds a value that is not a finite number.")
    same = got.get("same_arrays")
    for key in ("W", "b"):
        check_equal(type(same) is dict and same.get(key) is True, True,
                    f"{what}: net.params[{key!r}] is the array it was",
                    hint="Update the parameters in place (p -= ...), so the layers see the change.")
    start = _stand_in(seed=1).loss(x_train, t_train)
    final = float(_floats(history["train_loss"], "history['train_loss']", what).reshape(4, -1)[-1, 0])
    if not final < start - 0.1:
        raise CheckFailed(f"{what}: the training loss went from {start:.4f} to {final:.4f}; it should "
                          f"fall.\n  Hint: {_STEP_HINTS[optimizer]}")
    trained = _stand_in(seed=1, params=_stand_in_params(got.get("params"), what, "after 4 epochs"))
    for part, (xs, ts) in (("train", (x_train, t_train)), ("test", (x_test, t_test))):
        check_close(history[f"{part}_loss"][-1], trained.loss(xs, ts), f"{what}: history['{part}_loss'][-1]",
                    reveal=False, hint=f"After each epoch, the loss on the whole {part} set.")
        check_close(history[f"{part}_acc"][-1], trained.accuracy(xs, ts), f"{what}: history['{part}_acc'][-1]",
                    reveal=False, hint=f"After each epoch, the accuracy on the whole {part} set.")
    again = _history(recorded(got, "again", what), what)
    twice = f"{what}, run twice: history['train_loss']"
    check_array(_floats(again.get("train_loss"), "history['train_loss']", what),
                _floats(history["train_loss"], "history['train_loss']", what), twice,
                hint="Shuffle with rng = np.random.default_rng(seed), created once per call.")

    what = what.split("(")[0] + _train_what(case, 2, 100)
    expected = _reference_steps(_stand_in(seed=2), x_train, t_train, optimizer, lr, steps=2)
    updated = _stand_in_params(recorded(got, "two_updates", what), what, "after two updates")
    for key in ("W", "b"):
        check_array(updated[key], expected[key], f"{what}: the parameter {key} after two updates",
                    reveal=False, rtol=1e-5, atol=1e-9, hint=_STEP_HINTS[optimizer])


def _record_train_refused(fn, c, record):
    return fn(_stand_in(seed=1), *_train_data(c), 1, 16, 0.1, str(c["optimizer"]), 0)


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


SAVE_WHAT = "(net, 'weights.params')"
BROKEN_FILES = ["an empty file", "a text file", "a file cut after 200 bytes",
                "a file cut 40 bytes before its end", "a file without the array 'b2'",
                "a file with an extra array 'W3'", "a file whose 'b2' has shape (5,)",
                "a file whose 'W2' is float32", "a file of another network",
                "a file holding a pickled object array"]


def _broken_files(folder, good_path):
    """{label: path} of every file of BROKEN_FILES, written into folder."""
    good = _ParamsNet(seed=0).params
    content = good_path.read_bytes()
    raw = {"an empty file": b"", "a text file": b"W1,b1,W2,b2\n1,2,3,4\n",
           "a file cut after 200 bytes": content[:200],
           "a file cut 40 bytes before its end": content[:-40]}
    arrays = {
        "a file without the array 'b2'": {k: v for k, v in good.items() if k != "b2"},
        "a file with an extra array 'W3'": {**good, "W3": np.ones((4, 2))},
        "a file whose 'b2' has shape (5,)": {**good, "b2": np.ones(5)},
        "a file whose 'W2' is float32": {**good, "W2": good["W2"].astype(np.float32)},
        "a file of another network": {k: np.ones(tuple(s + 1 for s in v.shape)) for k, v in good.items()},
        "a file holding a pickled object array": {**good, "b2": np.array([None, 1, "a", 2.0], dtype=object)},
    }
    files = {}
    for k, label in enumerate(BROKEN_FILES):
        files[label] = folder / f"broken_{k}.npz"
        if label in raw:
            files[label].write_bytes(raw[label])
        else:
            _write_npz(files[label], arrays[label])
    return files


def _record_save(fn, c, record):
    with tempfile.TemporaryDirectory(prefix="a5_hidden_") as folder:
        path = pathlib.Path(folder) / "weights.params"
        record_step(record, None, lambda: fn(_ParamsNet(seed=0), str(path)), _what(fn, "save_params", SAVE_WHAT))
        record["exists"] = path.is_file()
        if record["exists"]:
            try:
                with np.load(path, allow_pickle=False) as data:
                    record["saved"] = {key: data[key] for key in data.files}
            except Exception as err:  # what np.load says about the student's file
                record["unreadable"] = f"{type(err).__name__}: {message_of(err)}"


def _judge_save(got, case, ref, what):
    if not recorded(got, "exists", what):
        raise CheckFailed(f"{what} wrote no file at that path.\n  Hint: np.savez adds .npz to a name "
                          "without it; open the path yourself with open(path, 'wb') and pass the "
                          "file to np.savez.")
    if "unreadable" in got:
        raise CheckFailed(f"hidden test: the file save_params wrote cannot be read with "
                          f"np.load(path, allow_pickle=False): {got['unreadable']}")
    saved, net = recorded(got, "saved", what), _ParamsNet(seed=0)
    check_equal(sorted(saved), sorted(net.params), "hidden test: the arrays in the file save_params wrote")
    for key, value in net.params.items():
        text = f"hidden test: the array {key!r} in the file save_params wrote"
        check_array(plain(saved[key], text), value, text, reveal=False)


def _record_load(fn, c, record):
    with tempfile.TemporaryDirectory(prefix="a5_hidden_") as folder:
        path = pathlib.Path(folder) / "weights.params"
        _write_npz(path, _ParamsNet(seed=0).params)
        fresh = _ParamsNet(seed=1)
        arrays = dict(fresh.params)
        record_step(record, None, lambda: fn(fresh, str(path)), _what(fn, "load_params", SAVE_WHAT))
        record["loaded"] = _params_of(fresh)
        record["same_arrays"] = {key: _is_param(fresh, key, array) for key, array in arrays.items()}
        record["broken"] = []
        for label, file in _broken_files(pathlib.Path(folder), path).items():
            target = _ParamsNet(seed=2)
            answer = outcome(lambda: fn(target, str(file)))
            record["broken"].append({"outcome": answer, "params": _params_of(target)})


def _judge_load(got, case, ref, what):
    recorded(got, "loaded", what)
    loaded, same = got["loaded"], got.get("same_arrays")
    for key, value in _ParamsNet(seed=0).params.items():
        text = f"hidden test: net.params[{key!r}] after load_params"
        if type(loaded) is not dict or key not in loaded:
            raise CheckFailed(f"{text}: net.params no longer holds {key!r}.\n  Hint: copy into the "
                              "existing arrays, net.params[key][...] = loaded[key].")
        check_array(plain(loaded[key], text), value, text, reveal=False)
        check_equal(type(same) is dict and same.get(key) is True, True,
                    f"hidden test: net.params[{key!r}] is the same array after load_params",
                    hint="Copy into the existing arrays, net.params[key][...] = loaded[key].")
    broken = got.get("broken")
    before = _ParamsNet(seed=2).params
    for k, label in enumerate(BROKEN_FILES):
        text = f"hidden test: load_params(net, {label})"
        if type(broken) is not list or k >= len(broken) or type(broken[k]) is not dict:
            raise CheckFailed(f"{text}: the test recorded no answer for this file.")
        must_raise(result_of(broken[k].get("outcome")), "ValueError", text, exercise="load_params()",
                    hint="Read with np.load(path, allow_pickle=False) inside try/except and raise "
                         "ValueError; then compare keys, shapes and dtypes with net.params.")
        params = broken[k].get("params")
        for key, value in before.items():
            after = f"{text}: net.params[{key!r}] after the failed load"
            kept = params.get(key) if type(params) is dict else None
            check_array(plain(kept, after), value, after, reveal=False,
                        hint="Check the whole file before you copy anything into the network.")


# ----------------------------------------------------------------------------- batch normalisation

def _refuse_torch(fn, exercise):
    """CheckFailed, in the kernel and before any case, when fn can reach torch under any name
    (course.diagnose_layers.torch_use): batch normalisation is written with NumPy alone."""
    problem = torch_use(fn)
    if problem:
        raise CheckFailed(f"{exercise}: {problem}")


def _bn_settings(case):
    """The eps and momentum a case puts into bn_param ({}: the defaults)."""
    return {key: float(case[key]) for key in ("eps", "momentum") if key in case}


def _bn_param(case, mode):
    """A fresh bn_param for a case: the mode, its settings and copies of its running statistics."""
    param = {"mode": mode, **_bn_settings(case)}
    if "start_mean" in case:
        param["running_mean"], param["running_var"] = case["start_mean"].copy(), case["start_var"].copy()
    return param


def _bn_settings_text(case):
    text = "".join(f", {key}={value:g}" for key, value in _bn_settings(case).items())
    return text + ("" if "start_mean" in case else ", no running statistics yet")


def _bn_what(case):
    return f"(x {case['x'].shape}, gamma, beta, bn_param{_bn_settings_text(case)})"


def _bn_run_what(case):
    batches = case["batches"]
    return (f"({len(batches)} train steps on batches x {batches.shape[1:]}, gamma, beta, "
            f"bn_param{_bn_settings_text(case)})")


def _bn_arguments(case):
    return case["gamma"].copy(), case["beta"].copy()


def _record_bn_forward(fn, c, record):
    what = _what(fn, "spatial_batchnorm_forward", _bn_what(c))
    x = c["x"].copy()
    pair = record_step(record, None, lambda: fn(x, *_bn_arguments(c), _bn_param(c, "train")),
                       f"{what}, mode='train'")
    record["train"], record["x_after"] = frozen(first_of_pair(pair)), x.copy()
    pair = record_step(record, None, lambda: fn(c["x_test"].copy(), *_bn_arguments(c), _bn_param(c, "test")),
                       f"{what}, mode='test' on x {c['x_test'].shape}")
    record["test"] = frozen(first_of_pair(pair))


def _judge_bn_forward(got, case, ref, what):
    for mode, x, field in (("train", case["x"], "out"), ("test", case["x_test"], "out_test")):
        text = f"{what}, mode={mode!r}" + (f" on x {x.shape}" if mode == "test" else "")
        out = plain(unpack_pair(recorded(got, mode, what), text), text)
        given = _bn_param(case, mode)
        check_array(out, ref[field], text, reveal=False,
                    diagnose=lambda o, x=x, given=given: batchnorm_forward_mistake(
                        o, x, case["gamma"], case["beta"], given),
                    hint="Compare with the formula of the text: per channel, over the axes "
                         "(0, 2, 3); train mode with the batch's statistics, test mode with "
                         "the running ones.")
        if mode == "train":
            check_array(got.get("x_after"), case["x"], f"x after {text}", hint="Read x; do not write into it.")


def _record_bn_refused(fn, c, record):
    shape = tuple(int(v) for v in c["x_shape"])
    C = shape[1]
    x = np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape)
    return fn(x, np.ones(C), np.zeros(C), {"mode": str(c["mode"])})


def _bn_refused_what(case):
    return f"(x {tuple(int(v) for v in case['x_shape'])}, gamma, beta, mode={str(case['mode'])!r})"


def _running(param, key):
    """What bn_param[key] holds now, as plain data (None when it is missing)."""
    return frozen(dict.get(param, key))


def _record_bn_running(fn, c, record):
    what = _what(fn, "spatial_batchnorm_forward", _bn_run_what(c))
    param = _bn_param(c, "train")
    held = (param.get("running_mean"), param.get("running_var"))
    record["steps"] = []
    for k, x in enumerate(c["batches"]):
        record_step(record, None, lambda: fn(x.copy(), *_bn_arguments(c), param),
                    f"{what}, mode='train', step {k + 1}")
        record["steps"].append({"mean": _running(param, "running_mean"), "var": _running(param, "running_var")})
        if held[0] is None:
            held = (dict.get(param, "running_mean"), dict.get(param, "running_var"))
    record["same_arrays"] = [dict.get(param, "running_mean") is held[0],
                             dict.get(param, "running_var") is held[1]]
    param["mode"] = "test"
    pair = record_step(record, None, lambda: fn(c["x_test"].copy(), *_bn_arguments(c), param),
                       f"{what}, after the train steps, mode='test'")
    record["test"] = frozen(first_of_pair(pair))
    record["after_test"] = {"mean": _running(param, "running_mean"), "var": _running(param, "running_var")}


def _judge_bn_running(got, case, ref, what):
    steps = got.get("steps") if type(got) is dict else None
    batches = [x for x in case["batches"]]
    start = _bn_param(case, "train")
    for k in range(len(batches)):
        if type(steps) is not list or k >= len(steps) or type(steps[k]) is not dict:
            raise CheckFailed(failure(got.get("failed") if type(got) is dict else None, what))
        for which, field in (("mean", "running_means"), ("var", "running_vars")):
            text = f"{what}: bn_param['running_{which}'] after {k + 1} train step(s)"
            value = steps[k].get(which)
            if value is None:
                raise CheckFailed(f"{text}: bn_param has no 'running_{which}'.\n  Hint: when "
                                  "bn_param has none, put new arrays into it (zeros for the mean, "
                                  "ones for the variance).")
            check_array(plain(value, text), ref[field][k], text, reveal=False,
                        diagnose=lambda v, which=which, k=k: batchnorm_running_mistake(
                            v, which, batches[:k + 1], start),
                        hint="running = momentum * running + (1 - momentum) * the batch's statistic "
                             "(for the variance, the unbiased one).")
    same = got.get("same_arrays")
    for j, which in enumerate(("mean", "var")):
        check_equal(type(same) is list and len(same) == 2 and same[j] is True, True,
                    f"{what}: bn_param['running_{which}'] is the array it held before the train steps",
                    hint="Update the running arrays in place (running[...] = ..., or *= and +=), "
                         "so that whoever holds them sees the change.")
    after = got.get("after_test")
    text = f"{what}, after {len(batches)} train steps, mode='test' on x {case['x_test'].shape}"
    out = plain(unpack_pair(recorded(got, "test", what), text), text)
    last = {"mode": "test", **_bn_settings(case), "running_mean": ref["running_means"][-1],
            "running_var": ref["running_vars"][-1]}
    check_array(out, ref["out_test"], text, reveal=False,
                diagnose=lambda o: batchnorm_forward_mistake(o, case["x_test"], case["gamma"],
                                                             case["beta"], last),
                hint="Test mode normalises with bn_param's running mean and variance.")
    for which in ("mean", "var"):
        kept = f"{what}: bn_param['running_{which}'] after a call in test mode"
        value = after.get(which) if type(after) is dict else None
        check_array(plain(value, kept), ref[f"running_{which}s"][-1], kept, reveal=False,
                    hint="Test mode reads the running statistics; it does not update them.")


def _bn_back_what(case):
    eps = f", eps={float(case['eps']):g}" if "eps" in case else ""
    return (f"(dout, cache) after spatial_batchnorm_forward(x {case['x'].shape}, gamma, beta, "
            f"mode='train'{eps})")


def _record_bn_backward(fns, c, record):
    forward, backward = fns
    what = _what(backward, "spatial_batchnorm_backward", _bn_back_what(c))
    forward_what = _what(forward, "spatial_batchnorm_forward", f"(x {c['x'].shape}, gamma, beta, mode='train')")
    param = {"mode": "train", **_bn_settings(c)}
    pair = record_step(record, None, lambda: forward(c["x"].copy(), *_bn_arguments(c), param), forward_what)
    if type(pair) is not tuple or tuple.__len__(pair) != 2:
        record["failed"] = (f"hidden test: {forward_what} returned {kind_of(pair)}; it should return "
                            "a pair (out, cache), and the backward pass gets that cache.")
        raise Stop
    record["out"] = frozen(tuple.__getitem__(pair, 0))
    record_step(record, "grads", lambda: backward(c["dout"].copy(), tuple.__getitem__(pair, 1)), what)


def _judge_bn_backward(got, case, ref, what):
    dx, dgamma, dbeta = unpack(recorded(got, "grads", what), 3, "a tuple (dx, dgamma, dbeta)", what)
    x, gamma, beta, dout = case["x"], case["gamma"], case["beta"], case["dout"]
    eps = float(case["eps"]) if "eps" in case else 1e-5
    forward_right = _same(got.get("out"), ref["out"])

    def mistake(_):
        if not forward_right:
            return ("Your spatial_batchnorm_forward is already wrong on this case, and the backward "
                    "pass works from what it keeps: fix the forward pass first (its tests).")
        return batchnorm_backward_mistake(dx, dgamma, dbeta, x, gamma, beta, dout, eps)

    hints = {"dbeta": "dbeta sums dout over (0, 2, 3).", "dgamma": "dgamma sums dout * x_hat over (0, 2, 3).",
             "dx": "Compare each term of dx with the formula of the text."}
    for name, value in (("dbeta", dbeta), ("dgamma", dgamma), ("dx", dx)):
        text = f"{what}: {name}"
        check_array(plain(value, text), ref[name], text, reveal=False, diagnose=mistake, hint=hints[name])


# ----------------------------------------------------------------------------- He initialisation

def _he_shape(case):
    return tuple(int(v) for v in case["shape"])


def _he_what(case):
    return f"({_he_shape(case)}, np.random.default_rng({int(case['seed'])}))"


def _record_he(fn, c, record):
    shape, seed = _he_shape(c), int(c["seed"])
    what = _what(fn, "he_init", _he_what(c))
    record_step(record, "first", lambda: fn(shape, np.random.default_rng(seed)), what)
    record_step(record, "again", lambda: fn(shape, np.random.default_rng(seed)), f"{what}, again")
    rng = np.random.default_rng(seed)
    record_step(record, None, lambda: fn(shape, rng), what)
    record_step(record, "next", lambda: fn(shape, rng), f"{what}, then again with the same rng")


def _judge_he(got, case, ref, what):
    shape, seed, std = _he_shape(case), int(case["seed"]), float(ref["std"])
    w = plain(recorded(got, "first", what), what)
    check_shape(w, shape, what, hint=he_init_mistake(w, shape, seed) or "Return an array of exactly the shape given.")
    check_equal(str(w.dtype), "float64", f"{what}.dtype")
    if not np.all(np.isfinite(w)):
        raise CheckFailed(f"{what}: returned values that are not finite numbers.")
    named = he_init_mistake(w, shape, seed)
    check_close(float(w.std()), std, f"{what}: the standard deviation of its {w.size} values",
                reveal=False, rtol=0.05,
                hint=named or "sqrt(2 / fan_in), with fan_in = C * HH * WW for (F, C, HH, WW) and "
                              "D for (D, M).")
    again = plain(recorded(got, "again", what), f"{what}, again")
    if not (isinstance(again, np.ndarray) and again.shape == w.shape and np.array_equal(again, w)):
        raise CheckFailed(f"{what}: two calls with np.random.default_rng({seed}) gave different "
                          "weights.\n  Hint: draw from the rng you are given, not from np.random.")
    generator = np.random.default_rng(seed)
    first, second = generator.standard_normal(shape), generator.standard_normal(shape)
    draws = "Draw the values with one call rng.standard_normal(shape) on the rng you are given, and scale them."
    check_array(w, first * std, f"{what}: the values", reveal=False, diagnose=lambda got_w: named, hint=draws)
    text = f"{what}, then he_init({shape}, the same rng) again"
    following = plain(recorded(got, "next", what), text)
    if isinstance(following, np.ndarray) and np.array_equal(following, w):
        raise CheckFailed(f"{text}: returned the same weights twice.\n  Hint: draw from the rng you "
                          "are given, which moves on with each draw; a generator of your own starts "
                          "again each time.")
    check_array(following, second * std, f"{text}: the values", reveal=False, hint=draws)


# ----------------------------------------------------------------------------- the table

CHECKS = {
    "check_convolution_layer": (
        layer_check("Convolution", "conv", _record_conv, _conv_what, _judge_conv, forbid_library=True),
        refusal_check("Convolution", "conv_refused", _record_conv_refused, _conv_refused_what,
                 "Refuse a channel mismatch, a filter larger than the padded input, and windows "
                 "that do not tile it.", forbid_library=True, argument=0),
    ),
    "check_relu_affine": (
        layer_check("ReLU", "relu", _record_relu, _relu_what, _judge_relu),
        layer_check("Affine", "affine", _record_affine, _affine_what, _judge_affine),
    ),
    "check_max_pooling_layer": (
        layer_check("MaxPooling", "maxpool", _record_pool, _pool_what, _judge_pool, forbid_library=True),
        refusal_check("MaxPooling", "pool_refused", _record_pool_refused, _pool_refused_what,
                 "Refuse windows larger than the input or windows that do not tile it.",
                 forbid_library=True, argument=0),
    ),
    "check_softmax_with_loss": layer_check("SoftmaxWithLoss", "softmax", _record_softmax, _softmax_what,
                                      _judge_softmax),
    "check_batchnorm_forward": (
        layer_check("spatial_batchnorm_forward", "bn", _record_bn_forward, _bn_what, _judge_bn_forward,
                    forbid_library=True),
        refusal_check("spatial_batchnorm_forward", "bn_refused", _record_bn_refused, _bn_refused_what,
                      "Refuse a mode other than 'train' or 'test', and train mode when each channel "
                      "has a single value (N * H * W = 1).", forbid_library=True, argument=0),
    ),
    "check_batchnorm_running": layer_check("spatial_batchnorm_forward", "bn_run", _record_bn_running,
                                           _bn_run_what, _judge_bn_running, forbid_library=True),
    # called with (forward, backward): the backward pass gets the cache of the student's own
    # forward pass (check_batchnorm_backward below hands both over as argument 1)
    "check_batchnorm_backward": layer_check("spatial_batchnorm_backward", "bn_back", _record_bn_backward,
                                            _bn_back_what, _judge_bn_backward, forbid_library=True,
                                            argument=1),
    "check_simple_conv_net": layer_check("SimpleConvNet", "net", _record_net, _net_what, _judge_net,
                                    forbid_library=True),
    "check_network_gradient": layer_check("SimpleConvNet", "net", _record_gradient, _net_what,
                                     _judge_gradient, forbid_library=True),
    "check_he_init": layer_check("he_init", "he", _record_he, _he_what, _judge_he, forbid_library=True),
    "check_pool_output_units": Check(
        exercise="pool_output_units", prefix="pool_units",
        call=lambda fn, c: fn(*_units_args(c)), what=lambda c: f"{_units_args(c)}",
        judge=_judge_units, expects_error=lambda case, ref: int(ref["expected"]) < 0),
    "check_train": (
        layer_check("train", "train", _record_train, _train_what, _judge_train, forbid_library=True),
        refusal_check("train", "train_refused", _record_train_refused,
                 lambda c: f"(..., optimizer={str(c['optimizer'])!r})", None,
                 forbid_library=True, argument=0),
    ),
    "check_save_load": (
        layer_check("save_params", None, _record_save, lambda c: SAVE_WHAT, _judge_save),
        layer_check("load_params", None, _record_load, lambda c: SAVE_WHAT, _judge_load),
    ),
}

check_convolution_layer = runner(ASSIGNMENT, CHECKS, "check_convolution_layer")
check_relu_affine = runner(ASSIGNMENT, CHECKS, "check_relu_affine")
check_max_pooling_layer = runner(ASSIGNMENT, CHECKS, "check_max_pooling_layer")
check_softmax_with_loss = runner(ASSIGNMENT, CHECKS, "check_softmax_with_loss")
check_simple_conv_net = runner(ASSIGNMENT, CHECKS, "check_simple_conv_net")
check_network_gradient = runner(ASSIGNMENT, CHECKS, "check_network_gradient")
check_pool_output_units = runner(ASSIGNMENT, CHECKS, "check_pool_output_units")
check_train = runner(ASSIGNMENT, CHECKS, "check_train")
check_save_load = runner(ASSIGNMENT, CHECKS, "check_save_load")
_batchnorm_forward = runner(ASSIGNMENT, CHECKS, "check_batchnorm_forward")
_batchnorm_running = runner(ASSIGNMENT, CHECKS, "check_batchnorm_running")
_batchnorm_backward = runner(ASSIGNMENT, CHECKS, "check_batchnorm_backward")
check_he_init = runner(ASSIGNMENT, CHECKS, "check_he_init")


def check_batchnorm_forward(forward):
    """Hidden test: spatial_batchnorm_forward in both modes, and what it must refuse."""
    _refuse_torch(forward, "spatial_batchnorm_forward")
    _batchnorm_forward(forward)


def check_batchnorm_running(forward):
    """Hidden test: the running statistics of spatial_batchnorm_forward, then test mode."""
    _refuse_torch(forward, "spatial_batchnorm_forward")
    _batchnorm_running(forward)


def check_batchnorm_backward(forward, backward):
    """Hidden test: spatial_batchnorm_backward on the caches of the student's own forward pass."""
    _refuse_torch(backward, "spatial_batchnorm_backward")
    _batchnorm_backward(forward, (forward, backward))
