"""Cases for 06-pytorch-cnns. Oracles: torch.nn.functional in float64 (conv2d, the small CNN,
LeNet-5 and the residual block written out layer by layer), torch modules' own parameter counts
and forward passes (flatten sizes, parameter counts, torchvision's BasicBlock), and a gradient
measurement for receptive fields (which input pixels one output unit depends on).

Networks are stored as an input, the output it gives, and the seed of their parameters
(`network_params(seed, shapes)` rebuilds the arrays, in the order the layers are applied, which
keeps the file small); the hidden tests copy the parameters into the student's model in its
creation order and compare outputs. Layer stacks are stored as rows of integers (LAYER
below) and rebuilt with `build_stack`, which the hidden tests import from here.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as tnf

SEED = 2026 + 6
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"out", "size", "total", "conv", "fc", "count", "zero_out", "shapes", "dense",
                 "gap"}

# one layer per row: (kind, a, b, kernel_h, kernel_w, stride, pad, dilation, bias)
CONV, MAXPOOL, AVGPOOL, RELU, FLATTEN, LINEAR, SIGMOID = range(7)
LAYER = ("kind", "in", "out", "kernel_h", "kernel_w", "stride", "pad", "dilation", "bias")


def conv(c_in, c_out, k, stride=1, pad=0, dilation=1, bias=1):
    kh, kw = (k, k) if np.isscalar(k) else k
    return (CONV, c_in, c_out, kh, kw, stride, pad, dilation, bias)


def pool(k, stride=None, kind=MAXPOOL):
    return (kind, 0, 0, k, k, stride or k, 0, 1, 0)


def linear(n_in, n_out, bias=1):
    return (LINEAR, n_in, n_out, 0, 0, 0, 0, 0, bias)


RELU_ROW = (RELU,) + (0,) * 8
SIGMOID_ROW = (SIGMOID,) + (0,) * 8
FLATTEN_ROW = (FLATTEN,) + (0,) * 8


def build_stack(spec):
    """An nn.Sequential from rows of LAYER (an int array (L, 9) or a list of tuples)."""
    layers = []
    for row in np.asarray(spec, dtype=np.int64):
        kind, a, b, kh, kw, stride, pad, dilation, bias = (int(v) for v in row)
        if kind == CONV:
            layers.append(nn.Conv2d(a, b, (kh, kw), stride=stride, padding=pad,
                                    dilation=dilation, bias=bool(bias)))
        elif kind == MAXPOOL:
            layers.append(nn.MaxPool2d((kh, kw), stride=stride))
        elif kind == AVGPOOL:
            layers.append(nn.AvgPool2d((kh, kw), stride=stride))
        elif kind == RELU:
            layers.append(nn.ReLU())
        elif kind == SIGMOID:
            layers.append(nn.Sigmoid())
        elif kind == FLATTEN:
            layers.append(nn.Flatten())
        elif kind == LINEAR:
            layers.append(nn.Linear(a, b, bias=bool(bias)))
        else:
            raise ValueError(f"unknown layer kind {kind}")
    return nn.Sequential(*layers)


# ------------------------------------------------------------------ conv2d_from_numpy

# (N, C, H, W, F, HH, WW, stride, pad, bias): rectangular kernels and inputs, strides 1-3,
# pads 0-2, a 1x1 kernel, an even kernel, a layer without bias; every case tiles exactly
CONV_CASES = [
    (2, 3, 7, 9, 4, 3, 3, 1, 1, True),
    (1, 2, 8, 7, 3, 2, 3, 2, 0, True),
    (2, 1, 9, 11, 2, 5, 5, 2, 2, True),
    (1, 3, 7, 8, 5, 3, 1, 3, 1, False),
    (3, 2, 5, 6, 2, 1, 1, 1, 0, True),
    (1, 4, 10, 7, 3, 4, 2, 1, 2, True),
]


def _f64(array):
    return torch.from_numpy(np.asarray(array, dtype=np.float64))


# ------------------------------------------------------------- the small CNN, two ways

def seed_cnn_forward(params, x):
    """Three 3x3 stride-2 convolutions (32, 64, 128 maps) with ReLU, flatten, a dense layer of
    512 with ReLU, a dense output layer. params: the 10 arrays in order; x: (N, 1, 28, 28)."""
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = (_f64(p) for p in params)
    h = tnf.relu(tnf.conv2d(_f64(x), w1, b1, stride=2))
    h = tnf.relu(tnf.conv2d(h, w2, b2, stride=2))
    h = tnf.relu(tnf.conv2d(h, w3, b3, stride=2))
    h = tnf.relu(tnf.linear(h.flatten(1), w4, b4))
    return tnf.linear(h, w5, b5).numpy()


def seed_cnn_shapes(num_classes):
    return [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (128, 64, 3, 3), (128,),
            (512, 512), (512,), (num_classes, 512), (num_classes,)]


CNN_CASES = [(10, 2), (4, 5)]   # (num_classes, N)


# ------------------------------------------------------------------------- LeNet-5

def lenet_flat(H, W):
    """16 * H_out * W_out after conv 5x5 pad 2, pool 2, conv 5x5, pool 2 (by the formula)."""
    h, w = H // 2, W // 2
    return 16 * ((h - 4) // 2) * ((w - 4) // 2)


def lenet_shapes(H, W, num_classes):
    n = lenet_flat(H, W)
    return [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, n), (120,), (84, 120), (84,),
            (num_classes, 84), (num_classes,)]


def lenet_forward(params, x, activation):
    """LeNet-5 written out with torch.nn.functional, in float64."""
    act = torch.relu if activation == "relu" else torch.sigmoid
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = (_f64(p) for p in params)
    h = tnf.max_pool2d(act(tnf.conv2d(_f64(x), w1, b1, padding=2)), 2)
    h = tnf.max_pool2d(act(tnf.conv2d(h, w2, b2)), 2)
    h = act(tnf.linear(h.flatten(1), w3, b3))
    h = act(tnf.linear(h, w4, b4))
    return tnf.linear(h, w5, b5).numpy()


ACTIVATIONS = ("relu", "sigmoid")
# (activation, H, W, num_classes, N): square and non-square inputs, 3 to 10 classes
LENET_CASES = [(0, 28, 28, 10, 2), (1, 32, 32, 10, 3), (0, 28, 36, 10, 2), (1, 40, 24, 7, 1),
               (0, 12, 12, 3, 4)]


def lenet_spec(H, W, num_classes, activation=RELU_ROW):
    return [conv(1, 6, 5, pad=2), activation, pool(2), conv(6, 16, 5), activation, pool(2),
            FLATTEN_ROW, linear(lenet_flat(H, W), 120), activation, linear(120, 84), activation,
            linear(84, num_classes)]


def network_params(seed, shapes):
    """Parameters like PyTorch's default initialisation, uniform in +-1/sqrt(fan_in), as
    float32, from np.random.default_rng(seed). A bias (1-D) shares its weight's fan-in."""
    rng = np.random.default_rng(seed)
    params, bound = [], None
    for shape in shapes:
        if len(shape) > 1:
            bound = 1 / np.sqrt(np.prod(shape[1:]))
        params.append(rng.uniform(-bound, bound, size=shape).astype(np.float32))
    return params


