"""07-training-cnns judged outside the kernel: each check run as the grading kernel runs it
(COURSE_JUDGE=outside, recording only), then judged by autograder.judge. The solution passes;
answers that lie (a tensor subclass, a float subclass that equals anything) and typical wrong
ones (no model.train(), gradients never zeroed, the mean of batch losses, weights of the last
epoch kept, a test set still augmented, statistics over the whole batch, an initial loss with
dropout on, a tiny batch trained without zero_grad, a schedule counted in epochs) fail with the
student's message."""
import nbformat
import numpy as np
import pytest
import torch

from autograder.hidden import training_cnns
from autograder.nbgrader_steps import REPO
from autograder.hidden.spec import load_inputs
from autograder.solutions import load_solutions
from autograder.tests.judging import graded_outside


class LyingTensor(torch.Tensor):
    def __eq__(self, other):
        return True


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0


@pytest.fixture(scope="module")
def S():
    """The solutions, and BuggyNet from the notebook cell that defines it (not a solution)."""
    solutions = load_solutions("07-training-cnns")
    nb = nbformat.read(REPO / "source" / "07-training-cnns" / "07-training-cnns.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "class BuggyNet" in c.source
                and not c.metadata.get("nbgrader", {}).get("solution"))
    exec(compile(cell.source, "BuggyNet", "exec"), solutions)
    return solutions


CALLS = {
    "check_digits_dataset": ["DigitsDataset"],
    "check_make_loaders": ["make_loaders"],
    "check_train_one_epoch": ["train_one_epoch"],
    "check_evaluate": ["evaluate"],
    "check_fit": ["fit"],
    "check_confusion_matrix": ["confusion_matrix_torch"],
    "check_save_load": ["save_weights", "load_weights"],
    "check_better_cnn": ["make_better_cnn"],
    "check_test_dataset": ["make_test_dataset"],
    "check_fixed_net": ["FixedNet", "BuggyNet"],
    "check_normalization": ["normalization_stats", "normalize"],
    "check_initial_loss": ["initial_loss", "expected_initial_loss"],
    "check_overfit_tiny_subset": ["overfit_tiny_subset"],
    "check_make_scheduler": ["make_scheduler"],
}


def graded(tmp_path, monkeypatch, check, fns):
    return graded_outside(tmp_path, monkeypatch, "training_cnns", check, CALLS[check], fns)


def test_every_check_of_07_is_judged_outside():
    assert set(training_cnns.CHECKS) == set(CALLS)


def test_the_kernel_reads_no_expected_output():
    fields = {key.rpartition("/")[2] for key in load_inputs("07-training-cnns")}
    assert fields and not fields & {"expected", "loss", "accuracy", "fc_w_after"}


@pytest.mark.parametrize("check", list(CALLS))
def test_the_solution_passes_outside(tmp_path, monkeypatch, S, check):
    assert graded(tmp_path, monkeypatch, check, [S[n] for n in CALLS[check]]) is None


# ----------------------------------------------------------------------------- lying answers

def test_a_lying_float_from_train_one_epoch_earns_nothing(tmp_path, monkeypatch, S):
    def train_one_epoch(model, loader, loss_fn, optimizer, device):
        return LyingFloat(1e9)              # trains nothing, says it equals the reference
    message = graded(tmp_path, monkeypatch, "check_train_one_epoch", [train_one_epoch])
    assert message is not None


def test_a_dataset_of_lying_tensors_is_wrong(tmp_path, monkeypatch, S):
    class DigitsDataset(S["DigitsDataset"]):
        def __getitem__(self, i):
            image, label = super().__getitem__(i)
            return torch.zeros_like(image).as_subclass(LyingTensor), label
    message = graded(tmp_path, monkeypatch, "check_digits_dataset", [DigitsDataset])
    assert "LyingTensor" in message


def test_a_confusion_matrix_of_a_lying_tensor_is_wrong(tmp_path, monkeypatch, S):
    def confusion_matrix_torch(y_true, y_pred, num_classes):
        return S["confusion_matrix_torch"](y_true, y_pred, num_classes).as_subclass(LyingTensor)
    message = graded(tmp_path, monkeypatch, "check_confusion_matrix", [confusion_matrix_torch])
    assert "LyingTensor" in message


# ----------------------------------------------------------------------------- wrong answers

def test_training_in_eval_mode_is_named(tmp_path, monkeypatch, S):
    def train_one_epoch(model, loader, loss_fn, optimizer, device):
        result = S["train_one_epoch"](model, loader, loss_fn, optimizer, device)
        return result
    original = torch.nn.Module.train

    def no_train(self, mode=True):         # model.train() forgotten
        return self if mode else original(self, mode)
    monkeypatch.setattr(torch.nn.Module, "train", no_train)
    message = graded(tmp_path, monkeypatch, "check_train_one_epoch", [train_one_epoch])
    assert "evaluation mode" in message


