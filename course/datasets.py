"""Torchvision datasets from files you put on disk yourself: nothing is ever downloaded.

- local_torchvision_dataset: Fashion-MNIST or CIFAR-10 from a folder, with download=False;
  missing files raise FileNotFoundError saying which files go where
- dataset_or_digits: that dataset when its files are there, else the bundled digits (one
  printed line says so), as a `Loaded(train, test, classes, name)`
"""
import pathlib
from collections import namedtuple

import numpy as np
import torch
from torch.utils.data import Dataset

from course.data import load_digits
from course.torchvision_compat import import_torchvision

# name -> (pretty name, folder under root, files in it, where the files come from)
LAYOUT = {
    "FashionMNIST": (
        "Fashion-MNIST", "FashionMNIST/raw",
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
        "the four .gz files of https://github.com/zalandoresearch/fashion-mnist, unzipped "
        "(gunzip *.gz)"),
    "CIFAR10": (
        "CIFAR-10", "cifar-10-batches-py",
        ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
         "data_batch_5", "test_batch"],
        "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked in "
        "the folder (tar xzf cifar-10-python.tar.gz)"),
}

Loaded = namedtuple("Loaded", "train test classes name")


def _check_name(name):
    if name not in LAYOUT:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(LAYOUT)}")
    return LAYOUT[name]


def missing_files(name, root):
    """The files of dataset `name` that are not under `root` (all of them when root is None)."""
    _, folder, files, _ = _check_name(name)
    if root is None:
        return list(files)
    where = pathlib.Path(root).expanduser() / folder
    return [f for f in files if not (where / f).is_file()]


def local_torchvision_dataset(name, root, train=True, transform=None):
    """A torchvision dataset read from files already on disk (download=False, always).

    Inputs:
    - name: "FashionMNIST" or "CIFAR10"
    - root: the folder holding FashionMNIST/raw/... or cifar-10-batches-py/...
    - train: the training split (True) or the test split (False)
    - transform: applied to each image (a PIL image) as it is read
    Returns the torchvision Dataset; raises FileNotFoundError naming the missing files
    """
    pretty, folder, files, source = _check_name(name)
    missing = missing_files(name, root)
    if missing:
        where = "<root>" if root is None else pathlib.Path(root).expanduser()
        if root is None:
            problem = f"{pretty}: no folder given."
        elif not pathlib.Path(root).expanduser().is_dir():
            problem = f"{pretty}: the folder {where} does not exist."
        else:
            problem = f"{pretty}: {len(missing)} file(s) missing in {where / folder}: {', '.join(missing)}."
        raise FileNotFoundError(
            f"{problem} Put {source} in {where}/{folder}/, so that it holds: {', '.join(files)}. "
            "Nothing is downloaded for you.")
    torchvision = import_torchvision()
    dataset_class = getattr(torchvision.datasets, name)
    return dataset_class(str(pathlib.Path(root).expanduser()), train=train, transform=transform,
                         download=False)


class _ArrayDataset(Dataset):
    """Images (N, C, H, W) and labels (N,) as a Dataset of (image tensor, int label)."""

    def __init__(self, x, y, transform=None):
        self.x, self.y, self.transform = torch.as_tensor(x), [int(v) for v in y], transform

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        image = self.x[i]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.y[i]


def _digits(train_transform, seed=0):
    """The bundled digits, 8x8, split 75% / 25% (stratified, fixed seed)."""
    x, y = load_digits()
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test[members[:len(members) // 4]] = True
    return Loaded(_ArrayDataset(x[~test], y[~test], train_transform), _ArrayDataset(x[test], y[test]),
                  [str(d) for d in range(10)], "digits")


def dataset_or_digits(name="FashionMNIST", root=None, train_transform=None):
    """A torchvision dataset from `root` if its files are there, else the bundled digits.

    Inputs:
    - name: "FashionMNIST" or "CIFAR10"
    - root: the folder (see local_torchvision_dataset), or None
    - train_transform: applied to training images only, after they become float tensors
    Returns Loaded(train, test, classes, name): items are (float32 tensor (C, H, W) in [0, 1],
    int label); name is "digits" when the fallback was used (one line is printed then)
    """
    pretty = _check_name(name)[0]
    if missing_files(name, root):
        where = "(no folder given)" if root is None else f"in {root}"
        print(f"{pretty} not found {where}; using the bundled digits")
        return _digits(train_transform)
    import_torchvision()  # before any torchvision import: see course/torchvision_compat.py
    from torchvision.transforms import v2

    to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.ToPureTensor()])
    train_steps = to_tensor if train_transform is None else v2.Compose([to_tensor, train_transform])
    train = local_torchvision_dataset(name, root, train=True, transform=train_steps)
    test = local_torchvision_dataset(name, root, train=False, transform=to_tensor)
    return Loaded(train, test, list(train.classes), name)
