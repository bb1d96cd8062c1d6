"""Hidden tests of 07-training-cnns, judged outside the kernel (autograder.hidden.spec), on
other sizes than the public tests: datasets of non-square images, splits of imbalanced classes,
one SGD epoch replayed against a stored reference (float64), evaluation against sklearn's
accuracy, early stopping on scripted validation losses, confusion matrices against sklearn,
saving and loading weights with batch-normalisation buffers, the better CNN's layers, the
two fixed bugs, and the training craft: per-channel statistics against NumPy's, the initial loss
against torch's cross-entropy, a tiny batch overfitted (train mode, gradients cleared before each
backward, the loss below 0.05), and the learning rate at each step against torch's OneCycleLR
built by the judge (autograder/cases/training_cnns.py lists the cases).

In the kernel the student's code runs on instrumented objects and what they observed is
recorded as plain data (autograder.hidden.steps): a wrapper notes, at every forward pass,
whether the model was in training mode and whether autograd was on; an SGD optimizer notes at
every step whether the gradients were those of the current batch alone; a loss notes every
value and batch size; the weights after training, the images a dataset gives, the indices and
first pixels a loader yields, the losses in a history, the predictions of a loaded model. The
judge compares those records with the references, which the kernel cannot read, and names the
mistake. What the instruments observe is decided in the kernel (they watch the student's code
as it runs), so a submission could tamper with them; the numbers they are compared with are
not.
"""
import contextlib
import copy
import numbers
import os
import tempfile

import numpy as np
import sklearn.metrics
import sklearn.metrics._classification
import torch
import torch.nn as nn
import torch.nn.functional as tnf
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler, TensorDataset

from course.checks import CheckFailed, check_array, check_close, check_equal
from course.shortcuts import find_reachable

from autograder.hidden.spec import Check, function_name, runner
from autograder.hidden.steps import (failure, layer_check, must_raise, outcome, plain, record_step,
                                     recorded, recording, result_of)

ASSIGNMENT = "07-training-cnns"
CPU = torch.device("cpu")
SIZE = 16
PARAM_NAMES = ("conv_w", "conv_b", "fc_w", "fc_b")


def _what(fn, exercise, text):
    return f"hidden test: {function_name(fn, exercise)}{text}"


# ---------------------------------------------------------------- instruments

class _Recorder(nn.Module):
    """Wraps a network; records training mode, grad mode and the input of every forward."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.modes, self.grad_modes, self.last_input = [], [], None

    def forward(self, x):
        self.modes.append(self.training)
        self.grad_modes.append(torch.is_grad_enabled())
        self.last_input = x.detach().clone()
        return self.net(x)


class _RecordingLoss(nn.Module):
    """Cross-entropy that records every value, batch size and target batch."""

    def __init__(self):
        super().__init__()
        self.values, self.sizes, self.last_targets = [], [], None

    def forward(self, out, y):
        loss = tnf.cross_entropy(out, y)
        self.values.append(loss.item())
        self.sizes.append(len(y))
        self.last_targets = y.detach().clone()
        return loss


class _SpySGD(torch.optim.SGD):
    """Plain SGD that checks, before each step, that the gradients are the current batch's."""

    def __init__(self, params, lr, recorder, loss_fn):
        super().__init__(params, lr=lr)
        self._recorder, self._loss_fn = recorder, loss_fn
        self.steps, self.problem = 0, None

    def _inspect(self):
        params = list(self._recorder.net.parameters())
        if any(p.grad is None for p in params):
            return ("the parameters had no gradient when optimizer.step() ran. Call "
                    "optimizer.zero_grad() before loss.backward(), not between backward() and step().")
        if self._recorder.last_input is None or self._loss_fn.last_targets is None:
            return "optimizer.step() ran before any forward pass and loss."
        reference = copy.deepcopy(self._recorder.net)
        with torch.enable_grad():
            loss = tnf.cross_entropy(reference(self._recorder.last_input), self._loss_fn.last_targets)
            fresh = torch.autograd.grad(loss, list(reference.parameters()))
        if all(torch.allclose(p.grad, g, rtol=1e-7, atol=1e-10) for p, g in zip(params, fresh)):
            return None
        if all(torch.allclose(p.grad, 0 * g) for p, g in zip(params, fresh)):
            return ("the gradients were all zero when optimizer.step() ran: zero_grad() was called "
                    "after loss.backward(). The order is zero_grad(), forward, loss, backward(), step().")
        return ("the gradients held more than the current batch's gradient: they were not zeroed, "
                "so backward() added this batch's gradient to the earlier ones. Call "
                "optimizer.zero_grad() once per batch, before loss.backward().")

    def step(self, closure=None):
        self.steps += 1
        problem = self._inspect()
        if problem is not None and self.problem is None:
            self.problem = f"at step {self.steps}, {problem}"
        return super().step(closure)


class _ScriptedModel(nn.Module):
    """One parameter w, starting at 0. A training step on scripted_loss adds 1 to w (with SGD,
    lr = 1), so after epoch e (counting from 1) w = e; in eval mode the 'loss' it produces is
    val_losses[e - 1], so the validation losses of a run are exactly the script."""

    def __init__(self, val_losses):
        super().__init__()
        self.w = nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.table = [100.0] + [float(v) for v in val_losses]

    def forward(self, x):
        ones = torch.ones(len(x), 2, dtype=torch.float64)
        if self.training:
            return -self.w * ones
        step = min(max(int(round(self.w.item())), 0), len(self.table) - 1)
        return self.table[step] * ones


def _scripted_loss(out, y):
    return out[:, 0].mean()


@contextlib.contextmanager
def _sklearn_confusion_forbidden(fn):
    """While the block runs, sklearn's confusion_matrix raises CheckFailed, also under the
    names the student's notebook bound it to."""
    original = sklearn.metrics.confusion_matrix
    name = getattr(fn, "__name__", "confusion_matrix_torch")

    def refuse(*args, **kwargs):
        raise CheckFailed(f"{name} called sklearn's confusion_matrix: count the pairs yourself "
                          "with torch (sklearn is what the tests compare with).")

    namespace = getattr(fn, "__globals__", {})
    aliases = [key for key, value in namespace.items() if value is original]
    try:
        sklearn.metrics.confusion_matrix = refuse
        sklearn.metrics._classification.confusion_matrix = refuse
        for key in aliases:
            namespace[key] = refuse
        yield
    finally:
        sklearn.metrics.confusion_matrix = original
        sklearn.metrics._classification.confusion_matrix = original
        for key in aliases:
            namespace[key] = original


@contextlib.contextmanager
def _torch_load_spy(calls):
    original = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    torch.load = spy
    try:
        yield
    finally:
        torch.load = original


# ---------------------------------------------------------------- in the kernel: plain data

def _array(value, what, name="the output"):
    """A tensor the student's code gave, as a NumPy array of its dtype (copied); it must be a
    torch.Tensor itself (a subclass could answer for itself how it converts)."""
    if type(value) is not torch.Tensor:
        raise CheckFailed(f"{what}: {name} is a {type(value).__name__}; it should be a torch "
                          "tensor (torch.Tensor).")
    return np.array(value.detach().cpu().numpy(), copy=True)