# ------------------------------------------------------------------------ flatten size

SEED_STACK = [conv(1, 32, 3, stride=2), RELU_ROW, conv(32, 64, 3, stride=2), RELU_ROW,
              conv(64, 128, 3, stride=2), RELU_ROW]
LENET_STACK = [conv(1, 6, 5, pad=2), RELU_ROW, pool(2), conv(6, 16, 5), RELU_ROW, pool(2)]
VGG_STACK = [conv(3, 16, 3, pad=1), RELU_ROW, conv(16, 16, 3, pad=1), RELU_ROW, pool(2),
             conv(16, 32, 3, pad=1), RELU_ROW, pool(2)]
POOL_STACK = [pool(3), pool(2, kind=AVGPOOL)]
DILATED_STACK = [conv(1, 4, 3, dilation=2), RELU_ROW, conv(4, 8, (3, 1))]

# (stack, input_shape): the expected size comes from a forward pass, -1 when none is possible
FLATTEN_CASES = [
    (SEED_STACK, (1, 28, 28)), (SEED_STACK, (1, 32, 32)), (SEED_STACK, (1, 64, 48)),
    (LENET_STACK, (1, 28, 28)), (LENET_STACK, (1, 32, 32)), (LENET_STACK, (1, 20, 36)),
    (VGG_STACK, (3, 32, 32)), (VGG_STACK, (3, 24, 40)),
    (POOL_STACK, (2, 18, 30)), (DILATED_STACK, (1, 11, 9)),
    (SEED_STACK, (1, 5, 5)),            # too small: the second convolution gets 2x2
    (LENET_STACK, (1, 8, 8)),           # the raw 8x8 digits are too small for LeNet
    (VGG_STACK, (1, 32, 32)),           # one channel into a stack that wants three
]


