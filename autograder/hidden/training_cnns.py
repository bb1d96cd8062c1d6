"""Hidden tests of 07-training-cnns, on other sizes than the public tests: datasets of
non-square images, splits of imbalanced classes, one SGD epoch replayed against a stored
reference (float64), evaluation against sklearn's accuracy, early stopping on scripted
validation losses, confusion matrices against sklearn, saving and loading weights with batch
normalisation buffers, the better CNN's layers, and the two fixed bugs
(autograder/cases/training_cnns.py lists the cases).

Models are instrumented: a wrapper records, at every forward pass, whether the model was in
training mode and whether autograd was on; an SGD optimizer checks at every step that the
gradients are those of the current batch alone (zeroed in between).
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

from course.checks import CheckFailed, call_student, check_array, check_close, check_equal

from autograder.hidden import cases, load_references

ASSIGNMENT = "07-training-cnns"
CPU = torch.device("cpu")
SIZE = 16


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


# ---------------------------------------------------------------- small helpers

def _as_float(value, what, hint):
    """A Python number from what the student returned (a 0-d tensor without grad is accepted)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise CheckFailed(f"{what}: returned a tensor of shape {tuple(value.shape)}; it should "
                              f"return one number.\n  Hint: {hint}")
        if value.requires_grad:
            raise CheckFailed(f"{what}: returned a tensor that still carries its autograd graph; "
                              "return a float.\n  Hint: use loss.item() to add up the losses.")
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise CheckFailed(f"{what}: returned {type(value).__name__} {value!r}; it should return a float."
                      f"\n  Hint: {hint}")


def _image_label(item, what):
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
        label = int(label.item())
    elif isinstance(label, (numbers.Integral, np.integer)):
        label = int(label)
    else:
        raise CheckFailed(f"{what}: the label is {type(label).__name__} {label!r}; it should be an int.")
    return image, label


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