def _as_float(value, what, hint):
    """A Python number from what the student returned (a 0-d tensor without grad is accepted)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise CheckFailed(f"{what}: returned a tensor of shape {tuple(value.shape)}; it should "
                              f"return one number.\n  Hint: {hint}")
        if value.requires_grad:
            raise CheckFailed(f"{what}: returned a tensor that still carries its autograd graph; "
                              "return a float.\n  Hint: use loss.item() to add up the losses.")
        return float(torch.Tensor.item(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise CheckFailed(f"{what}: returned {type(value).__name__} {value!r}; it should return a float."
                      f"\n  Hint: {hint}")


def _item(item, what):
    """One (image, label) item of a dataset as {'image': array, 'dtype': str, 'label': int}."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise CheckFailed(f"{what}: returned {type(item).__name__}; an item should be a pair "
                          "(image, label).")
    image, label = item
    if not isinstance(image, torch.Tensor):
        raise CheckFailed(f"{what}: the image is a {type(image).__name__}; it should be a torch "
                          "tensor of shape (1, 16, 16).")
    if isinstance(label, torch.Tensor):
        if label.numel() != 1 or label.dtype.is_floating_point:
            raise CheckFailed(f"{what}: the label is a tensor of shape {tuple(label.shape)}, dtype "
                              f"{label.dtype}; it should be one integer.")
        label = int(torch.Tensor.item(label))
    elif isinstance(label, (numbers.Integral, np.integer)):
        label = int(label)
    else:
        raise CheckFailed(f"{what}: the label is {type(label).__name__} {label!r}; it should be an int.")
    return {"image": _array(image, what, "the image"), "dtype": str(image.dtype), "label": label}


# ---------------------------------------------------------------- judging: small helpers

def _judge_item(item, expected, label, what, diagnose=None, hint=None):
    """One recorded item against the expected image and label."""
    if type(item) is not dict:
        raise CheckFailed(f"{what}: the test recorded no item.")
    if item.get("dtype") != "torch.float32":
        raise CheckFailed(f"{what}: the image has dtype {item.get('dtype')}; it should be float32.")
    check_array(plain(item.get("image"), what), expected, f"image of {what}", reveal=False,
                atol=1e-6, diagnose=diagnose, hint=hint)
    check_equal(item.get("label"), int(label), f"label of {what}", reveal=False)


def _failed_step(got, what):
    """CheckFailed with the message of the step that failed (the record ends there)."""
    raise CheckFailed(failure(got.get("failed"), what))


def _floats(values, what):
    if type(values) is not list or not all(type(v) is float for v in values):
        raise CheckFailed(f"{what}: the test recorded values it cannot read.")
    return np.array(values, dtype=float)


def _upsample_mistake(got, x):
    """Name a wrong way of resizing x to 16x16, or None."""
    got = np.asarray(got)
    t = torch.from_numpy(x)
    if got.shape == x.shape[1:]:
        return "The image was not resized: upsample every image to 16x16 with F.interpolate."
    candidates = [
        (tnf.interpolate(t, size=(SIZE, SIZE), mode="nearest"),
         "That is nearest-neighbour resizing: use mode=\"bilinear\", align_corners=False."),
        (tnf.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=True),
         "That is bilinear resizing with align_corners=True: use align_corners=False."),
        (tnf.interpolate(t, size=(SIZE, SIZE), mode="bicubic", align_corners=False),
         "That is bicubic resizing: use mode=\"bilinear\", align_corners=False."),
    ]
    for candidate, sentence in candidates:
        candidate = candidate.numpy()
        if got.shape == candidate.shape[1:] and any(np.allclose(got, c, atol=1e-6) for c in candidate):
            return sentence
    return None


# ---------------------------------------------------------------- 1. data

def _dataset_what(case):
    return f"(x {case['x'].shape}, y ({len(case['y'])},))"


