"""Cases for 05-numpy-cnn. Oracle: torch in float64 (conv2d, relu, linear, max_pool2d,
cross_entropy, batch_norm and nn.BatchNorm2d, and their autograd gradients), torch's layer
shapes for the unit counts, and torch.nn.init's fan_in and ReLU gain for the spread of he_init.

Max-pooling ties: PyTorch's CPU max pooling sends the gradient of a window to the first maximum
in row-major order, the rule the notebook asks for; two pooling cases hold small integers, so
many windows tie. ReLU inputs are random normals, never exactly 0.

`train` and save/load are checked on small stand-in networks (autograder/hidden/numpy_cnn.py):
their cases hold only inputs (150 of scikit-learn's digits, the optimizer and its learning
rate); the judge recomputes what the results are compared with.
"""
import numpy as np
import torch
import torch.nn.functional as tnf

from course.data import load_digits

SEED = 2026 + 5
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"out", "dx", "dW", "db", "loss", "scores", "expected",
                 "grad_W1", "grad_b1", "grad_W2", "grad_b2", "grad_W3", "grad_b3",
                 "out_test", "running_means", "running_vars", "dgamma", "dbeta", "std"}

# (N, C, H, W, F, HH, WW, stride, pad, float32 input): non-square inputs and kernels, strides
# 1-3, pads 0-2, every case tiled exactly; one float32 input like the digits
CONV_CASES = [
    (2, 3, 7, 5, 4, 3, 3, 1, 1, False),
    (1, 2, 7, 6, 3, 3, 2, 2, 1, False),
    (3, 1, 8, 8, 5, 3, 3, 1, 0, False),
    (2, 2, 9, 7, 2, 3, 3, 2, 0, False),
    (1, 3, 5, 9, 2, 1, 1, 1, 0, False),
    (2, 1, 6, 10, 3, 2, 4, 2, 1, False),
    (1, 1, 10, 7, 2, 4, 1, 3, 0, False),
    (1, 2, 4, 4, 2, 5, 5, 1, 2, False),
    (4, 1, 8, 8, 6, 3, 3, 1, 1, True),
]
# (x shape, W shape, stride, pad) that Convolution.forward must refuse with ValueError
CONV_REFUSED = [
    ((1, 1, 7, 6), (2, 1, 3, 3), 3, 0),      # (7 - 3) % 3 != 0
    ((1, 2, 6, 6), (2, 2, 2, 3), 2, 0),      # width: (6 - 3) % 2 != 0
    ((1, 1, 3, 3), (1, 1, 5, 5), 1, 0),      # the filter is larger than the input
    ((2, 3, 5, 5), (2, 2, 3, 3), 1, 1),      # 3 channels, filters for 2
]
RELU_SHAPES = [(4, 7), (2, 3, 5, 4), (1, 6)]
# (x shape, M)
AFFINE_CASES = [((5, 6), 3), ((3, 2, 3, 4), 5), ((1, 4, 2, 2), 2), ((4, 3, 1, 5), 1)]
# (N, C, H, W, pool_h, pool_w, stride, small integers)
POOL_CASES = [
    (2, 3, 6, 8, 2, 2, 2, False),
    (1, 2, 7, 5, 3, 3, 2, False),
    (2, 1, 5, 7, 2, 3, 1, False),
    (1, 2, 9, 8, 3, 2, 3, False),
    (2, 2, 4, 6, 2, 2, 2, True),
    (1, 1, 6, 7, 3, 3, 1, True),
]
POOL_REFUSED = [((1, 1, 5, 4), 2, 2, 2), ((1, 2, 6, 7), 3, 2, 2), ((1, 1, 2, 6), 3, 3, 1)]
# (N, K, scale, offset of one class, dout): scores scale * normal, one class raised by offset
SOFTMAX_CASES = [
    (4, 10, 3.0, 0.0, 1.0),
    (3, 5, 1.0, 1000.0, 1.0),         # overflow without subtracting the max
    (2, 3, 1.0, -800.0, 1.0),         # the right class underflows: log-probabilities needed
    (6, 4, 2.0, 0.0, 0.5),            # dout is not 1
    (2, 2, 0.5, 0.0, 3.0),
]
# (input_dim, (filter_num, filter_size, pad, stride), hidden_size, output_size, N)
NET_CASES = [
    ((2, 6, 10), (3, 3, 0, 1), 7, 5, 4),
    ((1, 11, 7), (2, 3, 1, 2), 6, 3, 3),
    ((3, 5, 5), (4, 2, 0, 1), 5, 4, 2),
]
# (input_size, filter_size, pad, stride, filter_num)
POOL_UNITS_CASES = [
    (8, 3, 1, 1, 16), (12, 5, 2, 1, 6), (10, 3, 0, 1, 8), (32, 5, 0, 1, 6), (11, 3, 1, 2, 5),
    (13, 3, 0, 2, 7), (4, 5, 1, 1, 2), (24, 5, 2, 1, 20),
    (7, 3, 0, 1, 16), (9, 3, 0, 1, 10), (28, 5, 0, 2, 30), (10, 4, 0, 3, 2), (6, 3, 1, 2, 4),
    (3, 5, 0, 1, 2), (5, 5, 0, 1, 3), (15, 3, 1, 1, 12),
]
# (optimizer, learning rate) of train on the softmax-regression stand-in; and one it must refuse
TRAIN_CASES = [("adam", 0.05), ("momentum", 0.1), ("sgd", 0.5)]
TRAIN_REFUSED = ["adagrad"]
TRAIN_DIGITS = 150          # the first 100 train, the other 50 test

