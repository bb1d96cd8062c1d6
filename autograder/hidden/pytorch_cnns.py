"""Hidden tests of 06-pytorch-cnns, judged outside the kernel (autograder.hidden.spec): NumPy
weights in nn.Conv2d (rectangular kernels, strides 1-3, pads 0-2, no bias), the small CNN built
two ways (other class counts, stored weights), flatten sizes of other stacks and inputs
(non-square, three channels, dilation, pooling only, inputs too small), LeNet-5 at other input
sizes and class counts, parameter counts per layer and per block, receptive fields, the
residual block and a small ResNet, the Network in Network block, the global-average-pooling head
and the parameter counts of the two heads (autograder/cases/pytorch_cnns.py lists the cases).

In the kernel a check builds the student's module, copies the case's weights into it, runs it
and records plain data step by step (autograder.hidden.steps): outputs as NumPy arrays (a
forward pass must return a torch.Tensor itself), parameter counts as ints, and what the kernel
alone can see as bools or short lists (is the layer an nn.Conv2d, was the branch's output
used). Checks of structure that can only fail (a block without its projection, parameters of
the wrong shapes) run in the kernel and record their message. The judge compares outputs and
counts with the references, which the kernel cannot read, and names the mistake.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as tnf

from course.checks import CheckFailed, check_array, check_equal

from autograder.cases.pytorch_cnns import (ACTIVATIONS, GAP_SIZES, build_stack, lenet_shapes,
                                           network_params, seed_cnn_shapes)
from autograder.hidden.spec import Check, function_name, runner, unpack
from autograder.hidden.steps import (frozen, layer_check, must_raise, outcome, plain, record_step,
                                     recorded, recording, result_of)

ASSIGNMENT = "06-pytorch-cnns"


def _what(fn, exercise, text):
    return f"hidden test: {function_name(fn, exercise)}{text}"


# ------------------------------------------------------------------ in the kernel

def _first_param(model, what):
    param = next(iter(model.parameters()), None)
    if param is None:
        raise CheckFailed(f"{what}: the model has no parameters; were its layers assigned as "
                          "attributes (self.conv1 = nn.Conv2d(...)) after super().__init__()?")
    return param


def _as_numpy(out, what):
    """A forward pass's output as a float64 NumPy array; it must be a torch.Tensor itself (a
    subclass could answer for itself how it converts)."""
    if type(out) is not torch.Tensor:
        raise CheckFailed(f"{what}: forward returned {type(out).__name__}; it should return a "
                          "tensor (torch.Tensor).")
    return np.array(out.detach().cpu().double().numpy(), copy=True)


def _forward(model, x, what, train=False):
    """Run a module on a NumPy batch (on the module's device and dtype), without autograd."""
    param = _first_param(model, what)
    model.train(train)
    with torch.no_grad():
        out = model(torch.from_numpy(x).to(device=param.device, dtype=param.dtype))
    return _as_numpy(out, what)


def _count(model):
    return int(sum(int(p.numel()) for p in model.parameters()))


def _load_in_order(model, arrays, what, order_hint):
    """Copy `arrays` into the model's parameters, in creation order."""
    params = list(model.parameters())
    got = [tuple(p.shape) for p in params]
    wanted = [tuple(a.shape) for a in arrays]
    if got != wanted:
        raise CheckFailed(
            f"{what}: the model's parameters, in the order they were created, have shapes\n"
            f"  {got}\n  but the network of the task, layer by layer, has\n  {wanted}\n"
            f"  Hint: {order_hint}")
    with torch.no_grad():
        for p, a in zip(params, arrays):
            p.copy_(torch.from_numpy(a))


def _build(record, fn, args, what, seed=0):
    """fn(*args) with torch's seed set, as a step of the record."""
    def build():
        torch.manual_seed(seed)
        return fn(*args)
    return record_step(record, None, build, what)


def _module(model, what, kind="nn.Module"):
    if not isinstance(model, nn.Module):
        raise CheckFailed(f"{what}: returned {type(model).__name__}; it should be a subclass of "
                          f"{kind}.")
    return model


# ------------------------------------------------------------------ conv2d_from_numpy

def _conv64(x, w, b, stride, pad):
    bias = None if b is None else torch.from_numpy(b)
    return tnf.conv2d(torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(w)), bias,
                      stride=stride, padding=pad).numpy()


def conv_layer_mistake(out, x, w, b, stride, pad):
    """Name a classic mistake of conv2d_from_numpy from the output of its layer, or None."""
    if not isinstance(out, np.ndarray):
        return None
    right = _conv64(x, w, b, stride, pad)
    close = lambda a: a is not None and a.shape == out.shape and np.allclose(out, a, rtol=1e-4, atol=1e-4)  # noqa: E731
    if close(right):
        return None
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    wrong = [
        (lambda: _conv64(x, np.flip(w, axis=(2, 3)), b, stride, pad),
         "The kernel is flipped: nn.Conv2d, like our layer, computes cross-correlation; copy w "
         "as it is, without turning it round."),
        (lambda: _conv64(x, w, b, stride, 0) if pad else None,
         "The padding is missing: pass padding=pad to nn.Conv2d."),
        (lambda: _conv64(x, w, b, 1, pad) if stride > 1 else None,
         "The stride is missing: pass stride=stride to nn.Conv2d."),
        (lambda: _conv64(x, w, b, pad, stride) if pad >= 1 and pad != stride
         and H + 2 * stride >= HH and W + 2 * stride >= WW else None,
         "Stride and padding are swapped: nn.Conv2d's arguments after kernel_size are stride, "
         "then padding. Name them: stride=stride, padding=pad."),
        (lambda: _conv64(x, w.swapaxes(2, 3), b, stride, pad) if HH == WW else None,
         "The kernel's height and width are swapped (w transposed): copy w as it is."),
        (lambda: _conv64(x, w, None, stride, pad) if b is not None else None,
         "The bias is missing: copy b into the layer's bias."),
    ]
    for make, sentence in wrong:
        candidate = make()
        if close(candidate) and not np.allclose(candidate, right):
            return sentence
    if b is not None and out.shape == right.shape:
        offset = out - _conv64(x, w, None, stride, pad)
        per_channel = offset.mean(axis=(0, 2, 3), keepdims=True)
        if np.allclose(offset, per_channel, atol=1e-4):
            return ("Each output channel is off by a constant: the weights are right but the "
                    "bias was not copied (the layer kept its random initial bias).")
    return None


def _conv_args(case):
    return case["x"], case["w"], case.get("b"), tuple(int(v) for v in case["stride_pad"])


def _conv_what(case):
    _, w, b, (stride, pad) = _conv_args(case)
    return f"(w {w.shape}, {'b' if b is not None else 'b None'}, stride {stride}, pad {pad})"