def _dataset_items(n):
    return sorted({0, n - 1, n // 2})


def _record_dataset(fn, case, record):
    x, y = case["x"], case["y"]
    what = _what(fn, "DigitsDataset", _dataset_what(case))
    dataset = record_step(record, None, lambda: fn(x.copy(), y.copy()), what)
    record_step(record, "len", lambda: int(len(dataset)), f"len({what})")
    items = record["items"] = []
    for i in _dataset_items(len(y)):
        item_what = f"{what}[{i}]"
        items.append(record_step(record, None, lambda: _item(dataset[i], item_what), item_what))

    calls = []

    def counting(image):
        calls.append([int(v) for v in image.shape])
        return image + len(calls)

    what = _what(fn, "DigitsDataset", f"(x {x.shape}, y, transform=...)")
    dataset = record_step(record, None, lambda: fn(x.copy(), y.copy(), transform=counting), what)
    first = record_step(record, None, lambda: _item(dataset[0], f"{what}[0]"), f"{what}[0]")
    second = record_step(record, None, lambda: _item(dataset[0], f"{what}[0]"), f"{what}[0]")
    record["transform"] = {"differs": not np.array_equal(first["image"], second["image"]),
                           "calls": len(calls), "last_shape": calls[-1] if calls else None}


def _judge_dataset(got, case, ref, what):
    x, y, expected = case["x"], case["y"], ref["expected"]
    check_equal(recorded(got, "len", what), len(y), f"len({what})",
                hint="__len__ returns the number of images.", reveal=False)
    items = got.get("items") or []
    for k, i in enumerate(_dataset_items(len(y))):
        if k >= len(items):
            _failed_step(got, what)
        _judge_item(items[k], expected[i], y[i], f"{what}[{i}]",
                    diagnose=lambda image, i=i: _upsample_mistake(image, x[i:i + 1]),
                    hint="F.interpolate(images, size=(16, 16), mode=\"bilinear\", "
                         "align_corners=False), once for all images, in __init__.")
    transform = recorded(got, "transform", what)
    what = f"hidden test: DigitsDataset(x {x.shape}, y, transform=...)"
    if not transform.get("calls") or not transform.get("differs"):
        raise CheckFailed(f"{what}: reading item 0 twice gave the same image, so the transform "
                          "did not run at each read.\n  Hint: apply self.transform inside "
                          "__getitem__, so that every epoch sees a new random version.")
    if transform.get("last_shape") != [x.shape[1], SIZE, SIZE]:
        raise CheckFailed(f"{what}: the transform received an image of shape "
                          f"{tuple(transform.get('last_shape') or ())}; it should receive the "
                          f"upsampled image, ({x.shape[1]}, {SIZE}, {SIZE}).")


LOADER_NAMES = ("train_loader", "val_loader", "test_loader")
LOADER_FRACTIONS = (0.6, 0.2, 0.2)


def _loader_settings(case):
    y = case["y"]
    batch_size, seed = (int(v) for v in case["settings"])
    return y, batch_size, seed


def _loaders_what(case):
    y, batch_size, seed = _loader_settings(case)
    return (f"(x ({len(y)}, 1, 8, 8), y with class sizes {np.bincount(y).tolist()}, "
            f"batch_size={batch_size}, seed={seed}, train_transform=...)")


def _loader_record(loader, what):
    """What one loader is and yields: batch size, sampler, first pixels and labels in order."""
    if isinstance(loader.sampler, RandomSampler):
        sampler = "random"
    elif isinstance(loader.sampler, SequentialSampler):
        sampler = "sequential"
    else:
        sampler = type(loader.sampler).__name__
    values, labels = [], []
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise CheckFailed(f"{what}: a batch should be a pair (images, labels).")
        images, y = batch
        values += _array(images, what, "a batch of images")[:, 0, 0, 0].astype(float).tolist()
        labels += [int(v) for v in _array(y, what, "a batch of labels").tolist()]
    batch_size = loader.batch_size
    return {"batch_size": batch_size if type(batch_size) is int else None, "sampler": sampler,
            "values": values, "labels": labels}


def _record_loaders(fn, case, record):
    y, batch_size, seed = _loader_settings(case)
    n = len(y)
    x = np.broadcast_to((np.arange(n) / n).astype(np.float32)[:, None, None, None],
                        (n, 1, 8, 8)).copy()
    what = _what(fn, "make_loaders", _loaders_what(case))

    def loaders(result):
        if not isinstance(result, tuple) or len(result) != 3 or \
                not all(isinstance(r, DataLoader) for r in result):
            raise CheckFailed(f"{what}: should return three DataLoaders (train, val, test).")
        return [_loader_record(loader, f"{what}, {name}") for loader, name in zip(result, LOADER_NAMES)]

    for key, s in (("first", seed), ("again", seed), ("other", seed + 1)):
        result = record_step(record, None, lambda: fn(x.copy(), y.copy(), batch_size=batch_size, seed=s,
                                                      train_transform=lambda image: image + 10.0), what)
        record_step(record, key, lambda: loaders(result), what)


def _loader_indices(loader, n, what, marked):
    """Indices (in order) of the constant images i / n a recorded loader yielded."""
    values = np.array(loader.get("values") or [], dtype=float)
    if marked:
        if not (values >= 9.5).all():
            raise CheckFailed(f"{what}: some training images did not go through "
                              "train_transform.\n  Hint: build the training dataset with "
                              "transform=train_transform.")
        values = values - 10.0
    elif (values >= 9.5).any():
        raise CheckFailed(f"{what}: images went through train_transform. Only the training "
                          "set is augmented; validation and test images stay as they are.")
    return [int(round(v * n)) for v in values.tolist()]


def _judge_loaders(got, case, ref, what):
    y, batch_size, seed = _loader_settings(case)
    n, counts = len(y), np.bincount(y)
    first = recorded(got, "first", what)
    splits = {}
    for name, loader, fraction in zip(LOADER_NAMES, first, LOADER_FRACTIONS):
        if loader.get("batch_size") != batch_size:
            raise CheckFailed(f"{what}: {name} has batch_size {loader.get('batch_size')}, not {batch_size}.")
        if name == "train_loader" and loader.get("sampler") != "random":
            raise CheckFailed(f"{what}: train_loader does not shuffle.\n  Hint: shuffle=True "
                              "for the training loader (with a seeded generator).")
        if name != "train_loader" and loader.get("sampler") != "sequential":
            raise CheckFailed(f"{what}: {name} shuffles; only the training loader should.")
        indices = _loader_indices(loader, n, f"{what}, {name}", name == "train_loader")
        if any(not 0 <= i < n for i in indices) or loader.get("labels") != [int(y[i]) for i in indices]:
            raise CheckFailed(f"{what}: {name} pairs images with the wrong labels.")
        if abs(len(indices) - fraction * n) > 2:
            raise CheckFailed(f"{what}: {name} holds {len(indices)} of the {n} digits; it should "
                              f"hold about {fraction:.0%} of them (60% / 20% / 20%).")
        per_class = np.bincount(y[indices], minlength=len(counts))
        if np.abs(per_class - fraction * counts).max() > 2:
            raise CheckFailed(f"{what}: {name} is not stratified: its class sizes are "
                              f"{per_class.tolist()}, not about {fraction:.0%} of each class.\n"
                              "  Hint: train_test_split(..., stratify=labels, random_state=seed).")
        splits[name] = indices
    if sorted(sum(splits.values(), [])) != list(range(n)):
        raise CheckFailed(f"{what}: the three splits should hold every digit exactly once; "
                          "some are missing or repeated.")

    again = recorded(got, "again", what)
    for name, loader in zip(LOADER_NAMES[1:], again[1:]):
        if sorted(_loader_indices(loader, n, what, False)) != sorted(splits[name]):
            raise CheckFailed(f"{what}: two calls with the same seed gave different splits.\n"
                              "  Hint: pass random_state=seed to every random split.")
    if _loader_indices(again[0], n, what, True) != splits["train_loader"]:
        raise CheckFailed(f"{what}: two calls with the same seed shuffled the training set in "
                          "different orders.\n  Hint: DataLoader(..., shuffle=True, "
                          "generator=torch.Generator().manual_seed(seed)).")
    other = recorded(got, "other", what)
    if sorted(_loader_indices(other[2], n, what, False)) == sorted(splits["test_loader"]):
        raise CheckFailed(f"{what}: seed={seed + 1} gave the same test set as seed={seed}: "
                          "the split does not use the seed.")


# ---------------------------------------------------------------- 2. the training loop

def _train_net(case):
    C, H, W = case["x"].shape[1:]
    K = case["fc_b"].shape[0]
    net = nn.Sequential(nn.Conv2d(C, 3, 3, padding=1), nn.ReLU(), nn.Flatten(),
                        nn.Linear(3 * H * W, K)).double()
    with torch.no_grad():
        for p, name in zip(net.parameters(), ("conv_w", "conv_b", "fc_w", "fc_b")):
            p.copy_(torch.from_numpy(case[name]))
    return net


def _train_settings(case):
    batch_size, lr = int(case["settings"][0]), float(case["settings"][1])
    n = len(case["y"])
    return batch_size, lr, -(-n // batch_size)


def _train_what(case):
    batch_size, lr, n_batches = _train_settings(case)
    return (f" on {len(case['y'])} images {tuple(case['x'].shape[1:])}, batch_size {batch_size} "
            f"({n_batches} batches), SGD lr={lr}")


def _record_train(fn, case, record):
    x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
    batch_size, lr, _ = _train_settings(case)
    what = _what(fn, "train_one_epoch", _train_what(case))
    model = _Recorder(_train_net(case))
    loss_fn = _RecordingLoss()
    optimizer = _SpySGD(model.parameters(), lr, model, loss_fn)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    model.eval()  # the function has to switch training mode on itself
    result = record_step(record, None, lambda: fn(model, loader, loss_fn, optimizer, CPU), what)
    record["modes"] = [bool(m) for m in model.modes]
    record["steps"] = int(optimizer.steps)
    record["problem"] = optimizer.problem
    record["values"] = [float(v) for v in loss_fn.values]
    record_step(record, "loss", lambda: _as_float(result, what, "return the mean training loss "
                                                  "over the epoch."), what)
    record["after"] = {name: np.array(p.detach().numpy(), copy=True)
                       for p, name in zip(model.net.parameters(), PARAM_NAMES)}


def _require_training(modes, what, when):
    """Every recorded model call was in training mode; else CheckFailed saying so."""
    if not modes:
        raise CheckFailed(f"{what}: the model was never called.")
    if not all(m is True for m in modes):
        raise CheckFailed(f"{what}: the model ran in evaluation mode.\n  Hint: call "
                          f"model.train() {when}: dropout and batch normalisation behave "
                          "differently in the two modes.")


def _judge_train(got, case, ref, what):
    _, _, n_batches = _train_settings(case)
    _require_training(recorded(got, "modes", what), what, "at the start")
    steps = got.get("steps")
    if steps == 0:
        raise CheckFailed(f"{what}: optimizer.step() was never called, so nothing was learned.")
    if type(got.get("problem")) is str:
        raise CheckFailed(f"{what}: {got['problem']}")
    if steps != n_batches:
        raise CheckFailed(f"{what}: optimizer.step() ran {steps} times; it should run once per "
                          f"batch ({n_batches}).")
    loss = recorded(got, "loss", what)
    values, expected = _floats(got.get("values"), what), float(ref["loss"])
    hint = "Weight each batch's loss by its size: sum(loss.item() * len(batch)) / number of samples."
    if len(values) and not np.isclose(values.mean(), expected) and np.isclose(loss, values.mean()):
        hint = ("That is the mean of the batch losses; the last batch is smaller, so weight "
                "each batch by its size.")
    elif len(values) and np.isclose(loss, values[-1]):
        hint = "That is the loss of the last batch only: average over the whole epoch."
    elif len(values) and np.isclose(loss, values.sum()):
        hint = "That is the sum of the batch losses: divide by the number of samples."
    check_close(loss, expected, f"mean loss returned by {what}", reveal=False, rtol=1e-7, hint=hint)
    after = got.get("after") or {}
    for name in PARAM_NAMES:
        check_array(plain(after.get(name), f"{name} after {what}"), ref[f"{name}_after"],
                    f"{name} after {what}", reveal=False, rtol=1e-7, atol=1e-10,
                    hint="One step per batch, on that batch's gradient alone.")


def _evaluate_what(case):
    K, _ = case["w"].shape
    return (f" on {len(case['y'])} samples, {K} classes, batch_size {int(case['batch_size'])}, "
            "a Dropout(0.5) in the model")


def _record_evaluate(fn, case, record):
    x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
    batch_size = int(case["batch_size"])
    K, D = case["w"].shape
    what = _what(fn, "evaluate", _evaluate_what(case))
    net = nn.Sequential(nn.Dropout(0.5), nn.Linear(D, K)).double()
    with torch.no_grad():
        net[1].weight.copy_(torch.from_numpy(case["w"]))
        net[1].bias.copy_(torch.from_numpy(case["b"]))
    before = [p.detach().clone() for p in net.parameters()]
    model, loss_fn = _Recorder(net), _RecordingLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    model.train()  # the function has to switch evaluation mode on itself
    torch.manual_seed(0)
    result = record_step(record, None, lambda: fn(model, loader, loss_fn, CPU), what)
    record["modes"] = [bool(m) for m in model.modes]
    record["grad_modes"] = [bool(m) for m in model.grad_modes]
    record["changed"] = any(not torch.equal(a, p) for a, p in zip(before, net.parameters()))
    record["values"] = [float(v) for v in loss_fn.values]

    def pair():
        if not isinstance(result, tuple) or len(result) != 2:
            raise CheckFailed(f"{what}: returned {type(result).__name__}; it should return a pair "
                              "(mean loss, accuracy).")
        return [_as_float(result[0], f"mean loss from {what}", "return (mean loss, accuracy)"),
                _as_float(result[1], f"accuracy from {what}", "return (mean loss, accuracy)")]
    record_step(record, "result", pair, what)


def _require_evaluation(got, what, autograd_hint, changed):
    """The recorded model calls were all in eval mode, without autograd, and the weights did
    not change; else CheckFailed with the hint for the first thing that went wrong."""
    modes = got.get("modes")
    if not modes:
        raise CheckFailed(f"{what}: the model was never called.")
    if any(m is not False for m in modes):
        raise CheckFailed(f"{what}: the model ran in training mode, with dropout on.\n  Hint: "
                          "call model.eval() first.")
    if any(m is not False for m in got.get("grad_modes") or [True]):
        raise CheckFailed(f"{what}: autograd was on{autograd_hint}")
    if got.get("changed") is not False:
        raise CheckFailed(f"{what}: the weights changed; {changed}")


def _judge_evaluate(got, case, ref, what):
    result = recorded(got, "result", what)
    _require_evaluation(got, what, " during evaluation.\n  Hint: run the loop inside "
                        "`with torch.no_grad():`.", "evaluation must not train.")
    loss, accuracy = result
    x, y, batch_size = case["x"], case["y"], int(case["batch_size"])
    right = (x @ case["w"].T + case["b"]).argmax(axis=1) == y
    batch_correct = [right[s:s + batch_size].mean() for s in range(0, len(y), batch_size)]
    expected_accuracy = float(ref["accuracy"])
    hint = "accuracy = (number of correct predictions) / (number of samples), over the whole loader."
    if np.isclose(accuracy, 100 * expected_accuracy):
        hint = "That is a percentage: return a fraction between 0 and 1."
    elif np.isclose(accuracy, expected_accuracy * len(y)):
        hint = "That is the number of correct predictions: divide by the number of samples."
    elif np.isclose(accuracy, np.mean(batch_correct)) and not np.isclose(np.mean(batch_correct), expected_accuracy):
        hint = ("That is the mean of the batch accuracies; the last batch is smaller, so count "
                "correct predictions over all samples.")
    check_close(accuracy, expected_accuracy, f"accuracy from {what} (compared with "
                "sklearn.metrics.accuracy_score on the same predictions)", reveal=False, hint=hint)
    values = _floats(got.get("values"), what)
    hint = "Weight each batch's loss by its size and divide by the number of samples."
    if len(values) and np.isclose(loss, values.mean()) and not np.isclose(values.mean(), float(ref["loss"])):
        hint = ("That is the mean of the batch losses; the last batch is smaller, so weight "
                "each batch by its size.")
    check_close(loss, float(ref["loss"]), f"mean loss from {what}", reveal=False, rtol=1e-7,
                hint=hint)


def _fit_settings(case):
    num_epochs, patience = (int(v) for v in case["settings"])
    return case["val_losses"], num_epochs, patience


def _fit_what(case):
    val_losses, num_epochs, patience = _fit_settings(case)
    script = ", ".join(f"{v:g}" for v in val_losses[:num_epochs])
    return (f"(num_epochs={num_epochs}, patience={patience}) with validation losses scripted to "
            f"be {script}")


def _record_fit(fn, case, record):
    val_losses, num_epochs, patience = _fit_settings(case)
    what = _what(fn, "fit", _fit_what(case))
    model = _ScriptedModel(val_losses)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    data = TensorDataset(torch.zeros(4, 1, dtype=torch.float64), torch.zeros(4, dtype=torch.long))
    train_loader, val_loader = DataLoader(data, batch_size=4), DataLoader(data, batch_size=4)
    history = record_step(record, None, lambda: fn(model, train_loader, val_loader, _scripted_loss,
                                                   optimizer, num_epochs, patience, CPU), what)

    def read():
        if not isinstance(history, dict) or not {"train_loss", "val_loss", "best_epoch"} <= set(history):
            raise CheckFailed(f"{what}: should return a dict with keys 'train_loss', 'val_loss', "
                              "'val_accuracy' and 'best_epoch'.")
        return {"val_loss": [float(v) for v in history["val_loss"]],
                "train_loss": [float(v) for v in history["train_loss"]],
                "best_epoch": int(history["best_epoch"])}
    record_step(record, "history", read, what)
    record["restored"] = float(model.w.item())


def _judge_fit(got, case, ref, what):
    val_losses = _fit_settings(case)[0]
    best, run = (int(v) for v in ref["expected"])
    history = recorded(got, "history", what)
    val_loss = _floats(history.get("val_loss"), what)
    k = min(len(val_loss), run)
    check_array(val_loss[:k], val_losses[:k],
                f"the first {k} validation losses in the history from {what}", reveal=False,
                hint="One evaluation on val_loader after each training epoch. Each epoch of "
                     "training adds exactly 1 to the scripted model's weight: if "
                     "train_one_epoch fails its tests, fix it first.")
    check_equal(len(val_loss), run, f"number of epochs run by {what}", reveal=False,
                hint="Stop once the validation loss has not gone below its best for `patience` "
                     "epochs in a row (a tie is not an improvement); never run more than "
                     "num_epochs.")
    check_array(val_loss, val_losses[:run], f"history['val_loss'] from {what}", reveal=False,
                hint="Append evaluate's mean loss on val_loader once per epoch, after training.")
    check_array(_floats(history.get("train_loss"), what), -np.arange(run, dtype=float),
                f"history['train_loss'] from {what}", reveal=False,
                hint="Append train_one_epoch's return value once per epoch.")
    check_equal(history.get("best_epoch"), best, f"history['best_epoch'] from {what}",
                reveal=False, hint="The index (from 0) of the epoch with the lowest validation loss.")
    restored = got.get("restored")
    hint = "Keep copy.deepcopy(model.state_dict()) of the best epoch and load it at the end."
    if type(restored) is float and np.isclose(restored, run) and run != best + 1:
        hint = ("The model kept the weights of the last epoch: either the best weights were "
                "not loaded back, or they were stored without copy.deepcopy. "
                "model.state_dict() holds references to the live tensors, which the optimizer "
                "keeps changing.")
    check_close(restored, best + 1.0, f"the model's weights after {what} (w counts the training "
                "steps done, so it names the epoch they come from)", reveal=False, hint=hint)


# ---------------------------------------------------------------- 3. metrics

def _confusion_what(case):
    return (f"(y_true ({len(case['y_true'])},), y_pred ({len(case['y_pred'])},), "
            f"num_classes={int(case['num_classes'])})")


def _sklearn_reached(fn):
    """The refusal when `fn` can reach sklearn's confusion_matrix under any name, or None."""
    found = find_reachable(fn, {id(sklearn.metrics.confusion_matrix): "sklearn's confusion_matrix"})
    if found is None:
        return None
    return (f"{function_name(fn, 'confusion_matrix_torch')} can reach sklearn's confusion_matrix "
            f"(as {found[1]}): count the pairs yourself with torch (sklearn is what the tests "
            "compare with).")


def _record_confusion(fn, case, record):
    what = _what(fn, "confusion_matrix_torch", _confusion_what(case))
    if _sklearn_reached(fn):
        record["failed"] = _sklearn_reached(fn)
        return
    with _sklearn_confusion_forbidden(fn):
        cm = record_step(record, None, lambda: fn(torch.from_numpy(case["y_true"]),
                                                  torch.from_numpy(case["y_pred"]),
                                                  int(case["num_classes"])), what)
    if type(cm) is not torch.Tensor:
        record["failed"] = f"{what}: returned {type(cm).__name__}; it should return a torch tensor."
        return
    record["dtype"] = str(cm.dtype)
    record["floating"] = bool(cm.dtype.is_floating_point)
    record["cm"] = _array(cm, what)


def _judge_confusion(got, case, ref, what):
    cm = recorded(got, "cm", what)
    if got.get("floating") is not False:
        raise CheckFailed(f"{what}: returned dtype {got.get('dtype')}; counts are integers (torch.int64).")
    expected = ref["expected"]
    check_array(plain(cm, what), expected, what, reveal=False,
                diagnose=lambda m: ("Rows and columns are swapped: row i is the true class, "
                                    "column j the predicted one." if m.shape == expected.shape
                                    and not np.array_equal(expected, expected.T)
                                    and np.array_equal(m, expected.T) else None),
                hint="cm[i, j] counts the samples of true class i predicted as class j; "
                     "every class 0..num_classes-1 gets a row and a column, even if unseen.")


def _record_confusion_refused(fn, case):
    if _sklearn_reached(fn):
        raise CheckFailed(_sklearn_reached(fn))
    with _sklearn_confusion_forbidden(fn):
        return outcome(lambda: fn(torch.tensor([0, 1, 3]), torch.tensor([0, 1, 1]), 3))


def _judge_confusion_refused(got, case, ref, what):
    must_raise(result_of(got), "ValueError", what, exercise="confusion_matrix_torch",
               hint="A label outside 0..num_classes-1 cannot be counted: raise ValueError with a "
                    "message that names it.")


# ---------------------------------------------------------------- 4. saving

def _bn_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 8 * 8, 3))


SAVE_WHAT = "hidden test: save_weights then load_weights, a network with BatchNorm2d and Dropout"


def _saved_model(x):
    """The network whose weights are saved: seeded, its batch-norm statistics moved away from 0
    and 1, in eval mode. Built the same way in the kernel and, for the expected predictions, in
    the judge."""
    torch.manual_seed(11)
    model = _bn_net()
    with torch.no_grad():
        for _ in range(3):
            model(x * 3 + 1)
    return model.eval()


def _record_save(save_weights, case, record, load_weights=None):
    x = torch.from_numpy(case["x"])
    model = _saved_model(x)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "weights.pt")
        record_step(record, None, lambda: save_weights(model, path), SAVE_WHAT)
        record["exists"] = os.path.exists(path)
        if not record["exists"]:
            return
        try:
            stored = torch.load(path, weights_only=True)
            record["readable"] = True
        except Exception:
            record["readable"] = False
            return
        record["keys_match"] = hasattr(stored, "keys") and set(stored.keys()) == set(model.state_dict())
        torch.manual_seed(12)
        calls = []
        with _torch_load_spy(calls):
            loaded = record_step(record, None, lambda: load_weights(_bn_net, path, CPU), SAVE_WHAT)
    record["is_module"] = isinstance(loaded, nn.Module)
    if not record["is_module"]:
        record["type"] = type(loaded).__name__
        return
    record["load_calls"] = len(calls)
    record["weights_only"] = bool(calls) and calls[-1].get("weights_only") is True
    record["training"] = bool(loaded.training)
    with torch.no_grad():
        record_step(record, "predictions", lambda: _array(loaded(x), SAVE_WHAT), SAVE_WHAT)


