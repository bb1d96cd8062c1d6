"""Hidden tests of 06-pytorch-cnns: NumPy weights in nn.Conv2d (rectangular kernels, strides
1-3, pads 0-2, no bias), the small CNN built two ways (other class counts, stored weights),
flatten sizes of other stacks and inputs (non-square, three channels, dilation, pooling only,
inputs too small), LeNet-5 at other input sizes and class counts, parameter counts per layer
and per block (autograder/cases/pytorch_cnns.py lists the cases)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as tnf

from course.checks import CheckFailed, call_student, check_array, check_equal, check_raises

from autograder.cases.pytorch_cnns import (ACTIVATIONS, build_stack, lenet_shapes, network_params,
                                           seed_cnn_shapes)
from autograder.hidden import cases, load_references

ASSIGNMENT = "06-pytorch-cnns"


def _first_param(model, what):
    param = next(iter(model.parameters()), None)
    if param is None:
        raise CheckFailed(f"{what}: the model has no parameters; were its layers assigned as "
                          "attributes (self.conv1 = nn.Conv2d(...)) after super().__init__()?")
    return param


def _run(model, x, what):
    """Run a module on a NumPy batch (on the module's device and dtype); return NumPy."""
    param = _first_param(model, what)
    model.eval()
    with torch.no_grad():
        out = call_student(model, torch.from_numpy(x).to(device=param.device, dtype=param.dtype),
                           what=what)
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"{what}: forward returned {type(out).__name__}; it should return a tensor.")
    return out.detach().cpu().double().numpy()


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


def check_conv2d_from_numpy(conv2d_from_numpy):
    """conv2d_from_numpy(w, b, stride, pad) -> nn.Conv2d, on every reference case."""
    for case in cases(load_references(ASSIGNMENT), "conv"):
        x, w, b = case["x"], case["w"], case.get("b")
        stride, pad = (int(v) for v in case["stride_pad"])
        what = (f"hidden test: conv2d_from_numpy(w {w.shape}, "
                f"{'b' if b is not None else 'b None'}, stride {stride}, pad {pad})")
        layer = call_student(conv2d_from_numpy, w.copy(), None if b is None else b.copy(),
                             stride, pad, what=what)
        if not isinstance(layer, nn.Conv2d):
            raise CheckFailed(f"{what}: returned {type(layer).__name__}; it should return an "
                              "nn.Conv2d.")
        if b is None:
            check_equal(layer.bias is None, True, f"{what}: layer.bias is None",
                        hint="With b None the layer has no bias: nn.Conv2d(..., bias=False).")
        if not isinstance(layer.weight, nn.Parameter) or not layer.weight.requires_grad:
            raise CheckFailed(f"{what}: layer.weight must stay a trainable nn.Parameter "
                              "(requires_grad True).")
        out = _run(layer, x, f"{what}, applied to x {x.shape}")
        check_array(out, case["out"], f"{what}, applied to x {x.shape}", reveal=False,
                    rtol=1e-4, atol=1e-4,
                    diagnose=lambda got: conv_layer_mistake(got, x, w, b, stride, pad),
                    hint="Check in_channels, out_channels, kernel_size=(HH, WW), stride, padding, "
                         "and that both w and b were copied.")


# ------------------------------------------------------------------ the CNN, two ways

_CNN_ORDER = ("Create the layers in the order they are applied: conv 1->32, conv 32->64, "
              "conv 64->128 (3x3, stride 2), Linear(512, 512), Linear(512, num_classes).")


