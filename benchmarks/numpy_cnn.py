"""Training speed and accuracy of the NumPy SimpleConvNet (the reference solutions of
05-numpy-cnn) on scikit-learn's digits.

    .venv/bin/python benchmarks/numpy_cnn.py
    taskset -c 0,1 .venv/bin/python benchmarks/numpy_cnn.py      (2 cores)

Trains on 75% of the 1,797 digits and tests on the held-out quarter (the notebook's split:
stratified, random_state=0), with the notebook's settings: SimpleConvNet's defaults (16 3x3
filters, pad 1, 100 hidden units), Adam, lr 0.01, batch size 100, 40 epochs, seed 0. The time
covers the whole call of `train`, including the loss and accuracy on both sets after every
epoch. Targets: at least 97% test accuracy, in under 60 s of training.
"""
import os
import sys
import time

import numpy as np
from sklearn.model_selection import train_test_split

from autograder.solutions import load_solutions
from course.data import load_digits

TARGET_ACCURACY = 0.97
TARGET_SECONDS = 60.0
SETTINGS = {"num_epochs": 40, "batch_size": 100, "lr": 0.01, "optimizer": "adam", "seed": 0}


def main():
    # the notebook's first cell (run by load_solutions) limits BLAS to one thread, as in class
    solutions = load_solutions("05-numpy-cnn")
    x, t = load_digits()
    x_train, x_test, t_train, t_test = train_test_split(x, t, test_size=0.25, stratify=t,
                                                        random_state=0)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"numpy {np.__version__}, {cores} cores available")
    print(f"train {x_train.shape}, test {x_test.shape}; {SETTINGS}\n")

    net = solutions["SimpleConvNet"](seed=0)
    start = time.perf_counter()
    history = solutions["train"](net, x_train, t_train, x_test, t_test, **SETTINGS)
    seconds = time.perf_counter() - start
    accuracy = history["test_acc"][-1]
    epochs = SETTINGS["num_epochs"]

    print(f"\nseconds per epoch      {seconds / epochs:8.3f} s")
    print(f"total training time    {seconds:8.2f} s")
    print(f"test accuracy          {accuracy:8.2%}  (best epoch {max(history['test_acc']):.2%}, "
          f"final test loss {history['test_loss'][-1]:.4f})\n")
    targets = [
        (f"test accuracy at least {TARGET_ACCURACY:.0%}", accuracy >= TARGET_ACCURACY),
        (f"training in under {TARGET_SECONDS:.0f} s", seconds < TARGET_SECONDS),
    ]
    for label, met in targets:
        print(f"{'met ' if met else 'MISSED'}  {label}")
    return 0 if all(met for _, met in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