def _record_conv(fn, case, record):
    x, w, b, (stride, pad) = _conv_args(case)
    what = _what(fn, "conv2d_from_numpy", _conv_what(case))
    layer = _build(record, fn, (w.copy(), None if b is None else b.copy(), stride, pad), what)
    record["is_conv"] = isinstance(layer, nn.Conv2d)
    if not record["is_conv"]:
        record["type"] = type(layer).__name__
        return
    record["bias_none"] = layer.bias is None
    record["trainable"] = isinstance(layer.weight, nn.Parameter) and bool(layer.weight.requires_grad)
    record_step(record, "out", lambda: _forward(layer, x, f"{what}, applied to x {x.shape}"),
                f"{what}, applied to x {x.shape}")


def _judge_conv(got, case, ref, what):
    x, w, b, (stride, pad) = _conv_args(case)
    if not recorded(got, "is_conv", what):
        raise CheckFailed(f"{what}: returned {got.get('type', 'something else')}; it should "
                          "return an nn.Conv2d.")
    if b is None:
        check_equal(got.get("bias_none"), True, f"{what}: layer.bias is None",
                    hint="With b None the layer has no bias: nn.Conv2d(..., bias=False).")
    if got.get("trainable") is not True:
        raise CheckFailed(f"{what}: layer.weight must stay a trainable nn.Parameter "
                          "(requires_grad True).")
    applied = f"{what}, applied to x {x.shape}"
    check_array(plain(recorded(got, "out", what), applied), ref["out"], applied, reveal=False,
                rtol=1e-4, atol=1e-4,
                diagnose=lambda out: conv_layer_mistake(out, x, w, b, stride, pad),
                hint="Check in_channels, out_channels, kernel_size=(HH, WW), stride, padding, "
                     "and that both w and b were copied.")


# ------------------------------------------------------------------ the CNN, two ways

_CNN_ORDER = ("Create the layers in the order they are applied: conv 1->32, conv 32->64, "
              "conv 64->128 (3x3, stride 2), Linear(512, 512), Linear(512, num_classes).")


def _cnn_params(case):
    num_classes = int(case["num_classes"])
    return num_classes, network_params(int(case["param_seed"]), seed_cnn_shapes(num_classes))


def _record_cnn(sequential):
    def body(fn, case, record):
        num_classes, params = _cnn_params(case)
        name = "make_sequential_cnn" if sequential else "SubclassedCNN"
        what = _what(fn, name, f"(num_classes={num_classes})")
        model = _build(record, fn, (num_classes,), what)
        if sequential and not isinstance(model, nn.Sequential):
            raise_in = f"returned {type(model).__name__}; it should return an nn.Sequential."
            record["failed"] = f"{what}: {raise_in}"
            return
        if not sequential and (not isinstance(model, nn.Module) or isinstance(model, nn.Sequential)):
            record["failed"] = (f"{what}: should be a subclass of nn.Module with its own forward, "
                                "not an nn.Sequential.")
            return
        record["count"] = _count(model)
        record_step(record, None, lambda: _load_in_order(model, params, what, _CNN_ORDER), what)
        x = case["x"]
        record_step(record, "out", lambda: _forward(model, x, f"{what} on x {x.shape}"),
                    f"{what} on x {x.shape}")
    return body


def _judge_cnn(name):
    def judge(got, case, ref, what):
        num_classes, params = _cnn_params(case)
        check_equal(plain(recorded(got, "count", what), what), int(sum(p.size for p in params)),
                    f"{what}: number of parameters", reveal=False,
                    hint="Count each layer: out * (in * 3 * 3) + out for a convolution, "
                         "out * in + out for a dense layer.")
        x = case["x"]
        stored = f"{what} with the stored weights, on x {x.shape}"
        check_array(plain(recorded(got, "out", what), stored), ref["out"], stored, reveal=False,
                    rtol=1e-4, atol=1e-5,
                    hint="A ReLU after each convolution and after the hidden dense layer, none "
                         "after the last layer; flatten with start_dim=1 so the batch stays.")
    return judge


def _cnn_what(case):
    return f"(num_classes={int(case['num_classes'])})"


# ------------------------------------------------------------------------ flatten size

def _flatten_args(case):
    torch.manual_seed(0)
    return build_stack(case["spec"]), tuple(int(v) for v in case["input_shape"])


def _flatten_what(case):
    layers, input_shape = _flatten_args(case)
    kinds = ", ".join(type(m).__name__ for m in layers)
    return f"(stack [{kinds}], input_shape={input_shape})"


def _record_flatten(fn, case, record):
    layers, input_shape = _flatten_args(case)
    before = {k: v.clone() for k, v in layers.state_dict().items()}
    record["answer"] = outcome(lambda: fn(layers, input_shape))
    record["changed"] = [k for k, v in layers.state_dict().items() if not torch.equal(v, before[k])]


def _judge_flatten(got, case, ref, what):
    answer = result_of(recorded(got, "answer", what))
    size = int(ref["size"])
    if size < 0:
        must_raise(answer, "ValueError", what, exercise="flatten_size()",
                   hint="This stack cannot take that input (too small, or the wrong number of "
                        "channels): catch PyTorch's RuntimeError and raise ValueError.")
        return
    must_return(answer, what, "flatten_size()")
    check_equal(plain(answer, what), size, what, reveal=False,
                hint="Run torch.zeros(1, *input_shape) through the layers under "
                     "torch.no_grad() and count the values of the output for that one image.")
    changed = got.get("changed")
    if changed:
        raise CheckFailed(f"{what}: the layers' {changed[0] if type(changed) is list else 'state'} "
                          "changed; flatten_size must only look at the stack, not train or modify it.")


def must_return(answer, what, exercise):
    """CheckFailed when a recorded outcome is an error instead of an answer."""
    from autograder.hidden.record import Raised
    if not isinstance(answer, Raised):
        return
    if answer.type == "NotImplementedError":
        raise CheckFailed(f"{what}: not answered yet: {exercise} still raises NotImplementedError.")
    from course.checks import clip, explain_error
    explained = explain_error(answer.type, answer.message)
    raise CheckFailed(clip(f"{what}: your function raised {answer.type}: "
                           f"{clip(answer.message, 6, 600)}"
                           + (f"\n  What it usually means: {explained}" if explained else "")))


# ------------------------------------------------------------------------- LeNet-5

_LENET_ORDER = ("Create the layers in the order they are applied: conv1 (1->6, 5x5), conv2 "
                "(6->16, 5x5), fc1 (flatten size -> 120), fc2 (120 -> 84), fc3 (84 -> "
                "num_classes).")
LENET_REFUSED = (("tanh", (28, 28)), ("relu", (8, 8)), ("sigmoid", (10, 10)))


def _lenet_args(case):
    act, H, W, num_classes = (int(v) for v in case["setting"])
    return ACTIVATIONS[act], (H, W), num_classes


