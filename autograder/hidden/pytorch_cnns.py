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


def _rf_argument(layers):
    """The layers as the task describes them: (k, s) pairs, or (k, s, d) when dilated."""
    return [(k, s) if d == 1 else (k, s, d) for k, s, d in layers]


def check_receptive_field(receptive_field):
    """receptive_field(layers) on other stacks, against a gradient measurement."""
    for case in cases(load_references(ASSIGNMENT), "rf"):
        layers = [tuple(int(v) for v in row[1:]) for row in case["layers"]]
        argument = _rf_argument(layers)
        shown = argument if len(argument) <= 6 else f"a stack of {len(argument)} layers"
        what = f"hidden test: receptive_field({shown})"
        got = call_student(receptive_field, [tuple(layer) for layer in argument], what=what)
        diagnosis = receptive_field_mistake(got, layers)
        check_equal(got, int(case["size"]), what, reveal=False,
                    hint=diagnosis or "Start at r = 1, j = 1; for each layer r += d * (k - 1) * j, "
                                      "then j *= s. Pools are layers like any other.")


# ------------------------------------------------------------------------ residual block

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


def _fresh_block(ResidualBlock, c_in, c_out, stride, what):
    torch.manual_seed(0)
    block = call_student(ResidualBlock, c_in, c_out, stride, what=what)
    if not isinstance(block, nn.Module):
        raise CheckFailed(f"{what}: ResidualBlock should be a subclass of nn.Module.")
    return block


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


def _run_block(block, x, what, train):
    param = _first_param(block, what)
    block.train(train)
    with torch.no_grad():
        out = call_student(block, torch.from_numpy(x).to(device=param.device, dtype=param.dtype),
                           what=what,
                           hint="F(x) and the shortcut must have the same shape to be added: "
                                "padding=1 on both 3x3 convolutions, the stride on the first one "
                                "and on the 1x1 projection.")
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"{what}: forward returned {type(out).__name__}; it should return a tensor.")
    return out.detach().cpu().double().numpy()


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


def check_residual_block(ResidualBlock):
    """ResidualBlock(in, out, stride): structure, parameter count, the shortcut really added
    (branch zeroed), and the output in training mode with stored weights."""
    for case in cases(load_references(ASSIGNMENT), "block"):
        c_in, c_out, stride = (int(v) for v in case["args"])
        x, w1, w2, wp = case["x"], case["w1"], case["w2"], case.get("wp")
        what = f"hidden test: ResidualBlock({c_in}, {c_out}, stride={stride})"
        block = _fresh_block(ResidualBlock, c_in, c_out, stride, what)
        k3, projection, bns = _block_parts(block, c_in, c_out, stride, what)
        biased = [m for m in k3 + [projection] if m is not None and m.bias is not None]
        check_equal(sum(p.numel() for p in block.parameters()), int(case["count"]),
                    f"{what}: number of parameters", reveal=False,
                    hint=("The convolutions have biases: a convolution followed by BatchNorm "
                          "needs none (BN subtracts the mean, which cancels it); use bias=False."
                          if biased else
                          "Count conv1 (in * out * 9), conv2 (out * out * 9), 2 * out per "
                          "BatchNorm, and in * out for the projection when there is one."))

        # the branch F made 0: the block must return ReLU(shortcut(x))
        _set_block_weights(k3, projection, bns, (np.zeros_like(w1), np.zeros_like(w2), wp), what)
        zero_what = f"{what} with both 3x3 convolutions' weights set to 0 (so F(x) = 0), on x {x.shape}"
        out = _run_block(block, x, zero_what, train=False)
        if out.shape == case["zero_out"].shape and np.allclose(out, 0, atol=1e-6) \
                and not np.allclose(case["zero_out"], 0):
            raise CheckFailed(f"{zero_what}: returned only zeros.\n  Hint: the shortcut is not "
                              "added: return ReLU(F(x) + shortcut(x)), where shortcut(x) is x, or "
                              "the projection of x when the shapes change.")
        shortcut = x if wp is None else tnf.conv2d(torch.from_numpy(x).double(),
                                                   torch.from_numpy(wp).double(),
                                                   stride=stride).numpy() / np.sqrt(1 + 1e-5)
        check_array(out, case["zero_out"], zero_what, reveal=False, rtol=1e-4, atol=1e-4,
                    diagnose=lambda got: (
                        "Negative values came out: the last ReLU must come after the addition, "
                        "ReLU(F(x) + shortcut(x))." if got.shape == shortcut.shape
                        and np.allclose(got, shortcut, rtol=1e-4, atol=1e-4) else None),
                    hint="With F(x) = 0 the block returns ReLU(shortcut(x)): x itself when the "
                         "shapes do not change, the 1x1 projection (with the stride) then "
                         "BatchNorm otherwise.")

        # the whole block in training mode (BatchNorm on batch statistics), stored weights
        block = _fresh_block(ResidualBlock, c_in, c_out, stride, what)
        k3, projection, bns = _block_parts(block, c_in, c_out, stride, what)
        _set_block_weights(k3, projection, bns, (w1, w2, wp), what)
        train_what = f"{what} in training mode with the stored weights, on x {x.shape}"
        out = _run_block(block, x, train_what, train=True)
        check_array(out, case["out"], train_what, reveal=False, rtol=1e-4, atol=1e-4,
                    diagnose=lambda got: residual_block_mistake(got, x, w1, w2, wp, stride),
                    hint="conv3x3 (stride, padding 1), BN, ReLU, conv3x3 (padding 1), BN; add the "
                         "shortcut; then ReLU.")