def _judge_save(got, case, ref, what):
    what = SAVE_WHAT
    if recorded(got, "exists", what) is not True:
        raise CheckFailed(f"{what}: save_weights wrote no file at the path it was given.")
    if got.get("readable") is not True:
        raise CheckFailed(f"{what}: the file cannot be read with torch.load(path, "
                          "weights_only=True).\n  Hint: save model.state_dict(), not the model "
                          "object.")
    if got.get("keys_match") is not True:
        raise CheckFailed(f"{what}: the file does not hold the model's state_dict (its keys "
                          "should include the batch-norm running_mean and running_var).\n"
                          "  Hint: torch.save(model.state_dict(), path).")
    if recorded(got, "is_module", what) is not True:
        raise CheckFailed(f"{what}: load_weights returned {got.get('type')}; it should return "
                          "the new model.")
    if not got.get("load_calls"):
        raise CheckFailed(f"{what}: load_weights did not call torch.load.")
    if got.get("weights_only") is not True:
        raise CheckFailed(f"{what}: torch.load was called without weights_only=True.\n  Hint: "
                          "weights_only=True reads tensors only and refuses to run code hidden in a file.")
    if got.get("training") is not False:
        raise CheckFailed(f"{what}: the loaded model is in training mode; return it in eval mode.")
    x = torch.from_numpy(case["x"])
    with torch.no_grad():
        expected = _saved_model(x)(x).numpy()
    check_array(plain(recorded(got, "predictions", what), what), expected,
                f"predictions of the loaded model ({what})", reveal=False, rtol=0, atol=1e-6,
                hint="load_state_dict(torch.load(path, map_location=device, weights_only=True)) "
                     "into the fresh model, then .to(device).eval().")