def _lenet_what(case):
    activation, size, num_classes = _lenet_args(case)
    return f"(activation={activation!r}, input_size={size}, num_classes={num_classes})"


def _record_lenet(fn, case, record):
    activation, (H, W), num_classes = _lenet_args(case)
    what = _what(fn, "LeNet5", _lenet_what(case))
    model = _build(record, fn, (activation, (H, W), num_classes), what)
    record_step(record, None, lambda: _module(model, what), what)
    record["count"] = _count(model)
    params = network_params(int(case["param_seed"]), lenet_shapes(H, W, num_classes))
    record_step(record, None, lambda: _load_in_order(model, params, what, _LENET_ORDER), what)
    x = case["x"]
    record_step(record, "out", lambda: _forward(model, x, f"{what} on x {x.shape}"),
                f"{what} on x {x.shape}")


def _judge_lenet(got, case, ref, what):
    activation = _lenet_args(case)[0]
    check_equal(plain(recorded(got, "count", what), what), int(ref["total"]),
                f"{what}: number of parameters", reveal=False,
                hint="fc1's input is the flatten size for this input size: compute it with "
                     "flatten_size, do not write 16 * 5 * 5.")
    x = case["x"]
    stored = f"{what} with the stored weights, on x {x.shape}"
    check_array(plain(recorded(got, "out", what), stored), ref["out"], stored, reveal=False,
                rtol=1e-4, atol=1e-5,
                hint=f"The {activation} after both convolutions and after fc1 and fc2 (not "
                     "after fc3); conv1 has padding=2; max pooling 2x2 after each activation.")


def _record_lenet_refused(fn, case, record):
    record["answers"] = [outcome(lambda: fn(activation, size, 10)) for activation, size in LENET_REFUSED]


def _judge_lenet_refused(got, case, ref, what):
    answers = recorded(got, "answers", what)
    for k, (activation, size) in enumerate(LENET_REFUSED):
        text = f"hidden test: LeNet5(activation={activation!r}, input_size={size})"
        if type(answers) is not list or k >= len(answers):
            raise CheckFailed(f"{text}: the test recorded no answer for this call.")
        must_raise(result_of(answers[k]), "ValueError", text, exercise="LeNet5",
                   hint="Raise ValueError for an activation other than 'relu' or 'sigmoid', and "
                        "when the input is too small for the layers (flatten_size does).")


# ------------------------------------------------------------- parameters per layer

def _layer_params_what(case):
    model = build_stack(case["spec"])
    layers = ", ".join(f"{type(m).__name__}" + ("" if m.bias is not None else "(bias=False)")
                       for m in model if isinstance(m, (nn.Conv2d, nn.Linear)))
    return f"(a network with layers {layers})"


def _judge_layer_params(got, case, ref, what):
    expected = {f"conv{i + 1}": int(n) for i, n in enumerate(ref["conv"])}
    expected.update({f"fc{i + 1}": int(n) for i, n in enumerate(ref["fc"])})
    if type(got) is not dict:
        raise CheckFailed(f"{what}: returned {getattr(got, 'type_name', type(got).__name__)}; "
                          "it should return a dict (of ints).")
    check_equal(sorted(got), sorted(expected), f"{what}: the keys", reveal=False,
                hint="One key per Conv2d (conv1, conv2, ...) and per Linear (fc1, fc2, ...), "
                     "numbered in the order the layers appear in model.modules().")
    for key, n in expected.items():
        check_equal(plain(got[key], f"{what}[{key!r}]"), n, f"{what}[{key!r}]", reveal=False,
                    hint="Count every parameter of the layer: sum(p.numel() for p in "
                         "layer.parameters()), which leaves out a bias the layer does not have.")


# ------------------------------------------------------------------- parameter counts

def _conv_count_args(case):
    c_in, c_out, kh, kw, bias = (int(v) for v in case["args"])
    return c_in, c_out, (kh if kh == kw else (kh, kw)), bool(bias)


def _conv_count_what(case):
    c_in, c_out, kernel, bias = _conv_count_args(case)
    return f"({c_in}, {c_out}, {kernel}, bias={bias})"


def _judge_count(hint):
    def judge(got, case, ref, what):
        check_equal(got, int(ref["count"]), what, reveal=False, hint=hint)
    return judge


# ---------------------------------------------------------------------- receptive fields

def _rf_formula(layers, use_stride=True, jump_after=False, use_dilation=True, start=1):
    """The formula with one thing changed: a mistake, used to name the one a student made."""
    r, j = start, 1
    for k, s, d in layers:
        span = (d if use_dilation else 1) * (k - 1)
        if jump_after:
            j *= s
        r += span * (j if use_stride else 1)
        if not jump_after:
            j *= s
    return r


def receptive_field_mistake(got, layers):
    """Name a classic mistake of receptive_field from its answer, or None."""
    strided = any(s > 1 for _, s, _ in layers)
    dilated = any(d > 1 for _, _, d in layers)
    right = _rf_formula(layers)
    wrong = [
        (strided, dict(use_stride=False),
         "The stride is ignored: after a layer of stride s, one step in its output is s steps "
         "in its input, so the next kernel's k - 1 extra positions each cost j input pixels, "
         "with j the product of the strides of the layers before it."),
        (strided, dict(jump_after=True),
         "The jump is updated too early: a layer's kernel is spread by the jump of its input "
         "(the strides of the layers before it, j_in), not by its own stride. Add (k - 1) * j_in "
         "first, then multiply j by s."),
        (dilated, dict(use_dilation=False),
         "Dilation is ignored: a kernel of size k with dilation d spans d * (k - 1) + 1 pixels."),
        (True, dict(start=0),
         "Off by one: with no layers an output unit is one input pixel, so start at r = 1."),
    ]
    for applies, change, sentence in wrong:
        if applies and got == _rf_formula(layers, **change) and got != right:
            return sentence
    if got == sum(k for k, _, _ in layers) and layers:
        return ("The kernel sizes were added: two 3x3 layers in a row see 5x5, not 6x6, since "
                "each layer adds only k - 1 positions (times the jump).")
    return None


def _rf_layers(case):
    return [tuple(int(v) for v in row[1:]) for row in case["layers"]]


def _rf_argument(layers):
    """The layers as the task describes them: (k, s) pairs, or (k, s, d) when dilated."""
    return [(k, s) if d == 1 else (k, s, d) for k, s, d in layers]


def _rf_what(case):
    argument = _rf_argument(_rf_layers(case))
    return f"({argument if len(argument) <= 6 else f'a stack of {len(argument)} layers'})"


def _judge_rf(got, case, ref, what):
    diagnosis = receptive_field_mistake(got, _rf_layers(case))
    check_equal(got, int(ref["size"]), what, reveal=False,
                hint=diagnosis or "Start at r = 1, j = 1; for each layer r += d * (k - 1) * j, "
                                  "then j *= s. Pools are layers like any other.")


# ------------------------------------------------------------------------ residual block

