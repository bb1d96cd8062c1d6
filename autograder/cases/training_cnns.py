"""Cases for 07-training-cnns. Oracles: torch.nn.functional (interpolate, conv2d, linear,
cross_entropy and autograd gradients, with a hand-written SGD update), scipy.special.logsumexp,
sklearn.metrics (accuracy_score, confusion_matrix), and a few lines stating the
early-stopping rule. None of them calls the notebook's solutions.

Training cases are float64, so a correct answer matches to about 1e-10. The cases of the
training craft (section 9: normalisation, initial loss, overfitting a tiny batch, the learning-rate
schedule) hold inputs only: the judge computes what is expected from them with torch.
"""
import numpy as np
import torch
import torch.nn.functional as tnf
from scipy.special import logsumexp
from sklearn.metrics import accuracy_score, confusion_matrix

SEED = 2026 + 7
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"expected", "loss", "accuracy", "conv_w_after", "conv_b_after", "fc_w_after",
                 "fc_b_after"}
SIZE = 16  # DigitsDataset upsamples every image to SIZE x SIZE

# (N, C, H, W) of the images a DigitsDataset receives: square, non-square, already 16x16
DATASET_SHAPES = [(7, 1, 8, 8), (4, 1, 6, 10), (3, 1, 16, 16), (5, 1, 12, 7)]

# make_loaders: (class sizes, batch_size, seed); imbalanced classes, batches that do not divide
LOADER_CASES = [([40, 25, 60, 30], 16, 3), ([12, 31, 20], 7, 11), ([30] * 10, 32, 0)]

# train_one_epoch: (N, C, H, W, classes, batch_size, lr); a conv(3x3, 3 maps) + linear net
TRAIN_CASES = [(10, 1, 5, 7, 4, 4, 0.3), (9, 2, 6, 4, 3, 9, 0.1), (13, 1, 8, 8, 5, 5, 0.5)]

# evaluate: (N, D, classes, batch_size); a linear net behind a Dropout
EVALUATE_CASES = [(37, 12, 5, 8), (20, 6, 3, 20), (41, 30, 10, 6)]

# fit: (validation losses after each epoch, num_epochs, patience)
FIT_CASES = [
    ([5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.9, 4.0, 4.0, 4.0], 10, 3),   # a late dip beyond patience
    ([3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0], 8, 2),               # ties are no improvement
    ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 6, 1),                         # best at the first epoch
    ([6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 6, 2),                         # never stops, best is last
    ([4.0, 3.0, 3.5, 2.5, 2.6, 2.7, 2.8, 2.0, 2.1], 9, 4),          # patience reset by a new best
]

# confusion_matrix_torch: (N, num_classes); a class never predicted in the second case
CONFUSION_CASES = [(50, 4), (33, 6), (80, 12), (5, 3)]

# make_better_cnn: (num_classes, dropout, N)
BETTER_CASES = [(7, 0.45, 3), (2, 0.1, 5), (10, 0.3, 2)]

# FixedNet: (num_classes, p, N)
FIXED_CASES = [(10, 0.5, 6), (4, 0.3, 3)]

# make_test_dataset: (N, H, W)
TEST_SET_SHAPES = [(6, 8, 8), (3, 9, 5)]

# Training craft (section 9); drawn from a generator of their own, so the cases above stay as
# they are. The judge computes every expected value from these inputs with torch.
# normalization_stats / normalize: (N, C, H, W) of the training images, channels on their own scales
NORM_SHAPES = [(6, 3, 5, 7), (4, 2, 9, 4), (9, 1, 6, 6)]

# initial_loss: (N, C, H, W, classes) on a Flatten -> Dropout(0.5) -> Linear network
INITIAL_CASES = [(30, 2, 3, 5, 10), (17, 1, 4, 2, 4)]

# overfit_tiny_subset: (N, C, H, W, classes, num_steps, lr) on a conv(3x3, 4 maps) + linear net
OVERFIT_CASES = [(20, 2, 6, 9, 5, 60, 0.02), (12, 1, 7, 5, 3, 40, 0.03)]