# ---------------------------------------------------------------- 5. better CNN

def _executed_leaves(net, x):
    order, handles = [], []
    for module in net.modules():
        if not list(module.children()):
            handles.append(module.register_forward_hook(lambda m, inp, out: order.append(m)))
    try:
        out = net(x)
    finally:
        for handle in handles:
            handle.remove()
    return order, out


def _better_settings(case):
    return int(case["settings"][0]), float(case["settings"][1]), int(case["settings"][2])


def _better_what(case):
    K, dropout, _ = _better_settings(case)
    return f"(num_classes={K}, dropout={dropout})"


def _leaf(module):
    """A layer as the judge needs it: its kind and, for dropout, p."""
    for kind, classes in (("conv", nn.Conv2d), ("pool", (nn.MaxPool2d, nn.AvgPool2d)),
                          ("linear", nn.Linear), ("dropout", nn.Dropout)):
        if isinstance(module, classes):
            return [kind, float(module.p) if kind == "dropout" else 0.0]
    return ["other", 0.0]


def _record_better(fn, case, record):
    K, dropout, _ = _better_settings(case)
    x = torch.from_numpy(case["x"])
    what = _what(fn, "make_better_cnn", _better_what(case))

    def build():
        torch.manual_seed(0)
        return fn(num_classes=K, dropout=dropout)
    net = record_step(record, None, build, what)
    record["is_module"] = isinstance(net, nn.Module)
    if not record["is_module"]:
        record["type"] = type(net).__name__
        return
    record["batch_norm"] = any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    net.train()
    on_x = f"{what} on x {tuple(x.shape)}"
    order, out = record_step(record, None, lambda: _executed_leaves(net, x), on_x)
    record_step(record, "shape", lambda: [int(v) for v in _array(out, on_x).shape], on_x)
    record["order"] = [_leaf(m) for m in order]
    net.eval()
    with torch.no_grad():
        first, second = net(x), net(x)
    record["eval_repeats"] = bool(torch.equal(first, second))