BLOCK_HINT = ("F(x) and the shortcut must have the same shape to be added: padding=1 on both 3x3 "
              "convolutions, the stride on the first one and on the 1x1 projection.")


def _needs_projection(c_in, c_out, stride):
    return stride != 1 or c_in != c_out


def _block_parts(block, c_in, c_out, stride, what):
    """The two 3x3 convolutions (in creation order), the 1x1 projection or None, the BatchNorms."""
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    k3 = [m for m in convs if tuple(m.kernel_size) == (3, 3)]
    k1 = [m for m in convs if tuple(m.kernel_size) == (1, 1)]
    bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
    projection = _needs_projection(c_in, c_out, stride)
    kernels = [tuple(m.kernel_size) for m in convs]
    if len(k3) != 2 or len(k3) + len(k1) != len(convs):
        raise CheckFailed(f"{what}: the block's convolutions have kernels {kernels}.\n  Hint: the "
                          "branch F is two 3x3 convolutions; the shortcut adds one 1x1 "
                          "convolution when the shapes change, and nothing otherwise.")
    if projection and not k1:
        change = (f"the channels change ({c_in} -> {c_out})" if c_in != c_out else
                  f"the size changes (stride {stride})")
        raise CheckFailed(
            f"{what}: {change} but the shortcut has no projection, so x cannot be added to F(x)."
            "\n  Hint: when the number of channels or the size changes, the shortcut is a 1x1 "
            "convolution from in_channels to out_channels with the block's stride, then a "
            "BatchNorm2d.")
    if not projection and k1:
        raise CheckFailed(
            f"{what}: the shapes do not change (same channels, stride 1), yet the block has a 1x1 "
            "projection.\n  Hint: here the shortcut is the identity, x itself: no layer, no "
            "parameters. Create the projection only when stride != 1 or in_channels != "
            "out_channels.")
    if len(k1) > 1:
        raise CheckFailed(f"{what}: the block has {len(k1)} 1x1 convolutions; the projection is one.")
    if len(bns) != 2 + projection:
        raise CheckFailed(
            f"{what}: the block has {len(bns)} BatchNorm2d layer(s), not {2 + projection}.\n  "
            "Hint: one BatchNorm2d right after each convolution: after both 3x3 convolutions"
            + (" and after the 1x1 projection." if projection else "."))
    return k3, (k1[0] if k1 else None), bns


def _set_block_weights(k3, projection, bns, weights, what):
    """Copy the case's weights into the student's convolutions; biases 0; fresh BatchNorms."""
    names = ("the first 3x3 convolution (created first)", "the second 3x3 convolution",
             "the 1x1 projection")
    with torch.no_grad():
        for conv_layer, w, name in zip(k3 + [projection], weights, names):
            if conv_layer is None or w is None:
                continue
            if tuple(conv_layer.weight.shape) != w.shape:
                raise CheckFailed(
                    f"{what}: {name} has a weight of shape {tuple(conv_layer.weight.shape)}, not "
                    f"{w.shape}.\n  Hint: conv1 goes from in_channels to out_channels, conv2 from "
                    "out_channels to out_channels, the projection from in_channels to "
                    "out_channels; create conv1 before conv2.")
            conv_layer.weight.copy_(torch.from_numpy(w))
            if conv_layer.bias is not None:
                conv_layer.bias.zero_()
        for bn in bns:
            bn.reset_running_stats()
            if bn.affine:
                bn.weight.fill_(1.0)
                bn.bias.zero_()


def _block_args(case):
    c_in, c_out, stride = (int(v) for v in case["args"])
    return c_in, c_out, stride


def _block_what(case):
    c_in, c_out, stride = _block_args(case)
    return f"({c_in}, {c_out}, stride={stride})"


def _record_block(fn, case, record):
    c_in, c_out, stride = _block_args(case)
    x, w1, w2, wp = case["x"], case["w1"], case["w2"], case.get("wp")
    what = _what(fn, "ResidualBlock", _block_what(case))

    def fresh():
        block = _build(record, fn, (c_in, c_out, stride), what)
        record_step(record, None, lambda: _module(block, what), what)
        parts = record_step(record, None, lambda: _block_parts(block, c_in, c_out, stride, what), what)
        return block, parts

    block, (k3, projection, bns) = fresh()
    record["biased"] = any(m is not None and m.bias is not None for m in k3 + [projection])
    record["count"] = _count(block)
    zeros = (np.zeros_like(w1), np.zeros_like(w2), wp)
    record_step(record, None, lambda: _set_block_weights(k3, projection, bns, zeros, what), what)
    zero_what = f"{what} with both 3x3 convolutions' weights set to 0 (so F(x) = 0), on x {x.shape}"
    record_step(record, "zero_out", lambda: _forward(block, x, zero_what), zero_what, hint=BLOCK_HINT)

    block, (k3, projection, bns) = fresh()
    record_step(record, None, lambda: _set_block_weights(k3, projection, bns, (w1, w2, wp), what), what)
    train_what = f"{what} in training mode with the stored weights, on x {x.shape}"
    record_step(record, "out", lambda: _forward(block, x, train_what, train=True), train_what,
                hint=BLOCK_HINT)


def _block_variant(x, w1, w2, wp, stride, relu_before_add=False, no_middle_relu=False,
                   stride_on_second=False, projection_without_bn=False):
    """The block in training mode with one mistake (float64), to name the one a student made."""
    bn = lambda h: tnf.batch_norm(h, None, None, training=True, eps=1e-5)  # noqa: E731
    x = torch.from_numpy(x).double()
    s1, s2 = (1, stride) if stride_on_second else (stride, 1)
    h = bn(tnf.conv2d(x, torch.from_numpy(w1).double(), stride=s1, padding=1))
    h = h if no_middle_relu else tnf.relu(h)
    h = bn(tnf.conv2d(h, torch.from_numpy(w2).double(), stride=s2, padding=1))
    if wp is None:
        shortcut = x
    else:
        shortcut = tnf.conv2d(x, torch.from_numpy(wp).double(), stride=stride)
        shortcut = shortcut if projection_without_bn else bn(shortcut)
    if relu_before_add:
        h = tnf.relu(h)
    return tnf.relu(h + shortcut).numpy()


def residual_block_mistake(out, x, w1, w2, wp, stride):
    """Name a classic mistake of ResidualBlock from its output in training mode, or None."""
    wrong = [
        (dict(relu_before_add=True),
         "The ReLU comes before the addition: the block is ReLU(F(x) + shortcut(x)); F ends with "
         "the second BatchNorm, without a ReLU."),
        (dict(no_middle_relu=True),
         "The ReLU between the two convolutions is missing: conv, BN, ReLU, conv, BN."),
        (dict(stride_on_second=True) if stride > 1 else None,
         "The stride is on the second 3x3 convolution: put it on the first (and on the "
         "projection); the second has stride 1."),
        (dict(projection_without_bn=True) if wp is not None else None,
         "The projection has no BatchNorm: the shortcut is a 1x1 convolution, then BatchNorm2d."),
    ]
    for change, sentence in wrong:
        if change is None:
            continue
        candidate = _block_variant(x, w1, w2, wp, stride, **change)
        if candidate.shape == out.shape and np.allclose(out, candidate, rtol=1e-4, atol=1e-4):
            return sentence
    return None


