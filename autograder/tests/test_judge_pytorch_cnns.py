"""06-pytorch-cnns judged outside the kernel: each check run as the grading kernel runs it
(COURSE_JUDGE=outside, recording only), then judged by autograder.judge. The solution passes;
answers that lie (a tensor subclass from forward, an int subclass that equals anything, a dict
of them) and typical wrong ones fail with the student's message."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from autograder.hidden import pytorch_cnns
from autograder.solutions import load_solutions
from autograder.tests.judging import graded_outside


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingTensor(torch.Tensor):
    """A tensor that says it is close to anything."""
    def __eq__(self, other):
        return True


@pytest.fixture(scope="module")
def S():
    return load_solutions("06-pytorch-cnns")


CALLS = {
    "check_conv2d_from_numpy": ["conv2d_from_numpy"],
    "check_cnn_two_ways": ["make_sequential_cnn", "SubclassedCNN"],
    "check_flatten_size": ["flatten_size"],
    "check_lenet5": ["LeNet5"],
    "check_lenet_layer_params": ["lenet_layer_params"],
    "check_param_counts": ["conv_params_count", "vgg_block_params"],
    "check_receptive_field": ["receptive_field"],
    "check_residual_block": ["ResidualBlock"],
    "check_small_resnet": ["SmallResNet", "ResidualBlock"],
    "check_nin_block": ["nin_block"],
    "check_gap_head": ["gap_head"],
    "check_head_parameters": ["head_parameters"],
}


def graded(tmp_path, monkeypatch, check, fns):
    return graded_outside(tmp_path, monkeypatch, "pytorch_cnns", check, CALLS[check], fns)


def test_every_check_of_06_is_judged_outside():
    assert set(pytorch_cnns.CHECKS) == set(CALLS)


@pytest.mark.parametrize("check", list(CALLS))
def test_the_solution_passes_outside(tmp_path, monkeypatch, S, check):
    assert graded(tmp_path, monkeypatch, check, [S[n] for n in CALLS[check]]) is None


# ----------------------------------------------------------------------------- lying answers

def test_a_forward_that_returns_a_tensor_subclass_is_wrong(tmp_path, monkeypatch, S):
    def conv2d_from_numpy(w, b, stride, pad):
        layer = S["conv2d_from_numpy"](w, b, stride, pad)
        forward = layer.forward
        layer.forward = lambda x: forward(x).as_subclass(LyingTensor)
        return layer
    message = graded(tmp_path, monkeypatch, "check_conv2d_from_numpy", [conv2d_from_numpy])
    assert "LyingTensor" in message and "torch.Tensor" in message


@pytest.mark.parametrize("check, names", [
    ("check_flatten_size", ["flatten_size"]),
    ("check_receptive_field", ["receptive_field"]),
    ("check_param_counts", ["conv_params_count", "vgg_block_params"]),
])
def test_ints_that_equal_anything_are_wrong(tmp_path, monkeypatch, S, check, names):
    liars = [lambda *args, fn=S[n]: LyingInt(fn(*args) + 1) for n in names]
    message = graded(tmp_path, monkeypatch, check, liars)
    assert "LyingInt" in message and "not plain data" in message


def test_a_pair_of_lying_ints_is_wrong(tmp_path, monkeypatch, S):
    def head_parameters(*args):
        dense, gap = S["head_parameters"](*args)
        return LyingInt(dense + 1), LyingInt(gap + 1)
    message = graded(tmp_path, monkeypatch, "check_head_parameters", [head_parameters])
    assert "LyingInt" in message and "not plain data" in message


def test_a_gap_head_that_returns_a_tensor_subclass_is_wrong(tmp_path, monkeypatch, S):
    class Lying(nn.Module):
        def __init__(self, head):
            super().__init__()
            self.head = head

        def forward(self, x):
            return self.head(x).as_subclass(LyingTensor)
    message = graded(tmp_path, monkeypatch, "check_gap_head",
                     [lambda c, k: Lying(S["gap_head"](c, k))])
    assert "LyingTensor" in message and "torch.Tensor" in message


def test_a_dict_of_lying_ints_is_wrong(tmp_path, monkeypatch, S):
    def lenet_layer_params(model):
        return {key: LyingInt(0) for key in S["lenet_layer_params"](model)}
    message = graded(tmp_path, monkeypatch, "check_lenet_layer_params", [lenet_layer_params])
    assert "LyingInt" in message


def test_the_references_are_not_what_the_kernel_reads(tmp_path, monkeypatch):
    """Recording reads the inputs file, which holds no expected output."""
    from autograder.hidden.spec import load_inputs
    inputs = load_inputs("06-pytorch-cnns")
    fields = {key.rpartition("/")[2] for key in inputs}
    assert fields and not fields & {"out", "size", "total", "conv", "fc", "count", "zero_out",
                                    "shapes", "dense", "gap"}


# ----------------------------------------------------------------------------- wrong answers

def test_a_flipped_kernel_is_named(tmp_path, monkeypatch, S):
    def conv2d_from_numpy(w, b, stride, pad):
        return S["conv2d_from_numpy"](np.flip(w, axis=(2, 3)).copy(), b, stride, pad)
    message = graded(tmp_path, monkeypatch, "check_conv2d_from_numpy", [conv2d_from_numpy])
    assert "kernel is flipped" in message


def test_flatten_size_that_does_not_refuse_says_so(tmp_path, monkeypatch, S):
    def flatten_size(layers, input_shape):
        try:
            return S["flatten_size"](layers, input_shape)
        except ValueError:
            return 0
    message = graded(tmp_path, monkeypatch, "check_flatten_size", [flatten_size])
    assert "instead of raising ValueError" in message


def test_flatten_size_that_trains_the_layers_is_caught(tmp_path, monkeypatch, S):
    def flatten_size(layers, input_shape):
        with torch.no_grad():
            for p in layers.parameters():
                p.add_(1.0)
        return S["flatten_size"](layers, input_shape)
    message = graded(tmp_path, monkeypatch, "check_flatten_size", [flatten_size])
    assert "changed" in message


def test_a_lenet_without_refusals_loses_the_points(tmp_path, monkeypatch, S):
    class LeNet5(S["LeNet5"]):
        def __init__(self, activation="relu", input_size=(28, 28), num_classes=10):
            super().__init__("relu" if activation == "tanh" else activation, input_size, num_classes)
    message = graded(tmp_path, monkeypatch, "check_lenet5", [LeNet5])
    assert "tanh" in message and "ValueError" in message


def test_a_residual_block_with_relu_before_the_addition_is_named(tmp_path, monkeypatch, S):
    import torch.nn.functional as F

    class ResidualBlock(S["ResidualBlock"]):
        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            return F.relu(out + self.shortcut(x))
    message = graded(tmp_path, monkeypatch, "check_residual_block", [ResidualBlock])
    assert "ReLU comes before the addition" in message


def test_a_resnet_whose_blocks_sit_in_a_list_fails(tmp_path, monkeypatch, S):
    Block = S["ResidualBlock"]

    class SmallResNet(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.stem = nn.Conv2d(1, 8, 3, padding=1)
            self.blocks = [Block(8, 8, 1), Block(8, 16, 2)]      # not registered
            self.fc = nn.Linear(16, num_classes)

        def forward(self, x):
            h = self.stem(x)
            for block in self.blocks:
                h = block(h)
            return self.fc(h.mean(dim=(2, 3)))
    message = graded(tmp_path, monkeypatch, "check_small_resnet", [SmallResNet, Block])
    assert "ResidualBlock(s)" in message and "registered" in message


def test_a_resnet_that_returns_probabilities_is_told(tmp_path, monkeypatch, S):
    class SmallResNet(S["SmallResNet"]):
        def forward(self, x):
            return super().forward(x).softmax(dim=1)
    message = graded(tmp_path, monkeypatch, "check_small_resnet", [SmallResNet, S["ResidualBlock"]])
    assert "probabilities" in message


def test_a_nin_block_without_relu_after_the_1x1_convolutions_is_named(tmp_path, monkeypatch):
    def nin_block(in_channels, out_channels, kernel_size, stride, padding):
        return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
                             nn.ReLU(), nn.Conv2d(out_channels, out_channels, 1),
                             nn.Conv2d(out_channels, out_channels, 1))
    message = graded(tmp_path, monkeypatch, "check_nin_block", [nin_block])
    assert "A ReLU is missing after a 1x1 convolution" in message


def test_a_nin_block_with_padded_1x1_convolutions_is_caught(tmp_path, monkeypatch, S):
    def nin_block(in_channels, out_channels, kernel_size, stride, padding):
        block = S["nin_block"](in_channels, out_channels, kernel_size, stride, padding)
        block[2].padding = (padding, padding)
        return block
    message = graded(tmp_path, monkeypatch, "check_nin_block", [nin_block])
    assert "after the first convolution the size must not change" in message


def test_a_gap_head_without_pooling_is_named(tmp_path, monkeypatch):
    def gap_head(in_channels, num_classes):
        return nn.Sequential(nn.Conv2d(in_channels, num_classes, 1))
    message = graded(tmp_path, monkeypatch, "check_gap_head", [gap_head])
    assert "AdaptiveAvgPool2d(1)" in message and "height and width" in message


def test_a_gap_head_with_a_linear_layer_is_named(tmp_path, monkeypatch, S):
    def gap_head(in_channels, num_classes):
        return nn.Sequential(nn.Conv2d(in_channels, num_classes, 1), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(num_classes, num_classes))
    message = graded(tmp_path, monkeypatch, "check_gap_head", [gap_head])
    assert "nn.Linear ran" in message


def test_a_gap_head_with_max_pooling_is_named(tmp_path, monkeypatch):
    def gap_head(in_channels, num_classes):
        return nn.Sequential(nn.Conv2d(in_channels, num_classes, 1), nn.AdaptiveMaxPool2d(1),
                             nn.Flatten())
    message = graded(tmp_path, monkeypatch, "check_gap_head", [gap_head])
    assert "maximum of each map" in message


def test_head_parameters_without_biases_is_named(tmp_path, monkeypatch):
    def head_parameters(channels, height, width, hidden, num_classes):
        flat = channels * height * width
        return flat * hidden + hidden * hidden + hidden * num_classes, channels * num_classes
    message = graded(tmp_path, monkeypatch, "check_head_parameters", [head_parameters])
    assert "biases are missing" in message