def _flatten_size(spec, input_shape):
    torch.manual_seed(0)
    try:
        with torch.no_grad():
            return int(build_stack(spec)(torch.zeros(1, *input_shape)).numel())
    except RuntimeError:
        return -1


# --------------------------------------------------------------- parameters per layer

# models for lenet_layer_params: LeNet-5 at other sizes, the small CNN, and a network with
# a bias-free convolution, a 1x1 convolution and average pooling
LAYER_PARAM_MODELS = [
    lenet_spec(32, 32, 10), lenet_spec(28, 36, 7, SIGMOID_ROW),
    SEED_STACK + [FLATTEN_ROW, linear(512, 512), RELU_ROW, linear(512, 10)],
    [conv(3, 16, 3, pad=1, bias=0), RELU_ROW, conv(16, 8, 1), RELU_ROW, pool(2, kind=AVGPOOL),
     FLATTEN_ROW, linear(8 * 4 * 4, 5, bias=0)],
]


def _layer_counts(spec):
    model = build_stack(spec)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    fcs = [m for m in model if isinstance(m, nn.Linear)]
    count = lambda m: sum(p.numel() for p in m.parameters())    # noqa: E731
    return np.array([count(m) for m in convs]), np.array([count(m) for m in fcs])


# ------------------------------------------------------------------- parameter counts

# (in_channels, out_channels, kernel_h, kernel_w, bias)
CONV_COUNT_CASES = [(3, 64, 3, 3, 1), (64, 64, 3, 3, 1), (256, 64, 1, 1, 1), (64, 256, 1, 1, 0),
                    (1, 6, 5, 5, 1), (3, 96, 11, 11, 1), (32, 48, 1, 7, 1), (17, 5, 3, 2, 0)]
# (in_channels, out_channels, num_convs)
VGG_COUNT_CASES = [(3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3),
                   (1, 8, 1), (16, 16, 4)]


def vgg_block(in_channels, out_channels, num_convs):
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                   nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


# ------------------------------------------------------------------- receptive fields