def check_cnn_two_ways(make_sequential_cnn, SubclassedCNN):
    """Both builders, for other class counts, with stored weights: outputs and counts."""
    for case in cases(load_references(ASSIGNMENT), "cnn"):
        num_classes, x = int(case["num_classes"]), case["x"]
        params = network_params(int(case["param_seed"]), seed_cnn_shapes(num_classes))
        for name, build in (("make_sequential_cnn", make_sequential_cnn),
                            ("SubclassedCNN", SubclassedCNN)):
            what = f"hidden test: {name}(num_classes={num_classes})"
            torch.manual_seed(0)
            model = call_student(build, num_classes, what=what)
            if name == "make_sequential_cnn" and not isinstance(model, nn.Sequential):
                raise CheckFailed(f"{what}: returned {type(model).__name__}; it should return "
                                  "an nn.Sequential.")
            if name == "SubclassedCNN" and (not isinstance(model, nn.Module)
                                            or isinstance(model, nn.Sequential)):
                raise CheckFailed(f"{what}: should be a subclass of nn.Module with its own "
                                  "forward, not an nn.Sequential.")
            check_equal(sum(p.numel() for p in model.parameters()), int(sum(p.size for p in params)),
                        f"{what}: number of parameters", reveal=False,
                        hint="Count each layer: out * (in * 3 * 3) + out for a convolution, "
                             "out * in + out for a dense layer.")
            _load_in_order(model, params, what, _CNN_ORDER)
            check_array(_run(model, x, f"{what} on x {x.shape}"), case["out"],
                        f"{what} with the stored weights, on x {x.shape}", reveal=False,
                        rtol=1e-4, atol=1e-5,
                        hint="A ReLU after each convolution and after the hidden dense layer, none "
                             "after the last layer; flatten with start_dim=1 so the batch stays.")


# ------------------------------------------------------------------------ flatten size

def check_flatten_size(flatten_size):
    """flatten_size(layers, input_shape) -> int on other stacks; ValueError when impossible."""
    for case in cases(load_references(ASSIGNMENT), "flatten"):
        spec, input_shape, size = case["spec"], tuple(int(v) for v in case["input_shape"]), int(case["size"])
        torch.manual_seed(0)
        layers = build_stack(spec)
        kinds = ", ".join(type(m).__name__ for m in layers)
        what = f"hidden test: flatten_size(stack [{kinds}], input_shape={input_shape})"
        if size < 0:
            check_raises(lambda: flatten_size(layers, input_shape), ValueError, what,
                         hint="This stack cannot take that input (too small, or the wrong number "
                              "of channels): catch PyTorch's RuntimeError and raise ValueError.")
            continue
        before = {k: v.clone() for k, v in layers.state_dict().items()}
        got = call_student(flatten_size, layers, input_shape, what=what)
        check_equal(got, size, what, reveal=False,
                    hint="Run torch.zeros(1, *input_shape) through the layers under "
                         "torch.no_grad() and count the values of the output for that one image.")
        for k, v in layers.state_dict().items():
            if not torch.equal(v, before[k]):
                raise CheckFailed(f"{what}: the layers' {k} changed; flatten_size must only "
                                  "look at the stack, not train or modify it.")


# ------------------------------------------------------------------------- LeNet-5

_LENET_ORDER = ("Create the layers in the order they are applied: conv1 (1->6, 5x5), conv2 "
                "(6->16, 5x5), fc1 (flatten size -> 120), fc2 (120 -> 84), fc3 (84 -> "
                "num_classes).")