def _judge_better(got, case, ref, what):
    K, dropout, N = _better_settings(case)
    if recorded(got, "is_module", what) is not True:
        raise CheckFailed(f"{what}: returned {got.get('type')}; it should return an nn.Module.")
    if got.get("batch_norm") is not True:
        raise CheckFailed(f"{what}: the network has no nn.BatchNorm2d layer.")
    shape = recorded(got, "shape", what)
    check_equal(tuple(shape), (N, K), f"output shape of {what} on x {tuple(case['x'].shape)}",
                reveal=False, hint="The last Linear layer has num_classes outputs.")
    order = [tuple(leaf) for leaf in got.get("order") or []]
    kinds = [kind for kind, _ in order if kind in ("conv", "pool")]
    if not any(a == "conv" and b == "conv" and c == "pool" for a, b, c in zip(kinds, kinds[1:], kinds[2:])):
        raise CheckFailed(f"{what}: no VGG-style block: two Conv2d layers in a row (with "
                          "batch norm and ReLU between them) followed by a pooling layer.")
    linear = [i for i, (kind, _) in enumerate(order) if kind == "linear"]
    if len(linear) < 2:
        raise CheckFailed(f"{what}: the network should end with at least two nn.Linear layers.")
    between = [p for kind, p in order[linear[0] + 1:linear[-1]] if kind == "dropout"]
    if not between:
        raise CheckFailed(f"{what}: no nn.Dropout layer between two Linear layers.\n  Hint: "
                          "Linear -> ReLU -> Dropout(dropout) -> Linear (use the nn.Dropout "
                          "module, so that model.eval() switches it off).")
    if any(not np.isclose(p, dropout) for p in between):
        raise CheckFailed(f"{what}: the Dropout between the dense layers has p = "
                          f"{between[0]}; it should use the `dropout` argument ({dropout}).")
    if got.get("eval_repeats") is not True:
        raise CheckFailed(f"{what}: in eval mode two passes on the same input differ.")


# ---------------------------------------------------------------- 6. the two bugs

def _test_set_what(case):
    return f"(x {case['x'].shape}, y ({len(case['y'])},))"


def _record_test_set(fn, case, record):
    x, y = case["x"], case["y"]
    what = _what(fn, "make_test_dataset", _test_set_what(case))
    dataset = record_step(record, None, lambda: fn(x.copy(), y.copy()), what)
    record_step(record, "len", lambda: int(len(dataset)), f"len({what})")
    pairs = record["pairs"] = []
    for i in range(len(y)):
        item_what = f"{what}[{i}]"
        pairs.append([record_step(record, None, lambda: _item(dataset[i], item_what), item_what)
                      for _ in range(2)])


def _judge_test_set(got, case, ref, what):
    y, expected = case["y"], ref["expected"]
    check_equal(recorded(got, "len", what), len(y), f"len({what})", reveal=False)
    pairs = got.get("pairs") or []
    for i in range(len(y)):
        if i >= len(pairs) or len(pairs[i]) != 2:
            _failed_step(got, what)
        first, second = pairs[i]
        if not np.array_equal(plain(first.get("image"), what), plain(second.get("image"), what)):
            raise CheckFailed(f"{what}: reading item {i} twice gave two different images: the "
                              "test set is still augmented.")
        _judge_item(first, expected[i], y[i], f"{what}[{i}]",
                    hint="The test image is the digit upsampled to 16x16 and nothing else: no "
                         "crop, shift or jitter.")


def _fixed_settings(case):
    return int(case["settings"][0]), float(case["settings"][1])


def _fixed_what(case):
    K, p = _fixed_settings(case)
    return f"(num_classes={K}, p={p}) on x {tuple(case['x'].shape)}"


def _record_fixed(FixedNet, case, record, BuggyNet=None):
    K, p = _fixed_settings(case)
    x = torch.from_numpy(case["x"])
    what = _what(FixedNet, "FixedNet", _fixed_what(case))
    torch.manual_seed(3)
    buggy = BuggyNet(num_classes=K, p=p)
    fixed = record_step(record, None, lambda: FixedNet(num_classes=K, p=p), what)
    try:
        fixed.load_state_dict(buggy.state_dict())
    except Exception as err:
        record["failed"] = (f"{what}: BuggyNet's weights do not load into FixedNet "
                            f"({type(err).__name__}).\n  Hint: keep BuggyNet's layers and their "
                            "names; only the dropout changes.")
        return
    no_dropout = BuggyNet(num_classes=K, p=0.0)
    no_dropout.load_state_dict(buggy.state_dict())
    with torch.no_grad():
        record["expected_eval"] = _array(no_dropout(x), what)
        fixed.eval()
        first = record_step(record, "eval", lambda: _array(fixed(x), what), what)
        record["eval_repeats"] = bool(np.array_equal(first, _array(fixed(x), what)))
        fixed.train()
        buggy.train()
        torch.manual_seed(5)
        record_step(record, "train", lambda: _array(fixed(x), what), what)
        torch.manual_seed(5)
        record["buggy_train"] = _array(buggy(x), what)


def _judge_fixed(got, case, ref, what):
    expected = plain(recorded(got, "expected_eval", what), what)
    first = plain(recorded(got, "eval", what), what)
    if got.get("eval_repeats") is not True:
        raise CheckFailed(f"{what}: in eval mode two passes on the same input differ: dropout is "
                          "still on.\n  Hint: F.dropout(x, p, training=self.training), or "
                          "nn.Dropout modules.")
    check_array(first, expected, f"eval-mode output of {what}", reveal=False, atol=1e-6,
                hint="In eval mode FixedNet computes what BuggyNet computes with p = 0.")
    train_out = plain(recorded(got, "train", what), what)
    if train_out.shape == expected.shape and np.allclose(train_out, expected):
        raise CheckFailed(f"{what}: in training mode the output has no dropout; dropout must "
                          "stay on while training.")
    check_array(train_out, plain(got.get("buggy_train"), what), f"training-mode output of {what}",
                reveal=False, atol=1e-6,
                hint="In training mode FixedNet drops exactly where BuggyNet does, with the same "
                     "p (same places in forward).")


# ---------------------------------------------------------------- 7. training craft

def _norm_what(case):
    return f"(x_train {case['x'].shape})"


def _record_norm(normalization_stats, case, record, normalize=None):
    x = torch.from_numpy(case["x"])
    what = _what(normalization_stats, "normalization_stats", _norm_what(case))

    def stats():
        result = normalization_stats(x)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"{what}: returned {type(result).__name__}; it should return a pair "
                              "(mean, std).")
        return [_array(result[0], what, "the mean"), _array(result[1], what, "the std")]
    record_step(record, "stats", stats, what)
    record["x_unchanged"] = bool(torch.equal(x, torch.from_numpy(case["x"])))
    if normalize is None:
        return
    x_val = torch.from_numpy(case["x_val"])
    mean, std = torch.from_numpy(case["mean"]), torch.from_numpy(case["std"])
    what = _what(normalize, "normalize", f"(x {tuple(x_val.shape)}, mean ({len(mean)},), std ({len(std)},))")
    record_step(record, "normalized", lambda: _array(normalize(x_val, mean, std), what), what)


def _norm_mistake(got, x, name):
    """Name a wrong axis for the mean or std of x, or None."""
    got = np.asarray(got)
    whole = x.mean() if name == "mean" else x.std()
    if got.size == 1 or (got.shape == (x.shape[1],) and x.shape[1] > 1 and np.allclose(got, whole, rtol=1e-4)):
        return (f"That is one {name} over the whole batch: keep one per channel, averaging over "
                "the images, the height and the width (dims 0, 2, 3).")
    if got.shape in (x.shape[1:], x.shape[2:], (x.shape[0], x.shape[1])):
        return (f"That is one {name} per pixel (or per image): it should be one number per "
                "channel, over the images, the height and the width (dims 0, 2, 3).")
    return None


