"""Datasets from files on disk: nothing is ever downloaded.

- find_fashion_mnist: where Fashion-MNIST's four idx files are (gzipped or not, flat or in
  torchvision's FashionMNIST/raw/), looked for in a folder you name, then in the folder of the
  environment variable COURSE_FASHION_MNIST, then in /usr/share/datasets/fashion-mnist (Debian's
  package dataset-fashion-mnist); None when they are nowhere
- load_fashion_mnist: those files as NumPy arrays, read with gzip and NumPy (no torchvision)
- read_idx: one idx file, the format of (Fashion-)MNIST, as an array; a corrupt or cut-short file
  raises ValueError naming the file and what is wrong
- local_torchvision_dataset: Fashion-MNIST or CIFAR-10 from torchvision's folder layout, with
  download=False; missing files raise FileNotFoundError saying which files go where
- dataset_or_digits: Fashion-MNIST (found as above) or CIFAR-10 (from a folder) when its files are
  there, else the bundled digits (one printed line says so and how to get the data), as a
  `Loaded(train, test, classes, name)`
- training_splits: Fashion-MNIST (or the digits, upsampled) as float tensors in memory, split
  into training, validation and test sets (stratified, seeded), each as large as asked, as
  `Splits(x_train, y_train, x_val, y_val, x_test, y_test, classes, name)`
"""
import gzip
import math
import os
import pathlib
import zlib
from collections import namedtuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split
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

FASHION_MNIST_ENV = "COURSE_FASHION_MNIST"
FASHION_MNIST_DEBIAN = pathlib.Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")
FASHION_MNIST_HOW_TO_GET = (
    "sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu), or put its four idx files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
    f"t10k-labels-idx1-ubyte.gz; gzipped or not) in a folder and set {FASHION_MNIST_ENV} to it")

FashionMNISTArrays = namedtuple("FashionMNISTArrays", "x_train y_train x_test y_test classes")

# idx type code -> NumPy dtype (values are stored big-endian)
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """One idx file, the format of (Fashion-)MNIST, gzipped (name ends in .gz) or not.

    The format: a magic number of 4 bytes (0x00, 0x00, a type code such as 0x08 for unsigned
    bytes, the number of dimensions), one big-endian int32 size per dimension, then the values.
    Inputs:
    - path: the file, e.g. .../train-images-idx3-ubyte.gz
    Returns a NumPy array of the sizes in the header (uint8 for type code 0x08); raises ValueError
    naming the file when it is not gzip or not idx, is cut short, or is longer than its sizes say
    """
    path = pathlib.Path(path)
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{path}: not a complete gzip file ({err}); get the file again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an idx file: it starts with 0x{raw[:4].hex()}, while an idx "
                         "file starts with 0x0000, a type code (08: unsigned bytes) and the number "
                         "of dimensions, e.g. 0x00000803")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        raise ValueError(f"{path}: unknown idx type code 0x{code:02x} (known: "
                         f"{', '.join(f'0x{c:02x}' for c in IDX_TYPES)}); is it an idx file?")
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{path}: cut short inside its header ({len(raw)} bytes, the header of "
                         f"{ndim} dimensions has {start}); get the file again")
    shape = tuple(int(size) for size in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[code])
    want = start + math.prod(shape) * dtype.itemsize
    if len(raw) != want:
        problem = "cut short" if len(raw) < want else "longer than its header says"
        raise ValueError(f"{path}: {problem}: the header gives sizes {shape} of {dtype.itemsize}-byte "
                         f"values, {want} bytes in all, but it holds {len(raw)}; get the file again")
    return np.frombuffer(raw, dtype, offset=start).reshape(shape).astype(dtype.newbyteorder("="))


def _fashion_places(root):
    """The folders looked in, in order: root, $COURSE_FASHION_MNIST, Debian's folder."""
    places = [] if root is None else [pathlib.Path(root).expanduser()]
    if os.environ.get(FASHION_MNIST_ENV):
        places.append(pathlib.Path(os.environ[FASHION_MNIST_ENV]).expanduser())
    return places + [pathlib.Path(FASHION_MNIST_DEBIAN)]


def _fashion_files(root):
    """The four idx files of the first place holding all of them, or None."""
    for place in _fashion_places(root):
        for folder in (place, place / LAYOUT["FashionMNIST"][1]):
            files = [next((f for f in (folder / name, folder / f"{name}.gz") if f.is_file()), None)
                     for name in LAYOUT["FashionMNIST"][2]]
            if all(files):
                return files
    return None


def _fashion_not_found(root):
    looked = ", ".join(str(place) for place in _fashion_places(root))
    return f"Fashion-MNIST not found (looked in {looked})"


def find_fashion_mnist(root=None):
    """The folder holding Fashion-MNIST's four idx files, or None when they are nowhere.

    Looked for, in order: `root` (when given), the folder of the environment variable
    COURSE_FASHION_MNIST, /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist);
    in each, directly or in torchvision's FashionMNIST/raw/, each file gzipped (.gz) or not.
    Returns a pathlib.Path or None
    """
    files = _fashion_files(root)
    return None if files is None else files[0].parent