RF_CONV, RF_POOL = 0, 1
# one layer per row: (kind, kernel_size, stride, dilation); pools have dilation 1
RF_CASES = [
    [],                                                                   # no layer: one pixel
    [(RF_CONV, 4, 3, 1)],                                                 # one even kernel, stride 3
    [(RF_CONV, 5, 1, 1), (RF_POOL, 2, 2, 1), (RF_CONV, 5, 1, 1), (RF_POOL, 2, 2, 1)],  # LeNet-5
    [(RF_CONV, 3, 2, 1)] * 3 + [(RF_CONV, 3, 1, 1)],                      # strides that compound
    [(RF_CONV, 7, 2, 1), (RF_POOL, 3, 2, 1), (RF_CONV, 3, 1, 1), (RF_CONV, 3, 1, 1),
     (RF_CONV, 3, 2, 1), (RF_CONV, 3, 1, 1)],                             # a ResNet-18 stem and more
    [(RF_CONV, 1, 2, 1), (RF_CONV, 3, 1, 1), (RF_POOL, 2, 2, 1), (RF_CONV, 1, 1, 1)],  # 1x1 layers
    [(RF_CONV, 3, 1, 1), (RF_CONV, 3, 1, 2), (RF_CONV, 3, 1, 4), (RF_CONV, 3, 1, 8)],  # dilations
    [(RF_CONV, 3, 2, 2), (RF_POOL, 2, 2, 1), (RF_CONV, 3, 1, 3)],         # dilation after strides
    # VGG-16's 13 convolutions and 5 poolings
    ([(RF_CONV, 3, 1, 1)] * 2 + [(RF_POOL, 2, 2, 1)]) * 2
    + ([(RF_CONV, 3, 1, 1)] * 3 + [(RF_POOL, 2, 2, 1)]) * 3,
]


def rf_stack(layers):
    """The layers as torch modules: convolutions with weights 1 and no bias, average pools."""
    modules = []
    for kind, k, stride, dilation in layers:
        if kind == RF_POOL:
            modules.append(nn.AvgPool2d(k, stride=stride))
        else:
            conv_layer = nn.Conv2d(1, 1, k, stride=stride, dilation=dilation, bias=False)
            nn.init.ones_(conv_layer.weight)
            modules.append(conv_layer)
    return nn.Sequential(*modules).double()


def measured_receptive_field(layers):
    """Side of the input window one output unit depends on, measured: the gradient of the
    centre output unit with respect to the input is non-zero exactly on the pixels it sees
    (weights 1 and average pools: every path adds, nothing cancels). Without padding every
    unit's window lies inside the input, so its size does not depend on the input size."""
    stack, size = rf_stack(layers), 16
    while True:
        x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
        try:
            out = stack(x)
        except RuntimeError:           # the input is still too small for the stack
            size *= 2
            continue
        break
    i, j = out.shape[2] // 2, out.shape[3] // 2
    (grad,) = torch.autograd.grad(out[0, 0, i, j], x)
    rows = torch.nonzero(grad[0, 0].abs().sum(dim=1)).flatten()
    cols = torch.nonzero(grad[0, 0].abs().sum(dim=0)).flatten()
    height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
    assert height == width, (layers, height, width)
    return height


# --------------------------------------------------------------------- residual block

BN_EPS = 1e-5
# (in_channels, out_channels, stride, N, H, W): identity blocks (one non-square), channels that
# grow with stride 2 on an odd non-square input, stride 2 with the same channels, channels that
# grow with stride 1; the last three need a projection
BLOCK_CASES = [(8, 8, 1, 3, 7, 9), (5, 5, 1, 2, 6, 6), (4, 8, 2, 2, 9, 7), (6, 6, 2, 3, 8, 10),
               (4, 12, 1, 2, 6, 5)]


def needs_projection(in_channels, out_channels, stride):
    return stride != 1 or in_channels != out_channels


def basic_block(in_channels, out_channels, stride):
    """torchvision's BasicBlock, with the projection torchvision's ResNet gives it (a 1x1
    convolution with the stride, then BatchNorm) when the shapes change."""
    from course.torchvision_compat import import_torchvision
    resnet = import_torchvision().models.resnet
    downsample = None
    if needs_projection(in_channels, out_channels, stride):
        downsample = nn.Sequential(resnet.conv1x1(in_channels, out_channels, stride),
                                   nn.BatchNorm2d(out_channels))
    return resnet.BasicBlock(in_channels, out_channels, stride, downsample)