def _judge_block(got, case, ref, what):
    c_in, c_out, stride = _block_args(case)
    x, w1, w2, wp = case["x"], case["w1"], case["w2"], case.get("wp")
    check_equal(plain(recorded(got, "count", what), what), int(ref["count"]),
                f"{what}: number of parameters", reveal=False,
                hint=("The convolutions have biases: a convolution followed by BatchNorm needs none "
                      "(BN subtracts the mean, which cancels it); use bias=False."
                      if got.get("biased") else
                      "Count conv1 (in * out * 9), conv2 (out * out * 9), 2 * out per BatchNorm, "
                      "and in * out for the projection when there is one."))

    zero_what = f"{what} with both 3x3 convolutions' weights set to 0 (so F(x) = 0), on x {x.shape}"
    out = plain(recorded(got, "zero_out", what), zero_what)
    if isinstance(out, np.ndarray) and out.shape == ref["zero_out"].shape \
            and np.allclose(out, 0, atol=1e-6) and not np.allclose(ref["zero_out"], 0):
        raise CheckFailed(f"{zero_what}: returned only zeros.\n  Hint: the shortcut is not added: "
                          "return ReLU(F(x) + shortcut(x)), where shortcut(x) is x, or the "
                          "projection of x when the shapes change.")
    shortcut = x if wp is None else tnf.conv2d(torch.from_numpy(x).double(),
                                               torch.from_numpy(wp).double(),
                                               stride=stride).numpy() / np.sqrt(1 + 1e-5)
    check_array(out, ref["zero_out"], zero_what, reveal=False, rtol=1e-4, atol=1e-4,
                diagnose=lambda z: (
                    "Negative values came out: the last ReLU must come after the addition, "
                    "ReLU(F(x) + shortcut(x))." if z.shape == shortcut.shape
                    and np.allclose(z, shortcut, rtol=1e-4, atol=1e-4) else None),
                hint="With F(x) = 0 the block returns ReLU(shortcut(x)): x itself when the shapes "
                     "do not change, the 1x1 projection (with the stride) then BatchNorm otherwise.")

    train_what = f"{what} in training mode with the stored weights, on x {x.shape}"
    check_array(plain(recorded(got, "out", what), train_what), ref["out"], train_what,
                reveal=False, rtol=1e-4, atol=1e-4,
                diagnose=lambda o: residual_block_mistake(o, x, w1, w2, wp, stride),
                hint="conv3x3 (stride, padding 1), BN, ReLU, conv3x3 (padding 1), BN; add the "
                     "shortcut; then ReLU.")


# --------------------------------------------------------------------------- SmallResNet

RESNET_BUDGET = 100_000
RESNET_SETTINGS = ((10, ((28, 28), (20, 36))), (4, ((32, 32), (16, 24))), (7, ((28, 28),)))
TRAIN_STEPS, TRAIN_LR, TRAIN_FACTOR = 8, 1e-3, 0.85
TRAIN_WHAT = "hidden test: SmallResNet(10) trained on 16 digits enlarged to 28x28"


def _digits_batch(start, count, size=(28, 28)):
    from course.data import load_digits
    x, y = load_digits()
    x = tnf.interpolate(torch.from_numpy(x[start:start + count]), size=size, mode="bilinear",
                        align_corners=False)
    return x, torch.from_numpy(y[start:start + count])