def check_digits_dataset(DigitsDataset):
    """DigitsDataset(x, y, transform=None): items (image (1, 16, 16) float32, int label)."""
    for case in cases(load_references(ASSIGNMENT), "dataset"):
        x, y, expected = case["x"], case["y"], case["expected"]
        what = f"hidden test: DigitsDataset(x {x.shape}, y ({len(y)},))"
        dataset = call_student(lambda: DigitsDataset(x.copy(), y.copy()), what=what)
        check_equal(call_student(len, dataset, what=f"len({what})"), len(y), f"len({what})",
                    hint="__len__ returns the number of images.", reveal=False)
        for i in sorted({0, len(y) - 1, len(y) // 2}):
            item_what = f"{what}[{i}]"
            image, label = _image_label(call_student(dataset.__getitem__, i, what=item_what), item_what)
            if image.dtype != torch.float32:
                raise CheckFailed(f"{item_what}: the image has dtype {image.dtype}; it should be float32.")
            check_array(image.detach().numpy(), expected[i], f"image of {item_what}", reveal=False,
                        atol=1e-6, diagnose=lambda got: _upsample_mistake(got, x[i:i + 1]),
                        hint="F.interpolate(images, size=(16, 16), mode=\"bilinear\", "
                             "align_corners=False), once for all images, in __init__.")
            check_equal(label, int(y[i]), f"label of {item_what}", reveal=False)

        calls = []

        def counting(image):
            calls.append(tuple(image.shape))
            return image + len(calls)

        what = f"hidden test: DigitsDataset(x {x.shape}, y, transform=...)"
        dataset = call_student(lambda: DigitsDataset(x.copy(), y.copy(), transform=counting), what=what)
        first = _image_label(call_student(dataset.__getitem__, 0, what=f"{what}[0]"), f"{what}[0]")[0]
        second = _image_label(call_student(dataset.__getitem__, 0, what=f"{what}[0]"), f"{what}[0]")[0]
        if not calls or torch.equal(first, second):
            raise CheckFailed(f"{what}: reading item 0 twice gave the same image, so the transform "
                              "did not run at each read.\n  Hint: apply self.transform inside "
                              "__getitem__, so that every epoch sees a new random version.")
        if calls[-1] != (x.shape[1], SIZE, SIZE):
            raise CheckFailed(f"{what}: the transform received an image of shape {calls[-1]}; it "
                              f"should receive the upsampled image, ({x.shape[1]}, {SIZE}, {SIZE}).")


def _loader_indices(loader, n, what, marked):
    """Indices (in order) of the constant images i / n that a loader yields, and their labels."""
    indices, labels = [], []
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise CheckFailed(f"{what}: a batch should be a pair (images, labels).")
        images, y = batch
        values = images[:, 0, 0, 0].double()
        if marked:
            if not (values >= 9.5).all():
                raise CheckFailed(f"{what}: some training images did not go through "
                                  "train_transform.\n  Hint: build the training dataset with "
                                  "transform=train_transform.")
            values = values - 10.0
        elif (values >= 9.5).any():
            raise CheckFailed(f"{what}: images went through train_transform. Only the training "
                              "set is augmented; validation and test images stay as they are.")
        indices += [int(round(v * n)) for v in values.tolist()]
        labels += [int(v) for v in y.tolist()]
    return indices, labels


def check_make_loaders(make_loaders):
    """make_loaders(x, y, batch_size, seed, train_transform) -> (train, val, test) loaders."""
    names = ("train_loader", "val_loader", "test_loader")
    for case in cases(load_references(ASSIGNMENT), "loaders"):
        y = case["y"]
        batch_size, seed = (int(v) for v in case["settings"])
        n = len(y)
        x = np.broadcast_to((np.arange(n) / n).astype(np.float32)[:, None, None, None],
                            (n, 1, 8, 8)).copy()
        counts = np.bincount(y)
        what = (f"hidden test: make_loaders(x ({n}, 1, 8, 8), y with class sizes "
                f"{counts.tolist()}, batch_size={batch_size}, seed={seed}, train_transform=...)")

        def call(s):
            return call_student(lambda: make_loaders(x.copy(), y.copy(), batch_size=batch_size, seed=s,
                                                     train_transform=lambda image: image + 10.0),
                                what=what)

        result = call(seed)
        if not isinstance(result, tuple) or len(result) != 3 or \
                not all(isinstance(r, DataLoader) for r in result):
            raise CheckFailed(f"{what}: should return three DataLoaders (train, val, test).")
        splits = {}
        for name, loader, fraction in zip(names, result, (0.6, 0.2, 0.2)):
            if loader.batch_size != batch_size:
                raise CheckFailed(f"{what}: {name} has batch_size {loader.batch_size}, not {batch_size}.")
            if name == "train_loader" and not isinstance(loader.sampler, RandomSampler):
                raise CheckFailed(f"{what}: train_loader does not shuffle.\n  Hint: shuffle=True "
                                  "for the training loader (with a seeded generator).")
            if name != "train_loader" and not isinstance(loader.sampler, SequentialSampler):
                raise CheckFailed(f"{what}: {name} shuffles; only the training loader should.")
            indices, labels = _loader_indices(loader, n, f"{what}, {name}", name == "train_loader")
            if labels != [int(y[i]) for i in indices]:
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
        every = sorted(sum(splits.values(), []))
        if every != list(range(n)):
            raise CheckFailed(f"{what}: the three splits should hold every digit exactly once; "
                              "some are missing or repeated.")

        again = call(seed)
        again_train = _loader_indices(again[0], n, what, True)[0]
        for name, loader in zip(names, again):
            if name != "train_loader" and \
                    sorted(_loader_indices(loader, n, what, False)[0]) != sorted(splits[name]):
                raise CheckFailed(f"{what}: two calls with the same seed gave different splits.\n"
                                  "  Hint: pass random_state=seed to every random split.")
        if again_train != splits["train_loader"]:
            raise CheckFailed(f"{what}: two calls with the same seed shuffled the training set in "
                              "different orders.\n  Hint: DataLoader(..., shuffle=True, "
                              "generator=torch.Generator().manual_seed(seed)).")
        other = call(seed + 1)
        if sorted(_loader_indices(other[2], n, what, False)[0]) == sorted(splits["test_loader"]):
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


def check_train_one_epoch(train_one_epoch):
    """train_one_epoch(model, train_loader, loss_fn, optimizer, device) -> mean loss, checked
    against one epoch of SGD replayed by the reference."""
    for case in cases(load_references(ASSIGNMENT), "train"):
        x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
        batch_size, lr = int(case["settings"][0]), float(case["settings"][1])
        n_batches = -(-len(y) // batch_size)
        what = (f"hidden test: train_one_epoch on {len(y)} images {tuple(x.shape[1:])}, "
                f"batch_size {batch_size} ({n_batches} batches), SGD lr={lr}")
        model = _Recorder(_train_net(case))
        loss_fn = _RecordingLoss()
        optimizer = _SpySGD(model.parameters(), lr, model, loss_fn)
        loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
        model.eval()  # the function has to switch training mode on itself
        result = call_student(train_one_epoch, model, loader, loss_fn, optimizer, CPU, what=what)

        if not model.modes:
            raise CheckFailed(f"{what}: the model was never called.")
        if not all(model.modes):
            raise CheckFailed(f"{what}: the model ran in evaluation mode.\n  Hint: call "
                              "model.train() at the start: dropout and batch normalisation "
                              "behave differently in the two modes.")
        if optimizer.steps == 0:
            raise CheckFailed(f"{what}: optimizer.step() was never called, so nothing was learned.")
        if optimizer.problem:
            raise CheckFailed(f"{what}: {optimizer.problem}")
        if optimizer.steps != n_batches:
            raise CheckFailed(f"{what}: optimizer.step() ran {optimizer.steps} times; it should "
                              f"run once per batch ({n_batches}).")
        got = _as_float(result, what, "return the mean training loss over the epoch.")
        values, sizes = np.array(loss_fn.values), np.array(loss_fn.sizes)
        hint = "Weight each batch's loss by its size: sum(loss.item() * len(batch)) / number of samples."
        if len(values) and not np.isclose(values.mean(), float(case["loss"])) and np.isclose(got, values.mean()):
            hint = ("That is the mean of the batch losses; the last batch is smaller, so weight "
                    "each batch by its size.")
        elif len(values) and np.isclose(got, values[-1]):
            hint = "That is the loss of the last batch only: average over the whole epoch."
        elif len(values) and np.isclose(got, values.sum()):
            hint = "That is the sum of the batch losses: divide by the number of samples."
        check_close(got, float(case["loss"]), f"mean loss returned by {what}", reveal=False,
                    rtol=1e-7, hint=hint)
        for p, name in zip(model.net.parameters(), ("conv_w", "conv_b", "fc_w", "fc_b")):
            check_array(p.detach().numpy(), case[f"{name}_after"], f"{name} after {what}",
                        reveal=False, rtol=1e-7, atol=1e-10,
                        hint="One step per batch, on that batch's gradient alone.")


def check_evaluate(evaluate):
    """evaluate(model, loader, loss_fn, device) -> (mean loss, accuracy), against sklearn."""
    for case in cases(load_references(ASSIGNMENT), "evaluate"):
        x, y = torch.from_numpy(case["x"]), torch.from_numpy(case["y"])
        batch_size = int(case["batch_size"])
        K, D = case["w"].shape
        what = (f"hidden test: evaluate on {len(y)} samples, {K} classes, batch_size "
                f"{batch_size}, a Dropout(0.5) in the model")
        net = nn.Sequential(nn.Dropout(0.5), nn.Linear(D, K)).double()
        with torch.no_grad():
            net[1].weight.copy_(torch.from_numpy(case["w"]))
            net[1].bias.copy_(torch.from_numpy(case["b"]))
        before = [p.detach().clone() for p in net.parameters()]
        model, loss_fn = _Recorder(net), _RecordingLoss()
        loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
        model.train()  # the function has to switch evaluation mode on itself
        torch.manual_seed(0)
        result = call_student(evaluate, model, loader, loss_fn, CPU, what=what)

        if not isinstance(result, tuple) or len(result) != 2:
            raise CheckFailed(f"{what}: returned {type(result).__name__}; it should return a pair "
                              "(mean loss, accuracy).")
        if not model.modes:
            raise CheckFailed(f"{what}: the model was never called.")
        if any(model.modes):
            raise CheckFailed(f"{what}: the model ran in training mode, with dropout on.\n  Hint: "
                              "call model.eval() first.")
        if any(model.grad_modes):
            raise CheckFailed(f"{what}: autograd was on during evaluation.\n  Hint: run the loop "
                              "inside `with torch.no_grad():`.")
        if any(not torch.equal(a, p) for a, p in zip(before, net.parameters())):
            raise CheckFailed(f"{what}: the weights changed; evaluation must not train.")
        loss = _as_float(result[0], f"mean loss from {what}", "return (mean loss, accuracy)")
        accuracy = _as_float(result[1], f"accuracy from {what}", "return (mean loss, accuracy)")

        expected_accuracy = float(case["accuracy"])
        with torch.no_grad():
            batch_correct = [(net[1](x[s:s + batch_size]).argmax(1) == y[s:s + batch_size]).double().mean().item()
                             for s in range(0, len(y), batch_size)]
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

        values = np.array(loss_fn.values)
        hint = "Weight each batch's loss by its size and divide by the number of samples."
        if len(values) and np.isclose(loss, values.mean()) and not np.isclose(values.mean(), float(case["loss"])):
            hint = ("That is the mean of the batch losses; the last batch is smaller, so weight "
                    "each batch by its size.")
        check_close(loss, float(case["loss"]), f"mean loss from {what}", reveal=False, rtol=1e-7,
                    hint=hint)


def check_fit(fit):
    """fit(...) -> history, on scripted validation losses: stops after `patience` epochs without
    improvement and restores the best weights."""
    for case in cases(load_references(ASSIGNMENT), "fit"):
        val_losses = case["val_losses"]
        num_epochs, patience = (int(v) for v in case["settings"])
        best, run = (int(v) for v in case["expected"])
        script = ", ".join(f"{v:g}" for v in val_losses[:num_epochs])
        what = (f"hidden test: fit(num_epochs={num_epochs}, patience={patience}) with validation "
                f"losses scripted to be {script}")
        model = _ScriptedModel(val_losses)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        data = TensorDataset(torch.zeros(4, 1, dtype=torch.float64), torch.zeros(4, dtype=torch.long))
        train_loader, val_loader = DataLoader(data, batch_size=4), DataLoader(data, batch_size=4)
        history = call_student(fit, model, train_loader, val_loader, _scripted_loss, optimizer,
                               num_epochs, patience, CPU, what=what)
        if not isinstance(history, dict) or not {"train_loss", "val_loss", "best_epoch"} <= set(history):
            raise CheckFailed(f"{what}: should return a dict with keys 'train_loss', 'val_loss', "
                              "'val_accuracy' and 'best_epoch'.")
        k = min(len(history["val_loss"]), run)
        check_array(np.asarray(history["val_loss"][:k], dtype=float), val_losses[:k],
                    f"the first {k} validation losses in the history from {what}", reveal=False,
                    hint="One evaluation on val_loader after each training epoch. Each epoch of "
                         "training adds exactly 1 to the scripted model's weight: if "
                         "train_one_epoch fails its tests, fix it first.")
        check_equal(len(history["val_loss"]), run, f"number of epochs run by {what}", reveal=False,
                    hint="Stop once the validation loss has not gone below its best for `patience` "
                         "epochs in a row (a tie is not an improvement); never run more than "
                         "num_epochs.")
        check_array(np.asarray(history["val_loss"], dtype=float), val_losses[:run],
                    f"history['val_loss'] from {what}", reveal=False,
                    hint="Append evaluate's mean loss on val_loader once per epoch, after training.")
        check_array(np.asarray(history["train_loss"], dtype=float), -np.arange(run, dtype=float),
                    f"history['train_loss'] from {what}", reveal=False,
                    hint="Append train_one_epoch's return value once per epoch.")
        check_equal(int(history["best_epoch"]), best, f"history['best_epoch'] from {what}",
                    reveal=False, hint="The index (from 0) of the epoch with the lowest validation loss.")
        restored = model.w.item()
        hint = "Keep copy.deepcopy(model.state_dict()) of the best epoch and load it at the end."
        if np.isclose(restored, run) and run != best + 1:
            hint = ("The model kept the weights of the last epoch: either the best weights were "
                    "not loaded back, or they were stored without copy.deepcopy. "
                    "model.state_dict() holds references to the live tensors, which the optimizer "
                    "keeps changing.")
        check_close(restored, best + 1.0, f"the model's weights after {what} (w counts the training "
                    "steps done, so it names the epoch they come from)", reveal=False, hint=hint)


# ---------------------------------------------------------------- 3. metrics

def check_confusion_matrix(confusion_matrix_torch):
    """confusion_matrix_torch(y_true, y_pred, num_classes), against sklearn."""
    name = getattr(confusion_matrix_torch, "__name__", "confusion_matrix_torch")
    for case in cases(load_references(ASSIGNMENT), "confusion"):
        y_true, y_pred, K = case["y_true"], case["y_pred"], int(case["num_classes"])
        what = f"hidden test: {name}(y_true ({len(y_true)},), y_pred ({len(y_pred)},), num_classes={K})"
        with _sklearn_confusion_forbidden(confusion_matrix_torch):
            cm = call_student(confusion_matrix_torch, torch.from_numpy(y_true),
                              torch.from_numpy(y_pred), K, what=what)
        if not isinstance(cm, torch.Tensor):
            raise CheckFailed(f"{what}: returned {type(cm).__name__}; it should return a torch tensor.")
        if cm.dtype.is_floating_point:
            raise CheckFailed(f"{what}: returned dtype {cm.dtype}; counts are integers (torch.int64).")
        expected = case["expected"]
        check_array(cm.cpu().numpy(), expected, what, reveal=False,
                    diagnose=lambda got: ("Rows and columns are swapped: row i is the true class, "
                                          "column j the predicted one." if got.shape == expected.shape
                                          and not np.array_equal(expected, expected.T)
                                          and np.array_equal(got, expected.T) else None),
                    hint="cm[i, j] counts the samples of true class i predicted as class j; "
                         "every class 0..num_classes-1 gets a row and a column, even if unseen.")
    with _sklearn_confusion_forbidden(confusion_matrix_torch):
        try:
            confusion_matrix_torch(torch.tensor([0, 1, 3]), torch.tensor([0, 1, 1]), 3)
        except ValueError as err:
            if not str(err).strip():
                raise CheckFailed(f"hidden test: {name} with a label 3 and num_classes=3 raised "
                                  "ValueError without a message.") from None
        except CheckFailed:
            raise
        except Exception as err:
            raise CheckFailed(f"hidden test: {name} with a label 3 and num_classes=3 raised "
                              f"{type(err).__name__}: {err}; it should raise ValueError.") from err
        else:
            raise CheckFailed(f"hidden test: {name}(y_true [0, 1, 3], y_pred [0, 1, 1], "
                              "num_classes=3) did not raise ValueError for the label 3.")


# ---------------------------------------------------------------- 4. saving

def _bn_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 8 * 8, 3))


def check_save_load(save_weights, load_weights):
    """save_weights(model, path); load_weights(make_model, path, device) -> model in eval mode."""
    x = torch.from_numpy(load_references(ASSIGNMENT)["save/x"])
    torch.manual_seed(11)
    model = _bn_net()
    with torch.no_grad():
        for _ in range(3):
            model(x * 3 + 1)          # batch-norm running statistics move away from 0 and 1
    model.eval()
    with torch.no_grad():
        expected = model(x)
    what = "hidden test: save_weights then load_weights, a network with BatchNorm2d and Dropout"
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "weights.pt")
        call_student(save_weights, model, path, what=what)
        if not os.path.exists(path):
            raise CheckFailed(f"{what}: save_weights wrote no file at the path it was given.")
        try:
            stored = torch.load(path, weights_only=True)
        except Exception as err:
            raise CheckFailed(f"{what}: the file cannot be read with torch.load(path, "
                              f"weights_only=True) ({type(err).__name__}).\n  Hint: save "
                              "model.state_dict(), not the model object.") from None
        keys = set(model.state_dict())
        if not hasattr(stored, "keys") or set(stored.keys()) != keys:
            raise CheckFailed(f"{what}: the file does not hold the model's state_dict (its keys "
                              "should include the batch-norm running_mean and running_var).\n"
                              "  Hint: torch.save(model.state_dict(), path).")
        torch.manual_seed(12)
        calls = []
        with _torch_load_spy(calls):
            loaded = call_student(load_weights, _bn_net, path, CPU, what=what)
    if not isinstance(loaded, nn.Module):
        raise CheckFailed(f"{what}: load_weights returned {type(loaded).__name__}; it should return "
                          "the new model.")
    if not calls:
        raise CheckFailed(f"{what}: load_weights did not call torch.load.")
    if calls[-1].get("weights_only") is not True:
        raise CheckFailed(f"{what}: torch.load was called without weights_only=True.\n  Hint: "
                          "weights_only=True reads tensors only and refuses to run code hidden in a file.")
    if loaded.training:
        raise CheckFailed(f"{what}: the loaded model is in training mode; return it in eval mode.")
    with torch.no_grad():
        got = loaded(x)
    check_array(got.numpy(), expected.numpy(), f"predictions of the loaded model ({what})",
                reveal=False, rtol=0, atol=1e-6,
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


def check_better_cnn(make_better_cnn):
    """make_better_cnn(num_classes, dropout): BatchNorm2d, conv-conv-pool, Dropout between
    dense layers, output (N, num_classes)."""
    for case in cases(load_references(ASSIGNMENT), "better"):
        K, dropout, N = int(case["settings"][0]), float(case["settings"][1]), int(case["settings"][2])
        x = torch.from_numpy(case["x"])
        what = f"hidden test: make_better_cnn(num_classes={K}, dropout={dropout})"
        torch.manual_seed(0)
        net = call_student(lambda: make_better_cnn(num_classes=K, dropout=dropout), what=what)
        if not isinstance(net, nn.Module):
            raise CheckFailed(f"{what}: returned {type(net).__name__}; it should return an nn.Module.")
        if not any(isinstance(m, nn.BatchNorm2d) for m in net.modules()):
            raise CheckFailed(f"{what}: the network has no nn.BatchNorm2d layer.")
        net.train()
        order, out = call_student(lambda: _executed_leaves(net, x), what=f"{what} on x {tuple(x.shape)}")
        check_equal(tuple(out.shape), (N, K), f"output shape of {what} on x {tuple(x.shape)}",
                    reveal=False, hint="The last Linear layer has num_classes outputs.")
        kinds = [m for m in order if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]
        vgg = any(isinstance(a, nn.Conv2d) and isinstance(b, nn.Conv2d) and
                  isinstance(c, (nn.MaxPool2d, nn.AvgPool2d)) for a, b, c in zip(kinds, kinds[1:], kinds[2:]))
        if not vgg:
            raise CheckFailed(f"{what}: no VGG-style block: two Conv2d layers in a row (with "
                              "batch norm and ReLU between them) followed by a pooling layer.")
        linear = [i for i, m in enumerate(order) if isinstance(m, nn.Linear)]
        if len(linear) < 2:
            raise CheckFailed(f"{what}: the network should end with at least two nn.Linear layers.")
        between = [m for m in order[linear[0] + 1:linear[-1]] if isinstance(m, nn.Dropout)]
        if not between:
            raise CheckFailed(f"{what}: no nn.Dropout layer between two Linear layers.\n  Hint: "
                              "Linear -> ReLU -> Dropout(dropout) -> Linear (use the nn.Dropout "
                              "module, so that model.eval() switches it off).")
        if any(not np.isclose(m.p, dropout) for m in between):
            raise CheckFailed(f"{what}: the Dropout between the dense layers has p = "
                              f"{between[0].p}; it should use the `dropout` argument ({dropout}).")
        net.eval()
        with torch.no_grad():
            first, second = net(x), net(x)
        if not torch.equal(first, second):
            raise CheckFailed(f"{what}: in eval mode two passes on the same input differ.")


# ---------------------------------------------------------------- 6. the two bugs

def check_test_dataset(make_test_dataset):
    """make_test_dataset(x, y): the same item twice is the same, un-augmented image."""
    for case in cases(load_references(ASSIGNMENT), "test_set"):
        x, y, expected = case["x"], case["y"], case["expected"]
        what = f"hidden test: make_test_dataset(x {x.shape}, y ({len(y)},))"
        dataset = call_student(make_test_dataset, x.copy(), y.copy(), what=what)
        check_equal(call_student(len, dataset, what=what), len(y), f"len({what})", reveal=False)
        for i in range(len(y)):
            first = _image_label(call_student(dataset.__getitem__, i, what=f"{what}[{i}]"), f"{what}[{i}]")
            second = _image_label(call_student(dataset.__getitem__, i, what=f"{what}[{i}]"), f"{what}[{i}]")
            if not torch.equal(first[0], second[0]):
                raise CheckFailed(f"{what}: reading item {i} twice gave two different images: the "
                                  "test set is still augmented.")
            check_array(first[0].detach().numpy(), expected[i], f"image of {what}[{i}]", reveal=False,
                        atol=1e-6, hint="The test image is the digit upsampled to 16x16 and "
                                        "nothing else: no crop, shift or jitter.")
            check_equal(first[1], int(y[i]), f"label of {what}[{i}]", reveal=False)


def check_fixed_net(FixedNet, BuggyNet):
    """FixedNet: BuggyNet's layers, dropout on in train mode only."""
    for case in cases(load_references(ASSIGNMENT), "fixed"):
        K, p = int(case["settings"][0]), float(case["settings"][1])
        x = torch.from_numpy(case["x"])
        what = f"hidden test: FixedNet(num_classes={K}, p={p}) on x {tuple(x.shape)}"
        torch.manual_seed(3)
        buggy = BuggyNet(num_classes=K, p=p)
        fixed = call_student(lambda: FixedNet(num_classes=K, p=p), what=what)
        try:
            fixed.load_state_dict(buggy.state_dict())
        except Exception as err:
            raise CheckFailed(f"{what}: BuggyNet's weights do not load into FixedNet "
                              f"({type(err).__name__}).\n  Hint: keep BuggyNet's layers and their "
                              "names; only the dropout changes.") from None
        no_dropout = BuggyNet(num_classes=K, p=0.0)
        no_dropout.load_state_dict(buggy.state_dict())
        with torch.no_grad():
            expected = no_dropout(x)
            fixed.eval()
            first = call_student(fixed, x, what=what)
            second = fixed(x)
            if not torch.equal(first, second):
                raise CheckFailed(f"{what}: in eval mode two passes on the same input differ: "
                                  "dropout is still on.\n  Hint: F.dropout(x, p, "
                                  "training=self.training), or nn.Dropout modules.")
            check_array(first.numpy(), expected.numpy(), f"eval-mode output of {what}", reveal=False,
                        atol=1e-6, hint="In eval mode FixedNet computes what BuggyNet computes "
                                        "with p = 0.")
            fixed.train()
            buggy.train()
            torch.manual_seed(5)
            train_out = fixed(x)
            torch.manual_seed(5)
            buggy_out = buggy(x)
        if torch.allclose(train_out, expected):
            raise CheckFailed(f"{what}: in training mode the output has no dropout; dropout must "
                              "stay on while training.")
        check_array(train_out.numpy(), buggy_out.numpy(), f"training-mode output of {what}",
                    reveal=False, atol=1e-6,
                    hint="In training mode FixedNet drops exactly where BuggyNet does, with the "
                         "same p (same places in forward).")