# make_scheduler: (optimizer: 0 SGD with momentum 0.9, 1 AdamW, lr, num_epochs, steps_per_epoch)
SCHEDULER_CASES = [(1, 0.004, 3, 7), (0, 0.1, 2, 5), (1, 0.01, 1, 11)]


def fit_oracle(val_losses, num_epochs, patience):
    """(best_epoch, epochs_run) of early stopping: stop after `patience` epochs in a row
    without a validation loss strictly below the best so far."""
    best, best_epoch, waited = np.inf, 0, 0
    for epoch in range(num_epochs):
        if val_losses[epoch] < best:
            best, best_epoch, waited = val_losses[epoch], epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch + 1
    return best_epoch, num_epochs


def train_oracle(x, y, params, batch_size, lr):
    """One epoch of plain SGD, batches in order: the mean loss over samples and the weights
    after the epoch. params: [conv_w, conv_b, fc_w, fc_b] as float64 tensors."""
    params = [p.clone().requires_grad_(True) for p in params]
    total = 0.0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        hidden = torch.relu(tnf.conv2d(xb, params[0], params[1], padding=1))
        loss = tnf.cross_entropy(tnf.linear(hidden.flatten(1), params[2], params[3]), yb)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
        total += loss.item() * len(xb)
    return total / len(x), [p.detach() for p in params]