def _bn_train(h):
    """BatchNorm in training mode with weight 1 and bias 0: each channel standardised over the
    batch and the positions (biased variance)."""
    return tnf.batch_norm(h, None, None, training=True, eps=BN_EPS)


def block_forward(x, w1, w2, wp, stride):
    """The basic block in training mode (BN weights 1, biases 0), float64:
    ReLU(BN(conv3x3(ReLU(BN(conv3x3_stride(x))))) + shortcut(x)), the shortcut x itself or
    BN(conv1x1_stride(x)) when wp is given."""
    x, w1, w2 = _f64(x), _f64(w1), _f64(w2)
    h = tnf.relu(_bn_train(tnf.conv2d(x, w1, stride=stride, padding=1)))
    h = _bn_train(tnf.conv2d(h, w2, padding=1))
    shortcut = x if wp is None else _bn_train(tnf.conv2d(x, _f64(wp), stride=stride))
    return tnf.relu(h + shortcut).numpy()


def block_zero_branch(x, wp, stride):
    """The block in eval mode with fresh BatchNorms and both 3x3 convolutions zero: the branch
    gives 0 and the block returns ReLU(shortcut(x)), the shortcut x or BN(conv1x1(x))."""
    x = _f64(x)
    shortcut = x if wp is None else tnf.conv2d(x, _f64(wp), stride=stride) / np.sqrt(1 + BN_EPS)
    return tnf.relu(shortcut).numpy()


# ------------------------------------------------------- Network in Network (Lin et al. 2014)

# nin_block: (in_channels, out_channels, kernel_h, kernel_w, stride, pad, N, H, W): non-square
# inputs, a rectangular kernel, strides 1, 2 and 4 (the first block of d2l 8.3's NiN), a 1x1 first
# convolution
NIN_CASES = [(1, 8, 5, 5, 1, 2, 2, 12, 9), (3, 6, 3, 3, 2, 1, 2, 11, 14),
             (2, 4, 11, 11, 4, 0, 1, 35, 27), (4, 5, 3, 5, 1, 1, 2, 7, 10),
             (3, 3, 1, 1, 1, 0, 3, 5, 6)]
# gap_head: (in_channels, num_classes, N, H, W): non-square maps, a 1x1 map, one class more than
# channels and fewer
GAP_CASES = [(8, 10, 2, 5, 7), (16, 3, 3, 1, 1), (4, 7, 1, 9, 4), (6, 2, 2, 13, 11)]
GAP_SIZES = ((3, 8), (16, 5))      # other inputs (1, in_channels, H, W): one score per class
# head_parameters: (channels, height, width, hidden, num_classes): VGG-16's head, AlexNet's,
# non-square maps, a 1x1 map, a hidden layer of one unit
HEAD_CASES = [(512, 7, 7, 4096, 1000), (256, 6, 6, 4096, 1000), (64, 4, 3, 128, 10),
              (32, 1, 1, 64, 5), (16, 5, 9, 1, 3)]


def nin_block_layers(in_channels, out_channels, kernel_size, stride, padding):
    """d2l 8.3's NiN block, from torch layers: conv, ReLU, then two 1x1 convolutions with ReLU."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
                         nn.ReLU(), nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
                         nn.Conv2d(out_channels, out_channels, 1), nn.ReLU())


def layer_shapes(model, x):
    """Output shape of every layer of an nn.Sequential on x, in order: (layers, 4)."""
    shapes, h = [], x
    with torch.no_grad():
        for layer in model:
            h = layer(h)
            shapes.append(tuple(h.shape))
    return np.array(shapes, dtype=np.int64)


def nin_forward(x, params, stride, pad):
    """The NiN block written out with torch.nn.functional, float64."""
    w1, b1, w2, b2, w3, b3 = (_f64(p) for p in params)
    h = tnf.relu(tnf.conv2d(_f64(x), w1, b1, stride=stride, padding=pad))
    h = tnf.relu(tnf.conv2d(h, w2, b2))
    return tnf.relu(tnf.conv2d(h, w3, b3)).numpy()


def dense_head(channels, height, width, hidden, num_classes):
    """VGG's classifier without dropout: flatten, dense hidden, ReLU, dense hidden, ReLU, dense."""
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