def _judge_norm(got, case, ref, what):
    x = case["x"].astype(np.float64)
    mean, std = recorded(got, "stats", what)
    expected_mean = x.mean(axis=(0, 2, 3))
    check_array(plain(mean, what), expected_mean, f"mean from {what}", reveal=False, rtol=1e-4,
                atol=1e-5, diagnose=lambda m: _norm_mistake(m, x, "mean"),
                hint="The mean of each channel over all training images and pixels.")
    std = plain(std, what)
    biased = x.std(axis=(0, 2, 3))
    unbiased = x.std(axis=(0, 2, 3), ddof=1)
    if not (np.shape(std) == biased.shape and np.allclose(std, biased, rtol=1e-4)):
        check_array(std, unbiased, f"std from {what}", reveal=False, rtol=1e-4, atol=1e-5,
                    diagnose=lambda s: _norm_mistake(s, x, "std") or (
                        "That is the variance: take its square root." if np.shape(s) == unbiased.shape
                        and np.allclose(s, unbiased ** 2, rtol=1e-4) else None),
                    hint="The standard deviation of each channel over all training images and pixels.")
    if got.get("x_unchanged") is not True:
        raise CheckFailed(f"{what}: the training images changed; computing statistics must not "
                          "modify them.")
    if "normalized" not in got and "failed" not in got:
        return  # called without normalize
    normalized = plain(recorded(got, "normalized", what), what)
    x_val = case["x_val"].astype(np.float64)
    m, s = case["mean"][None, :, None, None], case["std"][None, :, None, None]
    shape = x_val.shape
    what = f"hidden test: normalize(x {shape}, mean ({shape[1]},), std ({shape[1]},))"
    check_array(normalized, (x_val - m) / s, what, reveal=False, rtol=1e-4, atol=1e-5,
                diagnose=lambda a: ("That is (x - mean) * std: divide by the std." if np.shape(a) == shape
                                    and np.allclose(a, (x_val - m) * s, rtol=1e-4) else
                                    "The mean and std were not broadcast over the channels: "
                                    "reshape them to (1, C, 1, 1)." if np.shape(a) != shape else None),
                hint="(x - mean) / std, channel by channel, with the statistics it is given.")


def _initial_net(case):
    K, D = case["w"].shape
    net = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(D, K)).double()
    with torch.no_grad():
        net[2].weight.copy_(torch.from_numpy(case["w"]))
        net[2].bias.copy_(torch.from_numpy(case["b"]))
    return net


def _initial_what(case):
    K = case["w"].shape[0]
    return f"(a Flatten, Dropout(0.5), Linear network, x {case['x'].shape}, {K} classes)"


def _record_initial(initial_loss, case, record, expected_initial_loss=None):
    net = _initial_net(case)
    before = [p.detach().clone() for p in net.parameters()]
    model = _Recorder(net)
    model.train()  # the function has to switch evaluation mode on itself
    x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
    what = _what(initial_loss, "initial_loss", _initial_what(case))
    torch.manual_seed(0)
    result = record_step(record, None, lambda: initial_loss(model, x, y), what)
    record["modes"] = [bool(m) for m in model.modes]
    record["grad_modes"] = [bool(m) for m in model.grad_modes]
    record["changed"] = any(not torch.equal(a, p) for a, p in zip(before, net.parameters()))
    record_step(record, "loss", lambda: _as_float(result, what, "return loss.item()."), what)
    if expected_initial_loss is None:
        return
    K = case["w"].shape[0]
    what = _what(expected_initial_loss, "expected_initial_loss", f"(num_classes={K})")
    result = record_step(record, None, lambda: expected_initial_loss(K), what)
    record_step(record, "ln", lambda: _as_float(result, what, "return a float."), what)


def _judge_initial(got, case, ref, what):
    loss = recorded(got, "loss", what)
    _require_evaluation(got, what, ".\n  Hint: compute the loss inside `with torch.no_grad():`.",
                        "measuring the loss must not train.")
    x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
    with torch.no_grad():
        scores = _initial_net(case).eval()(x)
        expected = tnf.cross_entropy(scores, y).item()
        total = tnf.cross_entropy(scores, y, reduction="sum").item()
    hint = "The mean cross-entropy of the model's scores on (x, y), as a float."
    if np.isclose(loss, total):
        hint = "That is the sum over the examples: return the mean."
    check_close(loss, expected, f"loss from {what}", reveal=False, rtol=1e-7, hint=hint)
    if "ln" not in got and "failed" not in got:
        return  # called without expected_initial_loss
    K = case["w"].shape[0]
    what = f"hidden test: expected_initial_loss(num_classes={K})"
    ln = recorded(got, "ln", what)
    hint = "With equal scores every class has probability 1 / C, and the loss is -ln(1 / C)."
    if np.isclose(ln, np.log10(K)):
        hint = "That is log10: the cross-entropy uses the natural logarithm (math.log)."
    elif np.isclose(ln, 1.0 / K):
        hint = "That is the probability of each class; the loss is minus its logarithm."
    check_close(ln, float(np.log(K)), what, reveal=False, rtol=1e-9, hint=hint)


OVERFIT_TARGET = 0.05


def _overfit_settings(case):
    return int(case["settings"][0]), float(case["settings"][1])


def _overfit_what(case):
    num_steps, lr = _overfit_settings(case)
    N, C, H, W = case["x"].shape
    return (f"(make_model, x ({N}, {C}, {H}, {W}), y with {case['fc_b'].shape[0]} classes, "
            f"num_steps={num_steps}, lr={lr:g})")


def _overfit_net(case):
    C, H, W = case["x"].shape[1:]
    K = case["fc_b"].shape[0]
    net = nn.Sequential(nn.Conv2d(C, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * H * W, K))
    with torch.no_grad():
        for p, name in zip(net.parameters(), PARAM_NAMES):
            p.copy_(torch.from_numpy(case[name]))
    return net


def _watch_gradients(net, backwards):
    """Before each gradient reaches a parameter's .grad, note whether .grad was already clear
    (None or zero) there: backwards gets one flag per parameter per backward()."""
    def hook(p):
        return lambda grad: backwards.append(p.grad is None or not bool(p.grad.any()))
    return [p.register_hook(hook(p)) for p in net.parameters()]


def _record_overfit(fn, case, record):
    num_steps, lr = _overfit_settings(case)
    x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
    what = _what(fn, "overfit_tiny_subset", _overfit_what(case))
    models, backwards = [], []

    def make_model():
        model = _Recorder(_overfit_net(case))
        _watch_gradients(model.net, backwards)
        model.eval()  # the function has to switch training mode on itself
        models.append(model)
        return model
    losses = record_step(record, None, lambda: fn(make_model, x.clone(), y.clone(), num_steps, lr), what)
    record["made"] = len(models)
    if not models:
        return
    model = models[-1]
    record["modes"] = [bool(m) for m in model.modes]
    record["clear"] = [bool(b) for b in backwards]
    with torch.no_grad():
        record["final"] = float(tnf.cross_entropy(model.net(x), y).item())

    def read():
        if not isinstance(losses, (list, tuple)):
            raise CheckFailed(f"{what}: returned {type(losses).__name__}; it should return the list "
                              "of the training losses, one float per step.")
        return [_as_float(v, what, "append loss.item() at every step.") for v in losses]
    record_step(record, "losses", read, what)