# --------------------------------------------------------------------------- SmallResNet

RESNET_BUDGET = 100_000


def _digits_batch(start, count, size=(28, 28)):
    from course.data import load_digits
    x, y = load_digits()
    x = tnf.interpolate(torch.from_numpy(x[start:start + count]), size=size, mode="bilinear",
                        align_corners=False)
    return x, torch.from_numpy(y[start:start + count])


def check_trains(model, x, y, steps, what, lr=1e-3, factor=0.85):
    """Adam on one fixed batch for `steps` steps: the loss must fall below factor * the first.
    Returns the losses."""
    param = _first_param(model, what)
    x, y = x.to(param.device), y.to(param.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for step in range(steps):
        scores = call_student(model, x, what=what)
        if step == 0 and scores.shape == (len(y), scores.shape[-1]) and scores.min() >= 0 \
                and torch.allclose(scores.sum(dim=1), torch.ones(len(y), device=scores.device)):
            raise CheckFailed(f"{what}: the scores are probabilities (they sum to 1).\n  Hint: "
                              "return the raw scores; F.cross_entropy applies the softmax itself.")
        loss = tnf.cross_entropy(scores, y)
        if not torch.isfinite(loss):
            raise CheckFailed(f"{what}: the loss became {loss.item()} at step {step}.")
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            unused = [name for name, p in model.named_parameters() if p.grad is None]
            if unused:
                raise CheckFailed(f"{what}: these parameters got no gradient: {unused[:4]}.\n  "
                                  "Hint: every layer created in __init__ should be used in forward.")
        optimizer.step()
        losses.append(loss.item())
    if not losses[-1] < factor * losses[0]:
        raise CheckFailed(
            f"{what}: the loss went from {losses[0]:.3f} to {losses[-1]:.3f} in {steps} steps of "
            f"Adam (lr {lr}) on the same {len(y)} images; it should fall below {factor} times the "
            "first.\n  Hint: are all the layers registered (nn.Sequential, not a Python list), "
            "and is every block's output used?")
    return losses


def check_small_resnet(SmallResNet, ResidualBlock):
    """SmallResNet(num_classes): built from ResidualBlocks, within the budget, any input size
    (global average pooling), and it trains on a few digits."""
    for num_classes, sizes in ((10, ((28, 28), (20, 36))), (4, ((32, 32), (16, 24))), (7, ((28, 28),))):
        what = f"hidden test: SmallResNet(num_classes={num_classes})"
        torch.manual_seed(0)
        model = call_student(SmallResNet, num_classes, what=what)
        if not isinstance(model, nn.Module):
            raise CheckFailed(f"{what}: SmallResNet should be a subclass of nn.Module.")
        blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
        if len(blocks) < 2:
            raise CheckFailed(f"{what}: found {len(blocks)} ResidualBlock(s) among the model's "
                              "modules.\n  Hint: build the stages from your ResidualBlock, at least "
                              "two of them, registered (attributes or nn.Sequential, not a list).")
        if not any(isinstance(m, nn.Conv2d) and tuple(m.kernel_size) == (1, 1)
                   for b in blocks for m in b.modules()):
            raise CheckFailed(f"{what}: no ResidualBlock changes the shapes.\n  Hint: a new stage "
                              "starts with a block of stride 2 and more channels (its shortcut is a "
                              "projection).")
        count = sum(p.numel() for p in model.parameters())
        if count > RESNET_BUDGET:
            raise CheckFailed(f"{what}: {count:,} parameters, more than the budget of "
                              f"{RESNET_BUDGET:,}.\n  Hint: fewer channels; a 3x3 convolution from C "
                              "to C channels costs 9 C^2 weights.")
        for H, W in sizes:
            x = np.random.default_rng(H * W).uniform(size=(2, 1, H, W)).astype(np.float32)
            run_what = f"{what} on x (2, 1, {H}, {W})"
            model.eval()
            param = _first_param(model, what)
            with torch.no_grad():
                out = call_student(model, torch.from_numpy(x).to(param.device), what=run_what,
                                   hint="End with global average pooling (nn.AdaptiveAvgPool2d(1) "
                                        "or a mean over H and W), so that any input size gives "
                                        "one value per channel.")
            if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, num_classes):
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise CheckFailed(f"{run_what}: returned {shape}, not scores of shape "
                                  f"(2, {num_classes}).")
    what = "hidden test: SmallResNet(10) trained on 16 digits enlarged to 28x28"
    x, y = _digits_batch(1000, 16)
    torch.manual_seed(1)
    check_trains(call_student(SmallResNet, 10, what=what), x, y, 8, what)