def gap_head_layers(channels, num_classes):
    return nn.Sequential(nn.Conv2d(channels, num_classes, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _nin_shapes(in_channels, out_channels, kh, kw):
    return [(out_channels, in_channels, kh, kw), (out_channels,), (out_channels, out_channels, 1, 1),
            (out_channels,), (out_channels, out_channels, 1, 1), (out_channels,)]


def _meta_count(model_fn, *args):
    with torch.device("meta"):
        return sum(p.numel() for p in model_fn(*args).parameters())


def build():
    """Cases for 06-pytorch-cnns: {key: array}."""
    rng = np.random.default_rng(SEED)
    refs = {}
    for i, (N, C, H, W, F, HH, WW, stride, pad, bias) in enumerate(CONV_CASES):
        x, w = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW))
        b = rng.normal(size=F) if bias else None
        refs[f"conv/{i}/x"], refs[f"conv/{i}/w"] = x, w
        if b is not None:
            refs[f"conv/{i}/b"] = b
        refs[f"conv/{i}/stride_pad"] = np.array([stride, pad])
        refs[f"conv/{i}/out"] = tnf.conv2d(_f64(x), _f64(w), None if b is None else _f64(b),
                                           stride=stride, padding=pad).numpy()

    for i, (num_classes, N) in enumerate(CNN_CASES):
        seed = int(rng.integers(2**31))
        params = network_params(seed, seed_cnn_shapes(num_classes))
        x = rng.uniform(size=(N, 1, 28, 28)).astype(np.float32)
        refs[f"cnn/{i}/num_classes"], refs[f"cnn/{i}/param_seed"] = np.array(num_classes), np.array(seed)
        refs[f"cnn/{i}/x"] = x
        refs[f"cnn/{i}/out"] = seed_cnn_forward(params, x)

    for i, (stack, input_shape) in enumerate(FLATTEN_CASES):
        refs[f"flatten/{i}/spec"] = np.array(stack, dtype=np.int64)
        refs[f"flatten/{i}/input_shape"] = np.array(input_shape)
        refs[f"flatten/{i}/size"] = np.array(_flatten_size(stack, input_shape))

    for i, (act, H, W, num_classes, N) in enumerate(LENET_CASES):
        seed = int(rng.integers(2**31))
        params = network_params(seed, lenet_shapes(H, W, num_classes))
        x = rng.uniform(size=(N, 1, H, W)).astype(np.float32)
        refs[f"lenet/{i}/setting"] = np.array([act, H, W, num_classes])
        refs[f"lenet/{i}/param_seed"], refs[f"lenet/{i}/x"] = np.array(seed), x
        refs[f"lenet/{i}/out"] = lenet_forward(params, x, ACTIVATIONS[act])
        refs[f"lenet/{i}/total"] = np.array(sum(p.size for p in params))

    for i, spec in enumerate(LAYER_PARAM_MODELS):
        convs, fcs = _layer_counts(spec)
        refs[f"layer_params/{i}/spec"] = np.array(spec, dtype=np.int64)
        refs[f"layer_params/{i}/conv"], refs[f"layer_params/{i}/fc"] = convs, fcs

    for i, (c_in, c_out, kh, kw, bias) in enumerate(CONV_COUNT_CASES):
        layer = nn.Conv2d(c_in, c_out, (kh, kw), bias=bool(bias))
        refs[f"conv_count/{i}/args"] = np.array([c_in, c_out, kh, kw, bias])
        refs[f"conv_count/{i}/count"] = np.array(sum(p.numel() for p in layer.parameters()))

    for i, (c_in, c_out, num_convs) in enumerate(VGG_COUNT_CASES):
        block = vgg_block(c_in, c_out, num_convs)
        refs[f"vgg_count/{i}/args"] = np.array([c_in, c_out, num_convs])
        refs[f"vgg_count/{i}/count"] = np.array(sum(p.numel() for p in block.parameters()))

    for i, layers in enumerate(RF_CASES):
        refs[f"rf/{i}/layers"] = np.array(layers, dtype=np.int64).reshape(-1, 4)
        refs[f"rf/{i}/size"] = np.array(measured_receptive_field(layers))

    for i, (c_in, c_out, stride, N, H, W) in enumerate(BLOCK_CASES):
        x = rng.normal(size=(N, c_in, H, W)).astype(np.float32)
        w1 = rng.normal(scale=1 / np.sqrt(9 * c_in), size=(c_out, c_in, 3, 3)).astype(np.float32)
        w2 = rng.normal(scale=1 / np.sqrt(9 * c_out), size=(c_out, c_out, 3, 3)).astype(np.float32)
        wp = None
        if needs_projection(c_in, c_out, stride):
            wp = rng.normal(scale=1 / np.sqrt(c_in), size=(c_out, c_in, 1, 1)).astype(np.float32)
            refs[f"block/{i}/wp"] = wp
        refs[f"block/{i}/args"] = np.array([c_in, c_out, stride])
        refs[f"block/{i}/x"], refs[f"block/{i}/w1"], refs[f"block/{i}/w2"] = x, w1, w2
        refs[f"block/{i}/out"] = block_forward(x, w1, w2, wp, stride)
        refs[f"block/{i}/zero_out"] = block_zero_branch(x, wp, stride)
        refs[f"block/{i}/count"] = np.array(sum(p.numel() for p in
                                                basic_block(c_in, c_out, stride).parameters()))

    for i, (c_in, c_out, kh, kw, stride, pad, N, H, W) in enumerate(NIN_CASES):
        params = network_params(int(rng.integers(2**31)), _nin_shapes(c_in, c_out, kh, kw))
        x = rng.normal(size=(N, c_in, H, W)).astype(np.float32)
        refs[f"nin/{i}/args"] = np.array([c_in, c_out, kh, kw, stride, pad])
        refs[f"nin/{i}/x"] = x
        for name, p in zip(("w1", "b1", "w2", "b2", "w3", "b3"), params):
            refs[f"nin/{i}/{name}"] = p
        block = nin_block_layers(c_in, c_out, (kh, kw), stride, pad)
        refs[f"nin/{i}/shapes"] = layer_shapes(block, torch.from_numpy(x))
        refs[f"nin/{i}/count"] = np.array(sum(p.numel() for p in block.parameters()))
        refs[f"nin/{i}/out"] = nin_forward(x, params, stride, pad)

    for i, (c_in, num_classes, N, H, W) in enumerate(GAP_CASES):
        w = rng.normal(scale=1 / np.sqrt(c_in), size=(num_classes, c_in, 1, 1)).astype(np.float32)
        b = rng.normal(size=num_classes).astype(np.float32)
        x = rng.normal(size=(N, c_in, H, W)).astype(np.float32)
        refs[f"gap/{i}/args"] = np.array([c_in, num_classes])
        refs[f"gap/{i}/x"], refs[f"gap/{i}/w"], refs[f"gap/{i}/b"] = x, w, b
        refs[f"gap/{i}/count"] = np.array(sum(p.numel() for p in
                                              gap_head_layers(c_in, num_classes).parameters()))
        refs[f"gap/{i}/out"] = tnf.conv2d(_f64(x), _f64(w), _f64(b)).mean(dim=(2, 3)).numpy()

    for i, args in enumerate(HEAD_CASES):
        refs[f"head/{i}/args"] = np.array(args)
        refs[f"head/{i}/dense"] = np.array(_meta_count(dense_head, *args))
        refs[f"head/{i}/gap"] = np.array(_meta_count(gap_head_layers, args[0], args[4]))
    return refs