def load_fashion_mnist(root=None):
    """Fashion-MNIST's 60,000 training and 10,000 test images, found as find_fashion_mnist says.

    Inputs:
    - root: a folder to look in first, or None
    Returns FashionMNISTArrays(x_train, y_train, x_test, y_test, classes); x: (N, 28, 28) uint8,
    y: (N,) int64 labels 0-9, classes: the 10 class names. Raises FileNotFoundError saying how
    to get the files, ValueError naming a corrupt file
    """
    files = _fashion_files(root)
    if files is None:
        raise FileNotFoundError(f"{_fashion_not_found(root)}. To get it: {FASHION_MNIST_HOW_TO_GET}")
    x_train, y_train, x_test, y_test = (read_idx(f) for f in files)
    for images, labels, image_file, label_file in ((x_train, y_train, *files[:2]),
                                                   (x_test, y_test, *files[2:])):
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{image_file}: expected images (N, H, W) of uint8, found {images.shape} "
                             f"of {images.dtype}")
        if labels.shape != images.shape[:1] or labels.max(initial=0) >= len(FASHION_MNIST_CLASSES):
            raise ValueError(f"{label_file}: expected {len(images)} labels 0-9 (one per image of "
                             f"{image_file.name}), found sizes {labels.shape}, largest "
                             f"{labels.max(initial=0)}")
    return FashionMNISTArrays(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64),
                              list(FASHION_MNIST_CLASSES))


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


class _ImagesInMemory(Dataset):
    """uint8 images (N, H, W) and labels (N,) as a Dataset of (float32 tensor (1, H, W) in [0, 1],
    int label), `transform` applied after that; .data, .targets, .classes as torchvision's have."""

    def __init__(self, images, labels, classes, transform=None):
        self.data, self.targets = torch.from_numpy(images), torch.from_numpy(labels)
        self.classes, self.transform, self._labels = list(classes), transform, labels.tolist()

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, i):
        image = self.data[i].unsqueeze(0).to(torch.float32).mul_(1.0 / 255)   # as v2.ToDtype(scale=True)
        if self.transform is not None:
            image = self.transform(image)
        return image, self._labels[i]


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
    """Fashion-MNIST or CIFAR-10 if its files are there, else the bundled digits.

    Inputs:
    - name: "FashionMNIST" (looked for in root, then as find_fashion_mnist says, read into
      memory) or "CIFAR10" (only from root, see local_torchvision_dataset)
    - root: a folder, or None
    - train_transform: applied to training images only, after they become float tensors
    Returns Loaded(train, test, classes, name): items are (float32 tensor (C, H, W) in [0, 1],
    int label); name is "digits" when the fallback was used (one line is printed then, saying
    how to get the data)
    """
    pretty = _check_name(name)[0]
    if name == "FashionMNIST":
        if _fashion_files(root) is None:
            print(f"{_fashion_not_found(root)}; using the bundled digits. To get it: "
                  f"{FASHION_MNIST_HOW_TO_GET}")
            return _digits(train_transform)
        x_train, y_train, x_test, y_test, classes = load_fashion_mnist(root)
        return Loaded(_ImagesInMemory(x_train, y_train, classes, train_transform),
                      _ImagesInMemory(x_test, y_test, classes), classes, name)
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


Splits = namedtuple("Splits", "x_train y_train x_val y_val x_test y_test classes name")


def _stratified_part(indices, labels, size, seed):
    """`size` of `indices` (all when size is None or too large), stratified by labels[indices]."""
    if size is None or size >= len(indices):
        return indices
    part, _ = train_test_split(indices, train_size=int(size), stratify=labels[indices], random_state=seed)
    return part


def training_splits(root=None, n_train=None, n_val=5000, n_test=None, seed=0, digits=False,
                    digits_size=16):
    """Fashion-MNIST, or the bundled digits, as tensors in memory: training, validation, test.

    Fashion-MNIST (found as find_fashion_mnist says): `n_val` of the 60,000 training images are
    held out for validation, `n_train` of the others train (None: all of them), and `n_test`
    of the 10,000 test images test (None: all). Images (1, 28, 28).
    The digits (when Fashion-MNIST is not found: one printed line says so and how to get it;
    or when digits=True): the 1,797 digits upsampled to digits_size x digits_size (bilinear,
    as DigitsDataset in 07), split 60% / 20% / 20%; n_train, n_val, n_test cap each split.
    Every part is stratified (each class keeps its share) and drawn with `seed`.
    Returns Splits(x_train, y_train, x_val, y_val, x_test, y_test, classes, name): x float32
    tensors (N, 1, H, W) in [0, 1], y int64 tensors (N,), classes the class names, name
    "FashionMNIST" or "digits"
    """
    if not digits and _fashion_files(root) is None:
        print(f"{_fashion_not_found(root)}; using the bundled digits. To get it: "
              f"{FASHION_MNIST_HOW_TO_GET}")
        digits = True
    if digits:
        x, y = load_digits()
        x = F.interpolate(torch.from_numpy(x), size=(digits_size, digits_size), mode="bilinear",
                          align_corners=False).numpy()
        every = np.arange(len(y))
        train, rest = train_test_split(every, test_size=0.4, stratify=y, random_state=seed)
        val, test = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=seed)
        parts = [(x, y, _stratified_part(part, y, size, seed))
                 for part, size in ((train, n_train), (val, n_val), (test, n_test))]
        classes, name = [str(d) for d in range(10)], "digits"
    else:
        x_train, y_train, x_test, y_test, classes = load_fashion_mnist(root)
        every = np.arange(len(y_train))
        rest, val = train_test_split(every, test_size=int(n_val), stratify=y_train, random_state=seed)
        parts = [(x_train, y_train, _stratified_part(rest, y_train, n_train, seed)),
                 (x_train, y_train, val),
                 (x_test, y_test, _stratified_part(np.arange(len(y_test)), y_test, n_test, seed))]
        name = "FashionMNIST"
    tensors = []
    for images, labels, index in parts:
        images = torch.from_numpy(images[index])
        if images.dtype == torch.uint8:                   # Fashion-MNIST: (N, 28, 28) bytes
            images = images.unsqueeze(1).to(torch.float32).div_(255)
        tensors += [images.contiguous(), torch.from_numpy(labels[index]).long()]
    return Splits(*tensors, list(classes), name)