# Spatial batch normalisation, the exercise's conventions: momentum weighs the old running value
# (torch's momentum is 1 - ours), the running variance is fed the unbiased batch variance, and
# missing running statistics start at zeros and ones. nn.BatchNorm2d(C, eps, 1 - momentum) in
# float64 is then the oracle as it stands. (N, C, H, W, settings, running statistics given):
# non-square inputs, C > 1 (and C = 1 once), one channel in each x with a small spread, where eps
# matters; H = W = 1 once (per pixel is then per channel).
BN_CASES = [
    (2, 3, 5, 4, {}, True),
    (1, 2, 3, 7, {"eps": 0.1, "momentum": 0.8}, True),
    (4, 1, 2, 5, {}, False),
    (3, 4, 2, 3, {"eps": 1e-3}, True),
    (2, 5, 6, 1, {"momentum": 0.5}, True),
    (6, 2, 1, 1, {}, True),
]
# (mode, x shape) that spatial_batchnorm_forward must refuse with ValueError
BN_REFUSED = [("eval", (2, 2, 3, 3)), ("training", (1, 3, 2, 2)), ("train", (1, 3, 1, 1))]
# (N, C, H, W, settings, running statistics given): three train steps on drifting batches,
# then test mode on another batch
BN_RUN_CASES = [
    (2, 3, 4, 5, {}, True),
    (3, 2, 3, 7, {"momentum": 0.7}, False),
    (2, 4, 2, 2, {"eps": 0.01, "momentum": 0.95}, True),
]
BN_RUN_STEPS = 3
# (N, C, H, W, eps or None): the backward pass after a train-mode forward pass
BN_BACK_CASES = [(2, 3, 4, 5, None), (3, 2, 3, 7, 0.1), (1, 4, 2, 6, None), (4, 1, 5, 3, 1e-3)]
# (shape, seed) of he_init: conv weights (F, C, HH, WW) with non-square kernels (one with
# fan_in = fan_out), affine weights (D, M); 2,000 values or more each, for the spread
HE_CASES = [((32, 8, 5, 3), 0), ((24, 20, 1, 7), 1), ((16, 16, 3, 3), 2), ((256, 128), 3),
            ((100, 300), 4), ((50, 64, 2, 4), 5)]


def _grads(fn, inputs, dout):
    """out = fn(*inputs) and the gradients of sum(out * dout) w.r.t. each input, in float64."""
    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    out = fn(*tensors)
    out.backward(torch.as_tensor(np.asarray(dout, dtype=np.float64)))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _out_shape(fn, inputs):
    with torch.no_grad():
        return tuple(fn(*[torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in inputs]).shape)


def net_scores(params, x, stride, pad):
    """The SimpleConvNet scores with torch tensors (autograd-able)."""
    h = tnf.conv2d(x, params["W1"], params["b1"], stride=stride, padding=pad)
    h = tnf.max_pool2d(torch.relu(h), 2)
    h = torch.relu(h.flatten(1) @ params["W2"] + params["b2"])
    return h @ params["W3"] + params["b3"]