def test_gradients_never_zeroed_are_named(tmp_path, monkeypatch, S):
    def train_one_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total = 0.0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        return total / len(loader.dataset)
    message = graded(tmp_path, monkeypatch, "check_train_one_epoch", [train_one_epoch])
    assert "not zeroed" in message


def test_the_mean_of_batch_losses_is_named(tmp_path, monkeypatch, S):
    def train_one_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        losses = []
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return float(np.mean(losses))
    message = graded(tmp_path, monkeypatch, "check_train_one_epoch", [train_one_epoch])
    assert "mean of the batch losses" in message


def test_evaluate_with_dropout_on_is_named(tmp_path, monkeypatch, S):
    def evaluate(model, loader, loss_fn, device):
        model.train()
        original = model.eval
        model.eval = lambda: model
        try:
            return S["evaluate"](model, loader, loss_fn, device)
        finally:
            model.eval = original
    message = graded(tmp_path, monkeypatch, "check_evaluate", [evaluate])
    assert "training mode, with dropout on" in message


def test_fit_that_keeps_the_last_weights_is_named(tmp_path, monkeypatch, S):
    def fit(model, train_loader, val_loader, loss_fn, optimizer, num_epochs, patience, device):
        history = S["fit"](model, train_loader, val_loader, loss_fn, optimizer, num_epochs,
                           patience, device)
        with torch.no_grad():                      # the weights of the last epoch run, kept
            model.w.fill_(len(history["val_loss"]))
        return history
    message = graded(tmp_path, monkeypatch, "check_fit", [fit])
    assert "kept the weights of the last epoch" in message


def test_a_confusion_matrix_from_sklearn_is_refused(tmp_path, monkeypatch, S):
    from sklearn.metrics import confusion_matrix

    def confusion_matrix_torch(y_true, y_pred, num_classes):
        return torch.from_numpy(confusion_matrix(y_true.numpy(), y_pred.numpy(),
                                                 labels=np.arange(num_classes)))
    message = graded(tmp_path, monkeypatch, "check_confusion_matrix", [confusion_matrix_torch])
    assert "can reach sklearn's confusion_matrix" in message


def test_sklearn_through_its_module_is_refused_while_it_runs(tmp_path, monkeypatch, S):
    import sklearn.metrics

    def confusion_matrix_torch(y_true, y_pred, num_classes):
        return torch.from_numpy(sklearn.metrics.confusion_matrix(
            y_true.numpy(), y_pred.numpy(), labels=np.arange(num_classes)))
    message = graded(tmp_path, monkeypatch, "check_confusion_matrix", [confusion_matrix_torch])
    assert "called sklearn's confusion_matrix" in message


def test_a_swapped_confusion_matrix_is_named(tmp_path, monkeypatch, S):
    def confusion_matrix_torch(y_true, y_pred, num_classes):
        return S["confusion_matrix_torch"](y_true, y_pred, num_classes).T.contiguous()
    message = graded(tmp_path, monkeypatch, "check_confusion_matrix", [confusion_matrix_torch])
    assert "Rows and columns are swapped" in message


def test_loading_without_weights_only_is_named(tmp_path, monkeypatch, S):
    def load_weights(make_model, path, device):
        model = make_model()
        model.load_state_dict(torch.load(path, map_location=device))
        return model.to(device).eval()
    message = graded(tmp_path, monkeypatch, "check_save_load", [S["save_weights"], load_weights])
    assert "weights_only=True" in message


def test_a_test_set_still_augmented_is_named(tmp_path, monkeypatch, S):
    def make_test_dataset(x, y):
        dataset = S["make_test_dataset"](x, y)
        get = dataset.__getitem__

        class Jittered(type(dataset)):
            def __getitem__(self, i):
                image, label = get(i)
                return image + 0.01 * torch.rand_like(image), label
        dataset.__class__ = Jittered
        return dataset
    message = graded(tmp_path, monkeypatch, "check_test_dataset", [make_test_dataset])
    assert "still augmented" in message


def test_a_fixed_net_with_dropout_off_in_training_is_named(tmp_path, monkeypatch, S):
    class FixedNet(S["FixedNet"]):
        def forward(self, x):
            training = self.training
            self.eval()
            try:
                return super().forward(x)
            finally:
                self.train(training)
    message = graded(tmp_path, monkeypatch, "check_fixed_net", [FixedNet, S["BuggyNet"]])
    assert "no dropout" in message


# ----------------------------------------------------------------------------- training craft

def test_lying_statistics_earn_nothing(tmp_path, monkeypatch, S):
    def normalization_stats(x_train):
        mean, std = S["normalization_stats"](x_train)
        return torch.zeros_like(mean).as_subclass(LyingTensor), std
    message = graded(tmp_path, monkeypatch, "check_normalization", [normalization_stats, S["normalize"]])
    assert "LyingTensor" in message