def _judge_overfit(got, case, ref, what):
    num_steps, _ = _overfit_settings(case)
    losses = _floats(recorded(got, "losses", what), what)
    if got.get("made") != 1:
        raise CheckFailed(f"{what}: make_model() was called {got.get('made')} times; call it once "
                          "and train that model.")
    _require_training(got.get("modes"), what, "before the loop")
    clear = got.get("clear") or []
    n_params = len(PARAM_NAMES)
    for step in range(len(clear) // n_params):
        if not all(clear[step * n_params:(step + 1) * n_params]):
            raise CheckFailed(f"{what}: at step {step + 1} the gradients still held the earlier "
                              "steps' gradients when backward() ran: they were not zeroed.\n  Hint: "
                              "optimizer.zero_grad() at every step, before loss.backward().")
    check_equal(len(losses), num_steps, f"number of losses returned by {what}", reveal=False,
                hint="One loss per step, num_steps in all.")
    x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
    with torch.no_grad():
        first = tnf.cross_entropy(_overfit_net(case)(x), y).item()
    check_close(losses[0], first, f"first loss returned by {what}", reveal=False, rtol=1e-4,
                hint="The loss of each step, computed on the whole tiny batch before its update "
                     "(loss.item()).")
    final = got.get("final")
    if losses[-1] >= OVERFIT_TARGET or type(final) is not float or final >= OVERFIT_TARGET:
        raise CheckFailed(f"{what}: the loss fell from {losses[0]:.3f} to {losses[-1]:.3f}; on so few "
                          f"images it should fall below {OVERFIT_TARGET} within the {num_steps} steps."
                          "\n  Hint: torch.optim.Adam(model.parameters(), lr=lr), and one step per "
                          "iteration on the same batch.")


SCHEDULER_KINDS = ("SGD(momentum=0.9)", "AdamW(weight_decay=0.01)")


def _scheduler_settings(case):
    kind, lr, num_epochs, steps = case["settings"]
    return int(kind), float(lr), int(num_epochs), int(steps)


def _scheduler_what(case):
    kind, lr, num_epochs, steps = _scheduler_settings(case)
    return (f"(an optimizer {SCHEDULER_KINDS[kind][:-1]}, lr={lr:g}), num_epochs={num_epochs}, "
            f"steps_per_epoch={steps})")


def _scheduler_optimizer(case):
    kind, lr, _, _ = _scheduler_settings(case)
    params = [nn.Parameter(torch.zeros(3, dtype=torch.float64))]
    if kind == 0:
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)


def _record_scheduler(fn, case, record):
    _, _, num_epochs, steps = _scheduler_settings(case)
    optimizer = _scheduler_optimizer(case)
    what = _what(fn, "make_scheduler", _scheduler_what(case))
    scheduler = record_step(record, None, lambda: fn(optimizer, num_epochs, steps), what)
    record["kind"] = type(scheduler).__name__
    if not callable(getattr(scheduler, "step", None)):
        return
    lrs = record["lrs"] = []
    for k in range(num_epochs * steps):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        record_step(record, None, scheduler.step, f"{what}: scheduler.step() number {k + 1}",
                    hint="The schedule lasts num_epochs * steps_per_epoch steps, one per batch: "
                         "OneCycleLR(..., epochs=num_epochs, steps_per_epoch=steps_per_epoch).")


def _judge_scheduler(got, case, ref, what):
    kind, lr, num_epochs, steps = _scheduler_settings(case)
    if "lrs" not in got:
        if "failed" in got:
            _failed_step(got, what)
        raise CheckFailed(f"{what}: returned {got.get('kind')}; it should return a learning-rate "
                          "scheduler (torch.optim.lr_scheduler.OneCycleLR).")
    lrs = _floats(got["lrs"], what)
    if "failed" in got:
        _failed_step(got, what)
    optimizer = _scheduler_optimizer(case)
    total = num_epochs * steps
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, epochs=num_epochs,
                                                    steps_per_epoch=steps)
    expected = []
    for _ in range(total):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = np.array(expected)
    cosine_optimizer = _scheduler_optimizer(case)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(cosine_optimizer, T_max=total)
    cosine_lrs = []
    for _ in range(total):
        cosine_lrs.append(cosine_optimizer.param_groups[0]["lr"])
        cosine_optimizer.step()
        cosine.step()

    def diagnose(a):
        if a.shape != expected.shape:
            return None
        if np.allclose(a, lr):
            return ("The learning rate never changed: return the OneCycleLR built on this "
                    "optimizer.")
        if np.allclose(a, cosine_lrs):
            return ("That is CosineAnnealingLR: it starts at the top and only decreases; "
                    "OneCycleLR first warms up, then anneals.")
        if not np.isclose(a.max(), expected.max(), rtol=1e-3):
            return (f"The schedule peaks at {a.max():.4g}; it should peak at the learning rate "
                    f"the optimizer was built with ({lr:g}): read it from "
                    "optimizer.param_groups[0][\"lr\"] and pass it as max_lr.")
        return None
    check_array(lrs, expected, f"the learning rate at each of the {total} steps of {what}",
                reveal=False, rtol=1e-9, atol=1e-12, diagnose=diagnose,
                hint="OneCycleLR(optimizer, max_lr=the optimizer's learning rate, "
                     "epochs=num_epochs, steps_per_epoch=steps_per_epoch), its other settings "
                     "left at their defaults.")


# ----------------------------------------------------------------------------- the table

CHECKS = {
    "check_digits_dataset": layer_check("DigitsDataset", "dataset", _record_dataset, _dataset_what,
                                        _judge_dataset),
    "check_make_loaders": layer_check("make_loaders", "loaders", _record_loaders, _loaders_what,
                                      _judge_loaders),
    "check_train_one_epoch": layer_check("train_one_epoch", "train", _record_train, _train_what,
                                         _judge_train),
    "check_evaluate": layer_check("evaluate", "evaluate", _record_evaluate, _evaluate_what,
                                  _judge_evaluate),
    "check_fit": layer_check("fit", "fit", _record_fit, _fit_what, _judge_fit),
    "check_confusion_matrix": (
        layer_check("confusion_matrix_torch", "confusion", _record_confusion, _confusion_what,
                    _judge_confusion),
        Check(exercise="confusion_matrix_torch", prefix=None, call=_record_confusion_refused,
              what=lambda case: "(y_true [0, 1, 3], y_pred [0, 1, 1], num_classes=3)",
              judge=_judge_confusion_refused, argument=0),
    ),
    "check_save_load": Check(exercise="save_weights", prefix="save", call=recording(_record_save),
                             what=lambda case: "", judge=_judge_save, also=(1,)),
    "check_better_cnn": layer_check("make_better_cnn", "better", _record_better, _better_what,
                                    _judge_better),
    "check_test_dataset": layer_check("make_test_dataset", "test_set", _record_test_set,
                                      _test_set_what, _judge_test_set),
    "check_fixed_net": Check(exercise="FixedNet", prefix="fixed", call=recording(_record_fixed),
                             what=_fixed_what, judge=_judge_fixed, also=(1,)),
    "check_normalization": Check(exercise="normalization_stats", prefix="norm",
                                 call=recording(_record_norm), what=_norm_what, judge=_judge_norm,
                                 also=(1,)),
    "check_initial_loss": Check(exercise="initial_loss", prefix="initial",
                                call=recording(_record_initial), what=_initial_what,
                                judge=_judge_initial, also=(1,)),
    "check_overfit_tiny_subset": layer_check("overfit_tiny_subset", "overfit", _record_overfit,
                                             _overfit_what, _judge_overfit),
    "check_make_scheduler": layer_check("make_scheduler", "scheduler", _record_scheduler,
                                        _scheduler_what, _judge_scheduler),
}

check_digits_dataset = runner(ASSIGNMENT, CHECKS, "check_digits_dataset")
check_make_loaders = runner(ASSIGNMENT, CHECKS, "check_make_loaders")
check_train_one_epoch = runner(ASSIGNMENT, CHECKS, "check_train_one_epoch")
check_evaluate = runner(ASSIGNMENT, CHECKS, "check_evaluate")
check_fit = runner(ASSIGNMENT, CHECKS, "check_fit")
check_confusion_matrix = runner(ASSIGNMENT, CHECKS, "check_confusion_matrix")
check_save_load = runner(ASSIGNMENT, CHECKS, "check_save_load")
check_better_cnn = runner(ASSIGNMENT, CHECKS, "check_better_cnn")
check_test_dataset = runner(ASSIGNMENT, CHECKS, "check_test_dataset")
check_fixed_net = runner(ASSIGNMENT, CHECKS, "check_fixed_net")
check_normalization = runner(ASSIGNMENT, CHECKS, "check_normalization")
check_initial_loss = runner(ASSIGNMENT, CHECKS, "check_initial_loss")
check_overfit_tiny_subset = runner(ASSIGNMENT, CHECKS, "check_overfit_tiny_subset")
check_make_scheduler = runner(ASSIGNMENT, CHECKS, "check_make_scheduler")