def pool_units(input_size, filter_size, pad, stride, filter_num):
    """Units after conv + 2x2 pooling, or -1 when the sizes do not divide (torch's shapes)."""
    side = input_size + 2 * pad
    if filter_size > side:
        return -1
    x = torch.zeros(1, 1, input_size, input_size)
    conv = tnf.conv2d(x, torch.zeros(filter_num, 1, filter_size, filter_size), stride=stride, padding=pad)
    size = conv.shape[-1]
    if (size - 1) * stride + filter_size != side or size % 2:
        return -1
    return int(tnf.max_pool2d(conv, 2).numel())


def build():
    """Cases for 05-numpy-cnn: {key: array}."""
    for N, C, H, W, F, HH, WW, stride, pad, _ in CONV_CASES:
        assert (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0
    for N, C, H, W, ph, pw, stride, _ in POOL_CASES:
        assert (H - ph) % stride == 0 and (W - pw) % stride == 0
    rng = np.random.default_rng(SEED)
    refs = {}
    for i, (N, C, H, W, F, HH, WW, stride, pad, single) in enumerate(CONV_CASES):
        x = rng.normal(size=(N, C, H, W)).astype(np.float32 if single else np.float64)
        w, b = rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)
        conv = lambda x_, w_, b_: tnf.conv2d(x_, w_, b_, stride=stride, padding=pad)
        dout = rng.normal(size=_out_shape(conv, (x, w, b)))
        out, (dx, dw, db) = _grads(conv, (x, w, b), dout)
        refs.update({f"conv/{i}/x": x, f"conv/{i}/W": w, f"conv/{i}/b": b, f"conv/{i}/dout": dout,
                     f"conv/{i}/stride_pad": np.array([stride, pad]), f"conv/{i}/out": out,
                     f"conv/{i}/dx": dx, f"conv/{i}/dW": dw, f"conv/{i}/db": db})
    for i, (x_shape, w_shape, stride, pad) in enumerate(CONV_REFUSED):
        refs[f"conv_refused/{i}/x_shape"], refs[f"conv_refused/{i}/W_shape"] = np.array(x_shape), np.array(w_shape)
        refs[f"conv_refused/{i}/stride_pad"] = np.array([stride, pad])

    for i, shape in enumerate(RELU_SHAPES):
        x, dout = rng.normal(size=shape), rng.normal(size=shape)
        out, (dx,) = _grads(torch.relu, (x,), dout)
        refs.update({f"relu/{i}/x": x, f"relu/{i}/dout": dout, f"relu/{i}/out": out, f"relu/{i}/dx": dx})

    for i, (x_shape, M) in enumerate(AFFINE_CASES):
        D = int(np.prod(x_shape[1:]))
        x, w, b = rng.normal(size=x_shape), rng.normal(size=(D, M)), rng.normal(size=M)
        dout = rng.normal(size=(x_shape[0], M))
        out, (dx, dw, db) = _grads(lambda x_, w_, b_: tnf.linear(x_.flatten(1), w_.T, b_), (x, w, b), dout)
        refs.update({f"affine/{i}/x": x, f"affine/{i}/W": w, f"affine/{i}/b": b, f"affine/{i}/dout": dout,
                     f"affine/{i}/out": out, f"affine/{i}/dx": dx, f"affine/{i}/dW": dw, f"affine/{i}/db": db})

    for i, (N, C, H, W, ph, pw, stride, ties) in enumerate(POOL_CASES):
        x = (rng.integers(0, 3, size=(N, C, H, W)).astype(np.float64) if ties
             else rng.normal(size=(N, C, H, W)))
        pool = lambda x_: tnf.max_pool2d(x_, (ph, pw), stride=stride)
        dout = rng.normal(size=_out_shape(pool, (x,)))
        out, (dx,) = _grads(pool, (x,), dout)
        refs.update({f"maxpool/{i}/x": x, f"maxpool/{i}/pool": np.array([ph, pw, stride]),
                     f"maxpool/{i}/dout": dout, f"maxpool/{i}/out": out, f"maxpool/{i}/dx": dx})
    for i, (x_shape, ph, pw, stride) in enumerate(POOL_REFUSED):
        refs[f"pool_refused/{i}/x_shape"] = np.array(x_shape)
        refs[f"pool_refused/{i}/pool"] = np.array([ph, pw, stride])

    for i, (N, K, scale, offset, dout) in enumerate(SOFTMAX_CASES):
        x, t = scale * rng.normal(size=(N, K)), rng.integers(0, K, size=N)
        x[np.arange(N), t] += offset
        if offset > 0:                   # raise another class than the label in one row
            x[0, (t[0] + 1) % K] += offset
        loss, (dx,) = _grads(lambda x_: tnf.cross_entropy(x_, torch.from_numpy(t)) * dout, (x,), 1.0)
        refs.update({f"softmax/{i}/x": x, f"softmax/{i}/t": t, f"softmax/{i}/dout": np.array(dout),
                     f"softmax/{i}/loss": loss / dout, f"softmax/{i}/dx": dx})

    for i, (input_dim, (filter_num, filter_size, pad, stride), hidden, out_size, N) in enumerate(NET_CASES):
        C, H, W = input_dim
        conv_h, conv_w = (H + 2 * pad - filter_size) // stride + 1, (W + 2 * pad - filter_size) // stride + 1
        units = filter_num * (conv_h // 2) * (conv_w // 2)
        shapes = {"W1": (filter_num, C, filter_size, filter_size), "b1": (filter_num,),
                  "W2": (units, hidden), "b2": (hidden,), "W3": (hidden, out_size), "b3": (out_size,)}
        params = {key: rng.normal(scale=0.5, size=shape) for key, shape in shapes.items()}
        x, t = rng.normal(size=(N, *input_dim)), rng.integers(0, out_size, size=N)
        tensors = {key: torch.tensor(value, requires_grad=True) for key, value in params.items()}
        scores = net_scores(tensors, torch.from_numpy(x), stride, pad)
        loss = tnf.cross_entropy(scores, torch.from_numpy(t))
        loss.backward()
        refs.update({f"net/{i}/input_dim": np.array(input_dim),
                     f"net/{i}/conv": np.array([filter_num, filter_size, pad, stride]),
                     f"net/{i}/sizes": np.array([hidden, out_size]),
                     f"net/{i}/x": x, f"net/{i}/t": t, f"net/{i}/scores": scores.detach().numpy(),
                     f"net/{i}/loss": np.array(loss.item())})
        for key, value in params.items():
            refs[f"net/{i}/{key}"] = value
            refs[f"net/{i}/grad_{key}"] = tensors[key].grad.numpy()

    for i, args in enumerate(POOL_UNITS_CASES):
        refs[f"pool_units/{i}/args"] = np.array(args)
        refs[f"pool_units/{i}/expected"] = np.array(pool_units(*args))   # -1: must raise

    x, t = load_digits(limit=TRAIN_DIGITS)
    for i, (optimizer, lr) in enumerate(TRAIN_CASES):
        refs.update({f"train/{i}/x": x, f"train/{i}/t": t, f"train/{i}/optimizer": np.array(optimizer),
                     f"train/{i}/lr": np.array(lr)})
    for i, optimizer in enumerate(TRAIN_REFUSED):
        refs.update({f"train_refused/{i}/x": x, f"train_refused/{i}/t": t,
                     f"train_refused/{i}/optimizer": np.array(optimizer)})
    refs.update(_batchnorm_cases(np.random.default_rng(SEED + 1)))
    refs.update(_he_cases())
    return refs


def _channels_apart(rng, shape):
    """x of `shape` whose channels have different means and spreads; channel 0 hardly varies."""
    C = shape[1]
    spread, shift = rng.uniform(0.5, 3.0, size=C), rng.normal(scale=3.0, size=C)
    spread[0] = 0.02
    return rng.standard_normal(shape) * spread.reshape(1, C, 1, 1) + shift.reshape(1, C, 1, 1)


def _bn_layer(C, gamma, beta, settings, start):
    """nn.BatchNorm2d in float64 with the exercise's conventions (see BN_CASES)."""
    layer = torch.nn.BatchNorm2d(C, eps=settings.get("eps", 1e-5),
                                 momentum=1 - settings.get("momentum", 0.9)).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
        if start is not None:
            layer.running_mean.copy_(torch.from_numpy(start[0]))
            layer.running_var.copy_(torch.from_numpy(start[1]))
    return layer


def _bn_case(prefix, rng, C, settings, given):
    """The fields every batch normalisation case shares, and its running statistics (or None)."""
    gamma, beta = rng.uniform(0.5, 2.0, size=C), rng.normal(size=C)
    start = (rng.normal(size=C), rng.uniform(0.5, 2.0, size=C)) if given else None
    fields = {f"{prefix}/gamma": gamma, f"{prefix}/beta": beta,
              **{f"{prefix}/{key}": np.array(float(value)) for key, value in settings.items()}}
    if start is not None:
        fields[f"{prefix}/start_mean"], fields[f"{prefix}/start_var"] = start
    return fields, gamma, beta, start


def _batchnorm_cases(rng):
    refs = {}
    for i, (N, C, H, W, settings, given) in enumerate(BN_CASES):
        fields, gamma, beta, start = _bn_case(f"bn/{i}", rng, C, settings, given)
        x, x_test = _channels_apart(rng, (N, C, H, W)), _channels_apart(rng, (N + 1, C, H, W))
        with torch.no_grad():
            out = _bn_layer(C, gamma, beta, settings, start).train()(torch.from_numpy(x)).numpy()
            out_test = _bn_layer(C, gamma, beta, settings, start).eval()(torch.from_numpy(x_test)).numpy()
        refs.update(fields)
        refs.update({f"bn/{i}/x": x, f"bn/{i}/x_test": x_test, f"bn/{i}/out": out,
                     f"bn/{i}/out_test": out_test})
    for i, (mode, shape) in enumerate(BN_REFUSED):
        refs[f"bn_refused/{i}/mode"], refs[f"bn_refused/{i}/x_shape"] = np.array(mode), np.array(shape)

    for i, (N, C, H, W, settings, given) in enumerate(BN_RUN_CASES):
        fields, gamma, beta, start = _bn_case(f"bn_run/{i}", rng, C, settings, given)
        batches = np.stack([_channels_apart(rng, (N, C, H, W)) + step for step in range(1, BN_RUN_STEPS + 1)])
        x_test = _channels_apart(rng, (1, C, H, W)) + 2.0
        layer = _bn_layer(C, gamma, beta, settings, start)
        means, variances = [], []
        with torch.no_grad():
            for x in batches:
                layer.train()(torch.from_numpy(x))
                means.append(layer.running_mean.numpy().copy())
                variances.append(layer.running_var.numpy().copy())
            out_test = layer.eval()(torch.from_numpy(x_test)).numpy()
        refs.update(fields)
        refs.update({f"bn_run/{i}/batches": batches, f"bn_run/{i}/x_test": x_test,
                     f"bn_run/{i}/running_means": np.stack(means),
                     f"bn_run/{i}/running_vars": np.stack(variances), f"bn_run/{i}/out_test": out_test})

    for i, (N, C, H, W, eps) in enumerate(BN_BACK_CASES):
        fields, gamma, beta, _ = _bn_case(f"bn_back/{i}", rng, C, {} if eps is None else {"eps": eps}, False)
        x, dout = _channels_apart(rng, (N, C, H, W)), rng.standard_normal((N, C, H, W))
        out, (dx, dgamma, dbeta) = _grads(
            lambda x_, g_, b_: tnf.batch_norm(x_, None, None, g_, b_, training=True,
                                              eps=1e-5 if eps is None else eps), (x, gamma, beta), dout)
        refs.update(fields)
        refs.update({f"bn_back/{i}/x": x, f"bn_back/{i}/dout": dout, f"bn_back/{i}/out": out,
                     f"bn_back/{i}/dx": dx, f"bn_back/{i}/dgamma": dgamma, f"bn_back/{i}/dbeta": dbeta})
    return refs


def _he_cases():
    """The spread of He initialisation from torch's fan_in and ReLU gain; the judge compares the
    draws with those of np.random.default_rng(seed) scaled by it."""
    refs = {}
    for i, (shape, seed) in enumerate(HE_CASES):
        # torch's layouts: a conv weight is (F, C, HH, WW) as here; nn.Linear's is (M, D), the
        # transpose of this course's affine W (D, M)
        torch_shape = shape if len(shape) == 4 else shape[::-1]
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape))
        refs.update({f"he/{i}/shape": np.array(shape), f"he/{i}/seed": np.array(seed),
                     f"he/{i}/std": np.array(torch.nn.init.calculate_gain("relu") / np.sqrt(fan_in))})
    return refs