def test_statistics_over_the_whole_batch_are_named(tmp_path, monkeypatch, S):
    def normalization_stats(x_train):
        C = x_train.shape[1]
        return x_train.mean().repeat(C), x_train.std().repeat(C)
    message = graded(tmp_path, monkeypatch, "check_normalization", [normalization_stats, S["normalize"]])
    assert "over the whole batch" in message


def test_a_std_per_pixel_is_named(tmp_path, monkeypatch, S):
    def normalization_stats(x_train):
        return x_train.mean(dim=(0, 2, 3)), x_train.std(dim=0)
    message = graded(tmp_path, monkeypatch, "check_normalization", [normalization_stats, S["normalize"]])
    assert "per pixel" in message


def test_normalize_that_multiplies_is_named(tmp_path, monkeypatch, S):
    def normalize(x, mean, std):
        return (x - mean[None, :, None, None]) * std[None, :, None, None]
    message = graded(tmp_path, monkeypatch, "check_normalization", [S["normalization_stats"], normalize])
    assert "divide by the std" in message


def test_a_lying_initial_loss_earns_nothing(tmp_path, monkeypatch, S):
    def initial_loss(model, x, y):
        model.eval()
        with torch.no_grad():
            model(x)
        return LyingFloat(2.3)
    message = graded(tmp_path, monkeypatch, "check_initial_loss", [initial_loss, S["expected_initial_loss"]])
    assert message is not None and "loss from" in message


def test_an_initial_loss_with_dropout_on_is_named(tmp_path, monkeypatch, S):
    def initial_loss(model, x, y):
        with torch.no_grad():
            return torch.nn.functional.cross_entropy(model(x), y).item()
    message = graded(tmp_path, monkeypatch, "check_initial_loss", [initial_loss, S["expected_initial_loss"]])
    assert "training mode, with dropout on" in message


def test_log10_for_the_expected_initial_loss_is_named(tmp_path, monkeypatch, S):
    message = graded(tmp_path, monkeypatch, "check_initial_loss", [S["initial_loss"], lambda k: float(np.log10(k))])
    assert "log10" in message


def test_a_tiny_batch_trained_without_zero_grad_is_named(tmp_path, monkeypatch, S):
    def overfit_tiny_subset(make_model, x, y, num_steps, lr):
        model = make_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        losses = []
        for _ in range(num_steps):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    message = graded(tmp_path, monkeypatch, "check_overfit_tiny_subset", [overfit_tiny_subset])
    assert "not zeroed" in message


def test_made_up_tiny_losses_earn_nothing(tmp_path, monkeypatch, S):
    def overfit_tiny_subset(make_model, x, y, num_steps, lr):
        model = make_model().train()
        model(x)
        return [LyingFloat(0.01) for _ in range(num_steps)]
    message = graded(tmp_path, monkeypatch, "check_overfit_tiny_subset", [overfit_tiny_subset])
    assert "first loss" in message


def test_a_tiny_batch_in_eval_mode_is_named(tmp_path, monkeypatch, S):
    def overfit_tiny_subset(make_model, x, y, num_steps, lr):
        original = torch.nn.Module.train
        torch.nn.Module.train = lambda self, mode=True: self if mode else original(self, mode)
        try:                                                   # model.train() does nothing
            return S["overfit_tiny_subset"](make_model, x, y, num_steps, lr)
        finally:
            torch.nn.Module.train = original
    message = graded(tmp_path, monkeypatch, "check_overfit_tiny_subset", [overfit_tiny_subset])
    assert "evaluation mode" in message


def test_a_schedule_counted_in_epochs_is_named(tmp_path, monkeypatch, S):
    def make_scheduler(optimizer, num_epochs, steps_per_epoch):
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"],
                                                   total_steps=num_epochs)
    message = graded(tmp_path, monkeypatch, "check_make_scheduler", [make_scheduler])
    assert "num_epochs * steps_per_epoch" in message


def test_cosine_annealing_instead_of_one_cycle_is_named(tmp_path, monkeypatch, S):
    def make_scheduler(optimizer, num_epochs, steps_per_epoch):
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_epochs * steps_per_epoch)
    message = graded(tmp_path, monkeypatch, "check_make_scheduler", [make_scheduler])
    assert "That is CosineAnnealingLR" in message


def test_a_peak_other_than_the_optimizers_lr_is_named(tmp_path, monkeypatch, S):
    def make_scheduler(optimizer, num_epochs, steps_per_epoch):
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, epochs=num_epochs,
                                                        steps_per_epoch=steps_per_epoch)
        return scheduler
    message = graded(tmp_path, monkeypatch, "check_make_scheduler", [make_scheduler])
    assert "The schedule peaks at" in message
