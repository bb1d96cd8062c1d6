"""Train the better CNN of 07-training-cnns (the reference solution) and time it.

    .venv/bin/python benchmarks/better_cnn_digits.py

Digits: scikit-learn's 1,797 digits upsampled to 16x16 (DigitsDataset), split 75% / 25%
(stratified, seed 0); 10% of the 75% is held out for early stopping, the 25% is the test set,
looked at once. Training images are augmented as in the notebook (crop with padding, small
affine shifts, brightness and contrast; no flips). Adam, lr 2e-3, batch 64, at most 40 epochs,
patience 8.

The same network on Fashion-MNIST, with the fast input pipeline: benchmarks/fashion_mnist.py.
"""
import argparse
import sys
import time

import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader

from autograder.solutions import load_solutions
from course.data import load_digits


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)

    ns = load_solutions("07-training-cnns")       # also prints the device the notebook picked
    device, v2 = ns["device"], ns["v2"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}\n")
    digits(ns, v2, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