def build():
    """Cases for 07-training-cnns: {key: array}."""
    rng = np.random.default_rng(SEED)
    refs = {}

    for i, shape in enumerate(DATASET_SHAPES):
        x = rng.random(shape).astype(np.float32)
        refs[f"dataset/{i}/x"], refs[f"dataset/{i}/y"] = x, rng.integers(0, 10, size=shape[0])
        refs[f"dataset/{i}/expected"] = tnf.interpolate(
            torch.from_numpy(x), size=(SIZE, SIZE), mode="bilinear", align_corners=False).numpy()

    for i, (sizes, batch_size, seed) in enumerate(LOADER_CASES):
        y = np.repeat(np.arange(len(sizes)), sizes)
        refs[f"loaders/{i}/y"] = rng.permutation(y)
        refs[f"loaders/{i}/settings"] = np.array([batch_size, seed])

    for i, (N, C, H, W, K, batch_size, lr) in enumerate(TRAIN_CASES):
        x, y = rng.normal(size=(N, C, H, W)), rng.integers(0, K, size=N)
        params = [rng.normal(size=(3, C, 3, 3)) * 0.5, rng.normal(size=3) * 0.1,
                  rng.normal(size=(K, 3 * H * W)) * 0.3, rng.normal(size=K) * 0.1]
        loss, after = train_oracle(torch.from_numpy(x), torch.from_numpy(y),
                                   [torch.from_numpy(p) for p in params], batch_size, lr)
        refs[f"train/{i}/x"], refs[f"train/{i}/y"] = x, y
        for name, before, new in zip(("conv_w", "conv_b", "fc_w", "fc_b"), params, after):
            refs[f"train/{i}/{name}"], refs[f"train/{i}/{name}_after"] = before, new.numpy()
        refs[f"train/{i}/settings"] = np.array([batch_size, lr])
        refs[f"train/{i}/loss"] = np.array(loss)

    for i, (N, D, K, batch_size) in enumerate(EVALUATE_CASES):
        x, y = rng.normal(size=(N, D)), rng.integers(0, K, size=N)
        w, b = rng.normal(size=(K, D)), rng.normal(size=K)
        logits = x @ w.T + b
        refs[f"evaluate/{i}/x"], refs[f"evaluate/{i}/y"] = x, y
        refs[f"evaluate/{i}/w"], refs[f"evaluate/{i}/b"] = w, b
        refs[f"evaluate/{i}/batch_size"] = np.array(batch_size)
        refs[f"evaluate/{i}/loss"] = np.array(np.mean(logsumexp(logits, axis=1) - logits[np.arange(N), y]))
        refs[f"evaluate/{i}/accuracy"] = np.array(accuracy_score(y, logits.argmax(axis=1)))

    for i, (val_losses, num_epochs, patience) in enumerate(FIT_CASES):
        best_epoch, epochs_run = fit_oracle(val_losses, num_epochs, patience)
        refs[f"fit/{i}/val_losses"] = np.array(val_losses)
        refs[f"fit/{i}/settings"] = np.array([num_epochs, patience])
        refs[f"fit/{i}/expected"] = np.array([best_epoch, epochs_run])

    for i, (N, K) in enumerate(CONFUSION_CASES):
        y_true = rng.integers(0, K, size=N)
        y_pred = np.where(rng.random(N) < 0.6, y_true, rng.integers(0, K, size=N))
        if i == 1:
            y_pred[y_pred == K - 1] = 0          # class K - 1 is never predicted
        refs[f"confusion/{i}/y_true"], refs[f"confusion/{i}/y_pred"] = y_true, y_pred
        refs[f"confusion/{i}/num_classes"] = np.array(K)
        refs[f"confusion/{i}/expected"] = confusion_matrix(y_true, y_pred, labels=np.arange(K))

    for i, (K, dropout, N) in enumerate(BETTER_CASES):
        refs[f"better/{i}/settings"] = np.array([K, dropout, N])
        refs[f"better/{i}/x"] = rng.random((N, 1, SIZE, SIZE)).astype(np.float32)

    for i, (K, p, N) in enumerate(FIXED_CASES):
        refs[f"fixed/{i}/settings"] = np.array([K, p])
        refs[f"fixed/{i}/x"] = rng.random((N, 1, SIZE, SIZE)).astype(np.float32)

    for i, (N, H, W) in enumerate(TEST_SET_SHAPES):
        x = rng.random((N, 1, H, W)).astype(np.float32)
        refs[f"test_set/{i}/x"], refs[f"test_set/{i}/y"] = x, rng.integers(0, 10, size=N)
        refs[f"test_set/{i}/expected"] = tnf.interpolate(
            torch.from_numpy(x), size=(SIZE, SIZE), mode="bilinear", align_corners=False).numpy()

    refs["save/0/x"] = rng.random((5, 1, SIZE, SIZE)).astype(np.float32)

    craft = np.random.default_rng(SEED + 9)
    for i, (N, C, H, W) in enumerate(NORM_SHAPES):
        scale, shift = craft.uniform(0.2, 3.0, size=C), craft.uniform(-2.0, 2.0, size=C)
        x = craft.normal(size=(N, C, H, W)) * scale[:, None, None] + shift[:, None, None]
        refs[f"norm/{i}/x"] = x.astype(np.float32)
        refs[f"norm/{i}/x_val"] = (craft.normal(size=(3, C, H, W)) * 2).astype(np.float32)
        refs[f"norm/{i}/mean"] = craft.uniform(-1.0, 1.0, size=C).astype(np.float32)
        refs[f"norm/{i}/std"] = craft.uniform(0.5, 2.0, size=C).astype(np.float32)

    for i, (N, C, H, W, K) in enumerate(INITIAL_CASES):
        refs[f"initial/{i}/x"] = craft.normal(size=(N, C, H, W))
        refs[f"initial/{i}/y"] = craft.integers(0, K, size=N)
        refs[f"initial/{i}/w"] = craft.normal(size=(K, C * H * W)) * 0.05
        refs[f"initial/{i}/b"] = craft.normal(size=K) * 0.01

    for i, (N, C, H, W, K, num_steps, lr) in enumerate(OVERFIT_CASES):
        refs[f"overfit/{i}/x"] = craft.normal(size=(N, C, H, W)).astype(np.float32)
        refs[f"overfit/{i}/y"] = craft.integers(0, K, size=N)
        refs[f"overfit/{i}/conv_w"] = (craft.normal(size=(4, C, 3, 3)) * 0.3).astype(np.float32)
        refs[f"overfit/{i}/conv_b"] = np.zeros(4, dtype=np.float32)
        refs[f"overfit/{i}/fc_w"] = (craft.normal(size=(K, 4 * H * W)) * 0.05).astype(np.float32)
        refs[f"overfit/{i}/fc_b"] = np.zeros(K, dtype=np.float32)
        refs[f"overfit/{i}/settings"] = np.array([num_steps, lr])

    for i, (kind, lr, num_epochs, steps_per_epoch) in enumerate(SCHEDULER_CASES):
        refs[f"scheduler/{i}/settings"] = np.array([kind, lr, num_epochs, steps_per_epoch])
    return refs
