"""Train the better CNN of 07-training-cnns (the reference solution) and time it.

    .venv/bin/python benchmarks/better_cnn_digits.py
    .venv/bin/python benchmarks/better_cnn_digits.py --fashion-mnist DIR

Digits: scikit-learn's 1,797 digits upsampled to 16x16 (DigitsDataset), split 75% / 25%
(stratified, seed 0); 10% of the 75% is held out for early stopping, the 25% is the test set,
looked at once. Training images are augmented as in the notebook (crop with padding, small
affine shifts, brightness and contrast; no flips). Adam, lr 2e-3, batch 64, at most 40 epochs,
patience 8.

Fashion-MNIST (only with --fashion-mnist DIR, read from DIR/FashionMNIST/raw, never
downloaded): the 60,000 training images (1 in 12 held out for early stopping) and the 10,000
test images, 28x28, augmented with a crop with padding and a horizontal flip (valid for
clothes). Adam, lr 2e-3, batch 128, at most --epochs epochs (15), patience 4. Target: test
accuracy at least 91%. Exit status 1 when the target is missed, 2 when the files are missing.
"""
import argparse
import sys
import time

import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset

from autograder.solutions import load_solutions
from course.data import load_digits
from course.datasets import local_torchvision_dataset

FASHION_TARGET = 0.91


class TensorImages(Dataset):
    """Float images (N, 1, H, W) in [0, 1] and int64 labels, with a per-read transform."""

    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = self.images[i]
        return (self.transform(image) if self.transform is not None else image), self.labels[i]


def train_and_test(ns, model, train_loader, val_loader, test_loader, lr, num_epochs, patience, device):
    """fit() with Adam, then one evaluation on the test set. Returns a dict of results."""
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    history = ns["fit"](model, train_loader, val_loader, loss_fn, optimizer, num_epochs, patience, device)
    seconds = time.perf_counter() - start
    epochs = len(history["val_loss"])
    test_loss, test_accuracy = ns["evaluate"](model, test_loader, loss_fn, device)
    return {"epochs": epochs, "best_epoch": history["best_epoch"], "seconds": seconds,
            "per_epoch": seconds / epochs, "test_loss": test_loss, "test_accuracy": test_accuracy}


def report(name, r, sizes):
    print(f"{name}: {sizes}")
    print(f"  epochs run       {r['epochs']} (best: epoch {r['best_epoch']}, weights restored)")
    print(f"  time per epoch   {r['per_epoch']:.2f} s (training + validation)")
    print(f"  total time       {r['seconds']:.1f} s")
    print(f"  test accuracy    {r['test_accuracy']:.2%} (test loss {r['test_loss']:.4f})")


def digits(ns, v2, device, seed=0):
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    x_fit, x_val, y_fit, y_val = train_test_split(x_train, y_train, test_size=0.1, stratify=y_train,
                                                  random_state=seed)
    augment = v2.Compose([v2.RandomCrop(16, padding=2), v2.RandomAffine(degrees=10, translate=(0.1, 0.1)),
                          v2.ColorJitter(brightness=0.3, contrast=0.3)])
    DigitsDataset = ns["DigitsDataset"]
    train_loader = DataLoader(DigitsDataset(x_fit, y_fit, transform=augment), batch_size=64, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(DigitsDataset(x_val, y_val), batch_size=256)
    test_loader = DataLoader(DigitsDataset(x_test, y_test), batch_size=256)
    torch.manual_seed(seed)
    model = ns["make_better_cnn"](num_classes=10, dropout=0.3).to(device)
    r = train_and_test(ns, model, train_loader, val_loader, test_loader, 2e-3, 40, 8, device)
    report("digits 16x16", r, f"{len(x_fit)} train, {len(x_val)} validation, {len(x_test)} test")
    return r


def fashion_mnist(ns, v2, device, root, num_epochs, workers, seed=0):
    train = local_torchvision_dataset("FashionMNIST", root, train=True)
    test = local_torchvision_dataset("FashionMNIST", root, train=False)
    images = train.data.float().div(255).unsqueeze(1)            # (60000, 1, 28, 28)
    labels = train.targets.long()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_val = len(labels) // 12
    val_idx, fit_idx = order[:n_val], order[n_val:]
    augment = v2.Compose([v2.RandomCrop(28, padding=2), v2.RandomHorizontalFlip()])
    train_loader = DataLoader(TensorImages(images[fit_idx], labels[fit_idx], augment), batch_size=128,
                              shuffle=True, generator=torch.Generator().manual_seed(seed), num_workers=workers)
    val_loader = DataLoader(TensorImages(images[val_idx], labels[val_idx]), batch_size=512)
    test_loader = DataLoader(TensorImages(test.data.float().div(255).unsqueeze(1), test.targets.long()),
                             batch_size=512)
    torch.manual_seed(seed)
    model = ns["make_better_cnn"](num_classes=10, dropout=0.3).to(device)
    r = train_and_test(ns, model, train_loader, val_loader, test_loader, 2e-3, num_epochs, 4, device)
    report("Fashion-MNIST 28x28", r, f"{len(fit_idx)} train, {n_val} validation, {len(test.targets)} test")
    met = r["test_accuracy"] >= FASHION_TARGET
    print(f"{'met ' if met else 'MISSED'}  Fashion-MNIST test accuracy at least {FASHION_TARGET:.0%}")
    return met


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fashion-mnist", metavar="DIR", help="folder holding FashionMNIST/raw/...")
    parser.add_argument("--epochs", type=int, default=15, help="most epochs on Fashion-MNIST (15)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers for Fashion-MNIST (2)")
    parser.add_argument("--skip-digits", action="store_true", help="only the Fashion-MNIST run")
    args = parser.parse_args(argv)

    ns = load_solutions("07-training-cnns")       # also prints the device the notebook picked
    device, v2 = ns["device"], ns["v2"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}\n")
    if not args.skip_digits:
        digits(ns, v2, device)
    if args.fashion_mnist:
        print()
        try:
            met = fashion_mnist(ns, v2, device, args.fashion_mnist, args.epochs, args.workers)
        except FileNotFoundError as err:
            print(err, file=sys.stderr)
            return 2
        return 0 if met else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