def check_lenet5(LeNet5):
    """LeNet5(activation, input_size, num_classes) on other sizes, with stored weights."""
    for case in cases(load_references(ASSIGNMENT), "lenet"):
        act, H, W, num_classes = (int(v) for v in case["setting"])
        activation, x = ACTIVATIONS[act], case["x"]
        params = network_params(int(case["param_seed"]), lenet_shapes(H, W, num_classes))
        what = (f"hidden test: LeNet5(activation={activation!r}, input_size=({H}, {W}), "
                f"num_classes={num_classes})")
        torch.manual_seed(0)
        model = call_student(LeNet5, activation, (H, W), num_classes, what=what)
        if not isinstance(model, nn.Module):
            raise CheckFailed(f"{what}: LeNet5 should be a subclass of nn.Module.")
        check_equal(sum(p.numel() for p in model.parameters()), int(case["total"]),
                    f"{what}: number of parameters", reveal=False,
                    hint="fc1's input is the flatten size for this input size: compute it with "
                         "flatten_size, do not write 16 * 5 * 5.")
        _load_in_order(model, params, what, _LENET_ORDER)
        out = _run(model, x, f"{what} on x {x.shape}")
        check_array(out, case["out"], f"{what} with the stored weights, on x {x.shape}",
                    reveal=False, rtol=1e-4, atol=1e-5,
                    hint=f"The {activation} after both convolutions and after fc1 and fc2 (not "
                         "after fc3); conv1 has padding=2; max pooling 2x2 after each activation.")
    for activation, size in (("tanh", (28, 28)), ("relu", (8, 8)), ("sigmoid", (10, 10))):
        check_raises(lambda: LeNet5(activation, size, 10), ValueError,
                     f"hidden test: LeNet5(activation={activation!r}, input_size={size})",
                     hint="Raise ValueError for an activation other than 'relu' or 'sigmoid', "
                          "and when the input is too small for the layers (flatten_size does).")


def check_lenet_layer_params(lenet_layer_params):
    """lenet_layer_params(model) -> {"conv1": ..., "fc1": ...} on other networks."""
    for case in cases(load_references(ASSIGNMENT), "layer_params"):
        model = build_stack(case["spec"])
        expected = {f"conv{i + 1}": int(n) for i, n in enumerate(case["conv"])}
        expected.update({f"fc{i + 1}": int(n) for i, n in enumerate(case["fc"])})
        layers = ", ".join(f"{type(m).__name__}" + ("" if m.bias is not None else "(bias=False)")
                           for m in model if isinstance(m, (nn.Conv2d, nn.Linear)))
        what = f"hidden test: lenet_layer_params(a network with layers {layers})"
        got = call_student(lenet_layer_params, model, what=what)
        if not isinstance(got, dict):
            raise CheckFailed(f"{what}: returned {type(got).__name__}; it should return a dict.")
        check_equal(sorted(got), sorted(expected), f"{what}: the keys", reveal=False,
                    hint="One key per Conv2d (conv1, conv2, ...) and per Linear (fc1, fc2, ...), "
                         "numbered in the order the layers appear in model.modules().")
        for key, n in expected.items():
            check_equal(got[key], n, f"{what}[{key!r}]", reveal=False,
                        hint="Count every parameter of the layer: sum(p.numel() for p in "
                             "layer.parameters()), which leaves out a bias the layer does not have.")


# ------------------------------------------------------------------- parameter counts

def check_param_counts(conv_params_count, vgg_block_params):
    refs = load_references(ASSIGNMENT)
    for case in cases(refs, "conv_count"):
        c_in, c_out, kh, kw, bias = (int(v) for v in case["args"])
        kernel = kh if kh == kw else (kh, kw)
        what = f"hidden test: conv_params_count({c_in}, {c_out}, {kernel}, bias={bool(bias)})"
        got = call_student(conv_params_count, c_in, c_out, kernel, bool(bias), what=what)
        check_equal(got, int(case["count"]), what, reveal=False,
                    hint="out_channels * in_channels * kernel_h * kernel_w weights, plus "
                         "out_channels biases when bias=True; a kernel can be a pair (h, w).")
    for case in cases(refs, "vgg_count"):
        c_in, c_out, num_convs = (int(v) for v in case["args"])
        what = f"hidden test: vgg_block_params({c_in}, {c_out}, {num_convs})"
        got = call_student(vgg_block_params, c_in, c_out, num_convs, what=what)
        check_equal(got, int(case["count"]), what, reveal=False,
                    hint="The first 3x3 convolution goes from in_channels to out_channels, the "
                         "others from out_channels to out_channels; pooling has no parameters.")