def record_training(model, x, y, steps, what, lr=TRAIN_LR):
    """Adam on one fixed batch for `steps` steps, in the kernel: {'losses': [float], 'unused':
    [names of parameters without a gradient at the first step], 'probabilities': bool (the
    first scores sum to 1)}. A step of the student's model that fails raises CheckFailed."""
    param = _first_param(model, what)
    x, y = x.to(param.device), y.to(param.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    found = {"losses": [], "unused": [], "probabilities": False}
    for step in range(steps):
        scores = model(x)
        if type(scores) is not torch.Tensor:
            raise CheckFailed(f"{what}: forward returned {type(scores).__name__}; it should "
                              "return a tensor (torch.Tensor).")
        if step == 0:
            found["probabilities"] = bool(
                scores.shape == (len(y), scores.shape[-1]) and scores.min() >= 0
                and torch.allclose(scores.sum(dim=1), torch.ones(len(y), device=scores.device)))
        loss = tnf.cross_entropy(scores, y)
        found["losses"].append(float(loss.item()))
        if not torch.isfinite(loss):
            break
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            found["unused"] = [name for name, p in model.named_parameters() if p.grad is None][:4]
        optimizer.step()
    return found


def judge_training(found, what, steps, lr=TRAIN_LR, factor=TRAIN_FACTOR, batch=16):
    """Judge a recorded record_training: the loss must fall below factor * the first."""
    if type(found) is not dict or type(found.get("losses")) is not list or not found["losses"]:
        raise CheckFailed(f"{what}: the test recorded no losses.")
    if found.get("probabilities") is True:
        raise CheckFailed(f"{what}: the scores are probabilities (they sum to 1).\n  Hint: return "
                          "the raw scores; F.cross_entropy applies the softmax itself.")
    losses = found["losses"]
    if not all(type(v) is float for v in losses):
        raise CheckFailed(f"{what}: the test recorded losses it cannot read.")
    if not np.isfinite(losses[-1]):
        raise CheckFailed(f"{what}: the loss became {losses[-1]} at step {len(losses) - 1}.")
    if found.get("unused"):
        raise CheckFailed(f"{what}: these parameters got no gradient: {found['unused']}.\n  Hint: "
                          "every layer created in __init__ should be used in forward.")
    if len(losses) < steps or not losses[-1] < factor * losses[0]:
        raise CheckFailed(
            f"{what}: the loss went from {losses[0]:.3f} to {losses[-1]:.3f} in {steps} steps of "
            f"Adam (lr {lr}) on the same {batch} images; it should fall below {factor} times the "
            "first.\n  Hint: are all the layers registered (nn.Sequential, not a Python list), "
            "and is every block's output used?")


def _record_resnet(fn, case, record, ResidualBlock=None):
    record["settings"] = []
    for num_classes, sizes in RESNET_SETTINGS:
        what = f"hidden test: SmallResNet(num_classes={num_classes})"
        model = _build(record, fn, (num_classes,), what)
        record_step(record, None, lambda: _module(model, what), what)
        blocks = ([m for m in model.modules() if isinstance(m, ResidualBlock)]
                  if isinstance(ResidualBlock, type) else [])
        setting = {"blocks": len(blocks), "count": _count(model), "shapes": [],
                   "projection": any(isinstance(m, nn.Conv2d) and tuple(m.kernel_size) == (1, 1)
                                     for b in blocks for m in b.modules())}
        record["settings"].append(setting)
        for H, W in sizes:
            x = np.random.default_rng(H * W).uniform(size=(2, 1, H, W)).astype(np.float32)
            run_what = f"{what} on x (2, 1, {H}, {W})"
            out = record_step(record, None, lambda: _forward(model, x, run_what), run_what,
                              hint="End with global average pooling (nn.AdaptiveAvgPool2d(1) or "
                                   "a mean over H and W), so that any input size gives one value "
                                   "per channel.")
            setting["shapes"].append(list(out.shape))
    x, y = _digits_batch(1000, 16)
    model = _build(record, fn, (10,), TRAIN_WHAT, seed=1)
    record_step(record, "training",
                lambda: record_training(model, x, y, TRAIN_STEPS, TRAIN_WHAT), TRAIN_WHAT)


def _judge_resnet(got, case, ref, what):
    settings = recorded(got, "settings", what)
    for k, (num_classes, sizes) in enumerate(RESNET_SETTINGS):
        what = f"hidden test: SmallResNet(num_classes={num_classes})"
        if type(settings) is not list or k >= len(settings) or type(settings[k]) is not dict:
            recorded(got, "training", what)     # the message of the step that failed
            raise CheckFailed(f"{what}: the test recorded no answer for this model.")
        setting = settings[k]
        if setting.get("blocks", 0) < 2:
            raise CheckFailed(f"{what}: found {setting.get('blocks')} ResidualBlock(s) among the "
                              "model's modules.\n  Hint: build the stages from your ResidualBlock, "
                              "at least two of them, registered (attributes or nn.Sequential, not "
                              "a list).")
        if setting.get("projection") is not True:
            raise CheckFailed(f"{what}: no ResidualBlock changes the shapes.\n  Hint: a new stage "
                              "starts with a block of stride 2 and more channels (its shortcut is a "
                              "projection).")
        count = setting.get("count")
        if type(count) is not int or count > RESNET_BUDGET:
            raise CheckFailed(f"{what}: {count:,} parameters, more than the budget of "
                              f"{RESNET_BUDGET:,}.\n  Hint: fewer channels; a 3x3 convolution from C "
                              "to C channels costs 9 C^2 weights.")
        shapes = setting.get("shapes")
        for j, (H, W) in enumerate(sizes):
            if type(shapes) is not list or j >= len(shapes):
                recorded(got, "training", what)
                raise CheckFailed(f"{what} on x (2, 1, {H}, {W}): the test recorded no output.")
            if shapes[j] != [2, num_classes]:
                raise CheckFailed(f"{what} on x (2, 1, {H}, {W}): returned {tuple(shapes[j])}, not "
                                  f"scores of shape (2, {num_classes}).")
    judge_training(recorded(got, "training", TRAIN_WHAT), TRAIN_WHAT, TRAIN_STEPS)


# ------------------------------------------------------------- Network in Network

NIN_KINDS = ["Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ReLU"]


def layer_trace(model, x, what):
    """Run the model on x with a forward hook on every leaf module: [[type name, output shape,
    kernel size (convolutions) or []], ...] in the order the layers ran, and the output."""
    trace, handles = [], []

    def hook(module, inputs, output):
        shape = list(output.shape) if isinstance(output, torch.Tensor) else []
        kernel = list(module.kernel_size) if isinstance(module, nn.Conv2d) else []
        trace.append([type(module).__name__, [int(v) for v in shape], [int(v) for v in kernel]])

    for module in model.modules():
        if next(module.children(), None) is None:
            handles.append(module.register_forward_hook(hook))
    try:
        out = _forward(model, x, what)
    finally:
        for handle in handles:
            handle.remove()
    return trace[:50], out


def _set_convs(model, arrays, what, hint):
    """Copy (weight, bias) pairs into the model's nn.Conv2d layers, in creation order."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    got = [tuple(m.weight.shape) for m in convs]
    wanted = [w.shape for w, _ in arrays]
    if got != wanted:
        raise CheckFailed(f"{what}: the convolutions' weights, in the order they were created, have "
                          f"shapes\n  {got}\n  but the task's layers have\n  {wanted}\n  Hint: {hint}")
    with torch.no_grad():
        for m, (w, b) in zip(convs, arrays):
            m.weight.copy_(torch.from_numpy(w))
            if m.bias is not None:
                m.bias.copy_(torch.from_numpy(b))


def _nin_args(case):
    c_in, c_out, kh, kw, stride, pad = (int(v) for v in case["args"])
    return c_in, c_out, (kh if kh == kw else (kh, kw)), stride, pad


def _nin_what(case):
    return str(_nin_args(case))


def _record_nin(fn, case, record):
    args = _nin_args(case)
    what = _what(fn, "nin_block", _nin_what(case))
    block = _build(record, fn, args, what)
    record["sequential"] = isinstance(block, nn.Sequential)
    if not record["sequential"]:
        record["type"] = type(block).__name__
        return
    record["count"] = _count(block)
    x = case["x"]
    run_what = f"{what} on x {x.shape}"
    trace, _ = record_step(record, None, lambda: layer_trace(block, x, run_what), run_what)
    record["trace"] = trace
    weights = [(case[f"w{k}"], case[f"b{k}"]) for k in (1, 2, 3)]
    record_step(record, None, lambda: _set_convs(
        block, weights, what, "a convolution in_channels -> out_channels with the task's kernel, "
        "then two 1x1 convolutions out_channels -> out_channels, in that order."), what)
    record_step(record, "out", lambda: _forward(block, x, f"{what} with the stored weights"),
                f"{what} with the stored weights")


def nin_trace_mistake(kinds, kernels, kernel):
    """Name what is wrong with the layers of a NiN block as they ran, or None."""
    convs = [k for k, name in zip(kernels, kinds) if name == "Conv2d"]
    if len(convs) != 3:
        return (f"{len(convs)} convolution(s) ran; the block has three: the {kernel} convolution, "
                "then two 1x1 convolutions.")
    if convs[0] != list(kernel):
        return f"The first convolution has kernel {tuple(convs[0])}; it should be {kernel}."
    if convs[1:] != [[1, 1], [1, 1]]:
        return (f"The second and third convolutions have kernels {[tuple(k) for k in convs[1:]]}; "
                "they are 1x1 (kernel_size=1): a dense layer across the channels at every pixel.")
    others = [name for name in kinds if name not in ("Conv2d", "ReLU")]
    if others:
        return f"The block runs a {others[0]}; it has only convolutions and ReLUs."
    after = [kinds[i + 1] if i + 1 < len(kinds) else None
             for i, name in enumerate(kinds) if name == "Conv2d"]
    if after[0] != "ReLU":
        return "The ReLU after the first convolution is missing."
    if after[1] != "ReLU" or after[2] != "ReLU":
        return ("A ReLU is missing after a 1x1 convolution: without it two 1x1 convolutions in a row "
                "are one linear map, no more than a single 1x1 convolution.")
    return None


def _judge_nin(got, case, ref, what):
    _, _, kernel, stride, pad = _nin_args(case)
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    if not recorded(got, "sequential", what):
        raise CheckFailed(f"{what}: returned {got.get('type', 'something else')}; it should "
                          "return an nn.Sequential.")
    x = case["x"]
    run_what = f"{what} on x {x.shape}"
    trace = recorded(got, "trace", what)
    if type(trace) is not list or not all(type(t) is list and len(t) == 3 for t in trace):
        raise CheckFailed(f"{run_what}: the test recorded no layers it can read.")
    kinds = [t[0] for t in trace]
    if kinds != NIN_KINDS:
        mistake = nin_trace_mistake(kinds, [t[2] for t in trace], kernel)
        raise CheckFailed(f"{run_what}: the layers ran in the order {kinds}.\n  Hint: "
                          + (mistake or "conv, ReLU, 1x1 conv, ReLU, 1x1 conv, ReLU."))
    expected = [list(int(v) for v in row) for row in ref["shapes"]]
    shapes = [t[1] for t in trace]
    if shapes[0] != expected[0]:
        raise CheckFailed(f"{run_what}: the first convolution gave {tuple(shapes[0])}, not the "
                          "size the task's stride and padding give.\n  Hint: pass stride=stride, "
                          "padding=padding to the first convolution.")
    if shapes != expected:
        raise CheckFailed(f"{run_what}: the layers gave the shapes {[tuple(s) for s in shapes]}; "
                          "after the first convolution the size must not change.\n  Hint: the 1x1 "
                          "convolutions have stride 1 and no padding, out_channels -> out_channels.")
    check_equal(plain(recorded(got, "count", what), what), int(ref["count"]),
                f"{what}: number of parameters", reveal=False,
                hint="Three convolutions with biases: out * in * kh * kw + out, then twice "
                     "out * out + out.")
    stored = f"{what} with the stored weights, on x {x.shape}"
    check_array(plain(recorded(got, "out", what), stored), ref["out"], stored, reveal=False,
                rtol=1e-4, atol=1e-5,
                hint="conv (stride, padding), ReLU, 1x1 conv, ReLU, 1x1 conv, ReLU, in the order "
                     "they were created.")


# --------------------------------------------------------- global average pooling head

def _gap_args(case):
    return tuple(int(v) for v in case["args"])


def _gap_what(case):
    return str(_gap_args(case))


def _record_gap(fn, case, record):
    c_in, num_classes = _gap_args(case)
    what = _what(fn, "gap_head", _gap_what(case))
    head = _build(record, fn, (c_in, num_classes), what)
    record_step(record, None, lambda: _module(head, what), what)
    record["count"] = _count(head)
    x = case["x"]
    trace_what = f"{what} on x {x.shape}"
    record["trace"] = record_step(record, None, lambda: layer_trace(head, x, trace_what),
                                  trace_what)[0]
    record_step(record, None, lambda: _set_convs(
        head, [(case["w"], case["b"])], what,
        "one 1x1 convolution from in_channels to num_classes channels, and no other layer with "
        "parameters."), what)
    run_what = f"{what} with the stored weights, on x {x.shape}"
    record_step(record, "out", lambda: _forward(head, x, run_what), run_what)
    record["sizes"] = []
    for H, W in GAP_SIZES:
        other = np.random.default_rng(H * W).normal(size=(1, c_in, H, W)).astype(np.float32)
        other_what = f"{what} on x {other.shape}"
        out = record_step(record, None, lambda: _forward(head, other, other_what), other_what)
        record["sizes"].append(list(out.shape))


def gap_mistake(out, x, w, b):
    """Name a classic mistake of gap_head from its output, or None."""
    maps = tnf.conv2d(torch.from_numpy(x).double(), torch.from_numpy(w).double(),
                      torch.from_numpy(b).double())
    N, C = maps.shape[:2]
    if out.shape == tuple(maps.shape) and maps.shape[2:] != (1, 1):
        return ("The output still has its height and width: the average over the positions is "
                "missing. nn.AdaptiveAvgPool2d(1) averages each map to one value, whatever its size.")
    if out.shape == (N, C, 1, 1):
        return "The output is (N, num_classes, 1, 1): flatten it to (N, num_classes)."
    if out.shape == (N, maps[0].numel()) and maps.shape[2:] != (1, 1):
        return ("The maps were flattened without pooling: average each map first, with "
                "nn.AdaptiveAvgPool2d(1), so that one value per class is left whatever the size.")
    if out.shape != (N, C):
        return None
    close = lambda a: np.allclose(out, a.numpy(), rtol=1e-4, atol=1e-5)  # noqa: E731
    right = maps.mean(dim=(2, 3))
    if close(right):
        return None
    if close(maps.amax(dim=(2, 3))):
        return "That is the maximum of each map: global *average* pooling takes the mean."
    if close(maps.sum(dim=(2, 3))):
        return "That is the sum of each map: divide by the number of positions (take the mean)."
    if close(tnf.relu(right)):
        return ("Negative scores became 0: the head ends without a ReLU, the scores go to the "
                "softmax as they are.")
    if close(tnf.relu(maps).mean(dim=(2, 3))):
        return "A ReLU sits between the 1x1 convolution and the pooling: leave it out."
    return None


def _judge_gap(got, case, ref, what):
    c_in, num_classes = _gap_args(case)
    x, w, b = case["x"], case["w"], case["b"]
    run_what = f"{what} with the stored weights, on x {x.shape}"
    count = plain(recorded(got, "count", what), what)
    trace = recorded(got, "trace", what)
    kinds = [t[0] for t in trace if type(t) is list and t] if type(trace) is list else []
    if "Linear" in kinds or "LazyLinear" in kinds:
        raise CheckFailed(f"{what}: an nn.Linear ran ({kinds}).\n  Hint: no dense layer: the 1x1 "
                          "convolution to num_classes channels is the classifier, and the average "
                          "of each of its maps is that class's score.")
    check_equal(count, int(ref["count"]), f"{what}: number of parameters", reveal=False,
                hint="Only the 1x1 convolution has parameters: in_channels * num_classes weights "
                     "and num_classes biases; pooling and flattening have none.")
    check_array(plain(recorded(got, "out", what), run_what), ref["out"], run_what, reveal=False,
                rtol=1e-4, atol=1e-5, diagnose=lambda out: gap_mistake(out, x, w, b),
                hint="A 1x1 convolution, then the mean of each map over its positions, then flatten.")
    sizes = recorded(got, "sizes", what)
    for (H, W), shape in zip(GAP_SIZES, sizes if type(sizes) is list else []):
        if shape != [1, num_classes]:
            raise CheckFailed(f"{what} on x (1, {c_in}, {H}, {W}): returned shape {tuple(shape)}, "
                              f"not (1, {num_classes}).\n  Hint: nn.AdaptiveAvgPool2d(1) gives "
                              "one value per map for maps of any size.")


# ------------------------------------------------------------------ the two heads' sizes

def _head_args(case):
    return tuple(int(v) for v in case["args"])


def head_mistake(got, channels, height, width, hidden, num_classes):
    """Name a classic mistake of head_parameters from its (dense, gap) answer, or None."""
    flat = channels * height * width
    dense = flat * hidden + hidden + hidden * hidden + hidden + hidden * num_classes + num_classes
    gap = channels * num_classes + num_classes
    dense_got, gap_got = got
    wrong = [
        (dense_got == flat * hidden + hidden * hidden + hidden * num_classes,
         "The dense head's biases are missing: each nn.Linear(n_in, n_out) has n_out of them."),
        (dense_got == flat * hidden + hidden + hidden * num_classes + num_classes,
         "The dense head has three layers: flatten -> hidden, hidden -> hidden, hidden -> "
         "num_classes; the middle one is missing."),
        (dense_got == channels * hidden + hidden + hidden * hidden + hidden
         + hidden * num_classes + num_classes,
         "The first dense layer takes every value of the flattened maps: channels * height * "
         "width inputs, not channels."),
        (gap_got == channels * num_classes,
         "The 1x1 convolution's biases are missing: num_classes of them."),
        (gap_got == flat * num_classes + num_classes,
         "The GAP head's 1x1 convolution does not depend on the map size: its weights are "
         "(num_classes, channels, 1, 1), the same at every position."),
        ((dense_got, gap_got) == (gap, dense), "The two counts are swapped: return (dense, gap)."),
    ]
    for applies, sentence in wrong:
        if applies and (dense_got, gap_got) != (dense, gap):
            return sentence
    return None


def _judge_head(got, case, ref, what):
    args = _head_args(case)
    dense, gap = unpack(got, 2, "a pair (dense, gap) of ints", what)
    mistake = (head_mistake((dense, gap), *args)
               if all(type(v) is int for v in (dense, gap)) else None)
    check_equal(dense, int(ref["dense"]), f"{what}: the dense head's count", reveal=False,
                hint=mistake or "n_in * n_out + n_out for each of the three nn.Linear layers.")
    check_equal(gap, int(ref["gap"]), f"{what}: the GAP head's count", reveal=False,
                hint=mistake or "A 1x1 convolution channels -> num_classes: weights and biases; "
                                "the pooling has no parameters.")


# ----------------------------------------------------------------------------- the table

CHECKS = {
    "check_conv2d_from_numpy": layer_check("conv2d_from_numpy", "conv", _record_conv, _conv_what,
                                           _judge_conv),
    "check_cnn_two_ways": (
        layer_check("make_sequential_cnn", "cnn", _record_cnn(True), _cnn_what,
                    _judge_cnn("make_sequential_cnn")),
        layer_check("SubclassedCNN", "cnn", _record_cnn(False), _cnn_what,
                    _judge_cnn("SubclassedCNN")),
    ),
    "check_flatten_size": layer_check("flatten_size", "flatten", _record_flatten, _flatten_what,
                                      _judge_flatten),
    "check_lenet5": (
        layer_check("LeNet5", "lenet", _record_lenet, _lenet_what, _judge_lenet),
        layer_check("LeNet5", None, _record_lenet_refused, lambda case: "(...)",
                    _judge_lenet_refused, argument=0),
    ),
    "check_lenet_layer_params": Check(
        exercise="lenet_layer_params", prefix="layer_params",
        call=lambda fn, case: frozen(fn(build_stack(case["spec"]))), what=_layer_params_what,
        judge=_judge_layer_params),
    "check_param_counts": (
        Check(exercise="conv_params_count", prefix="conv_count",
              call=lambda fn, case: fn(*_conv_count_args(case)), what=_conv_count_what,
              judge=_judge_count("out_channels * in_channels * kernel_h * kernel_w weights, plus "
                                 "out_channels biases when bias=True; a kernel can be a pair (h, w).")),
        Check(exercise="vgg_block_params", prefix="vgg_count",
              call=lambda fn, case: fn(*(int(v) for v in case["args"])),
              what=lambda case: f"{tuple(int(v) for v in case['args'])}",
              judge=_judge_count("The first 3x3 convolution goes from in_channels to out_channels, "
                                 "the others from out_channels to out_channels; pooling has no "
                                 "parameters.")),
    ),
    "check_receptive_field": Check(
        exercise="receptive_field", prefix="rf",
        call=lambda fn, case: fn([tuple(layer) for layer in _rf_argument(_rf_layers(case))]),
        what=_rf_what, judge=_judge_rf),
    "check_residual_block": layer_check("ResidualBlock", "block", _record_block, _block_what,
                                        _judge_block),
    "check_small_resnet": Check(exercise="SmallResNet", prefix=None, call=recording(_record_resnet),
                                what=lambda case: "(num_classes)", judge=_judge_resnet, also=(1,)),
    "check_nin_block": layer_check("nin_block", "nin", _record_nin, _nin_what, _judge_nin),
    "check_gap_head": layer_check("gap_head", "gap", _record_gap, _gap_what, _judge_gap),
    "check_head_parameters": Check(
        exercise="head_parameters", prefix="head", call=lambda fn, case: fn(*_head_args(case)),
        what=lambda case: str(_head_args(case)), judge=_judge_head),
}

check_conv2d_from_numpy = runner(ASSIGNMENT, CHECKS, "check_conv2d_from_numpy")
check_cnn_two_ways = runner(ASSIGNMENT, CHECKS, "check_cnn_two_ways")
check_flatten_size = runner(ASSIGNMENT, CHECKS, "check_flatten_size")
check_lenet5 = runner(ASSIGNMENT, CHECKS, "check_lenet5")
check_lenet_layer_params = runner(ASSIGNMENT, CHECKS, "check_lenet_layer_params")
check_param_counts = runner(ASSIGNMENT, CHECKS, "check_param_counts")
check_receptive_field = runner(ASSIGNMENT, CHECKS, "check_receptive_field")
check_residual_block = runner(ASSIGNMENT, CHECKS, "check_residual_block")
check_small_resnet = runner(ASSIGNMENT, CHECKS, "check_small_resnet")
check_nin_block = runner(ASSIGNMENT, CHECKS, "check_nin_block")
check_gap_head = runner(ASSIGNMENT, CHECKS, "check_gap_head")
check_head_parameters = runner(ASSIGNMENT, CHECKS, "check_head_parameters")
