"""course.datasets: Fashion-MNIST found and read from its idx files, local torchvision datasets
that are never downloaded, and the digits fallback. The Fashion-MNIST files here are tiny fakes
written in the real (idx) format, except in the one test on Debian's files (skipped without
them, unless COURSE_REQUIRE_FASHION_MNIST=1, set by .ci/run)."""
import gzip
import os
import pathlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course import datasets
from course.datasets import (FASHION_MNIST_CLASSES, LAYOUT, dataset_or_digits, find_fashion_mnist,
                             load_fashion_mnist, local_torchvision_dataset, missing_files, read_idx)
from course.torchvision_compat import import_torchvision

DEBIAN = datasets.FASHION_MNIST_DEBIAN        # the real folder, before the fixture below hides it


@pytest.fixture(autouse=True)
def no_fashion_elsewhere(monkeypatch, tmp_path):
    """Only the folders a test makes count: no COURSE_FASHION_MNIST, no Debian folder."""
    monkeypatch.delenv(datasets.FASHION_MNIST_ENV, raising=False)
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEBIAN", tmp_path / "no-debian-package")


def idx_bytes(array):
    """A uint8 array in the idx format of (Fashion-)MNIST: magic, sizes, bytes."""
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x0800 + array.ndim                  # 0x08: unsigned bytes; then the number of axes
    return np.array([magic, *array.shape], dtype=">i4").tobytes() + array.tobytes()


def write_idx(path, array):
    """Write `array` as an idx file, gzipped when the name ends in .gz."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


def write_fashion(folder, gz=False, n_train=6, n_test=4, seed=0):
    """The four files of a tiny Fashion-MNIST in `folder`; returns {"train": (x, y), "t10k": (x, y)}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels)
        arrays[split] = (images, labels)
    return arrays


@pytest.fixture
def fake_fashion(tmp_path):
    """root/FashionMNIST/raw with 6 training and 4 test images of 28x28; returns (root, arrays)."""
    return tmp_path, write_fashion(tmp_path / "FashionMNIST" / "raw")


@pytest.fixture
def no_downloads(monkeypatch):
    """Any attempt to download fails the test."""
    torchvision = import_torchvision()

    def refuse(*args, **kwargs):
        raise AssertionError("something tried to download")

    for name in LAYOUT:
        monkeypatch.setattr(getattr(torchvision.datasets, name), "download", refuse)
    monkeypatch.setattr(torchvision.datasets.utils, "download_url", refuse)


def test_missing_folder_says_which_files_go_where(tmp_path, no_downloads):
    root = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        local_torchvision_dataset("FashionMNIST", root)
    message = str(info.value)
    assert f"the folder {root} does not exist" in message
    assert f"{root}/FashionMNIST/raw/" in message
    for name in LAYOUT["FashionMNIST"][2]:
        assert name in message
    assert "unzipped" in message


def test_missing_files_are_listed_by_name(fake_fashion, no_downloads):
    root, _ = fake_fashion
    (root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    assert missing_files("FashionMNIST", root) == ["t10k-labels-idx1-ubyte"]
    with pytest.raises(FileNotFoundError, match=r"1 file\(s\) missing in .*: t10k-labels-idx1-ubyte\."):
        local_torchvision_dataset("FashionMNIST", root, train=True)


def test_cifar_message_names_its_folder_and_archive(tmp_path, no_downloads):
    with pytest.raises(FileNotFoundError) as info:
        local_torchvision_dataset("CIFAR10", tmp_path)
    message = str(info.value)
    assert "cifar-10-batches-py" in message and "data_batch_5" in message
    assert "cifar-10-python.tar.gz" in message


def test_no_folder_and_unknown_names():
    with pytest.raises(FileNotFoundError, match="no folder given"):
        local_torchvision_dataset("FashionMNIST", None)
    with pytest.raises(ValueError, match="choose one of: FashionMNIST, CIFAR10"):
        local_torchvision_dataset("MNIST", ".")


def test_fake_fashion_mnist_loads_from_its_raw_files(fake_fashion, no_downloads):
    root, arrays = fake_fashion
    train = local_torchvision_dataset("FashionMNIST", root, train=True)
    test = local_torchvision_dataset("FashionMNIST", root, train=False)
    assert len(train) == 6 and len(test) == 4
    images, labels = arrays["t10k"]
    assert np.array_equal(test.data.numpy(), images)
    assert test.targets.tolist() == labels.tolist()
    image, label = test[2]                               # a PIL image without a transform
    assert np.array_equal(np.asarray(image), images[2]) and label == labels[2]


def test_dataset_or_digits_uses_the_files_when_they_are_there(fake_fashion, no_downloads, capsys):
    root, arrays = fake_fashion
    data = dataset_or_digits("FashionMNIST", root, train_transform=lambda image: image + 10)
    assert capsys.readouterr().out == ""
    assert data.name == "FashionMNIST" and len(data.classes) == 10
    assert (len(data.train), len(data.test)) == (6, 4)
    image, label = data.test[1]
    assert type(image) is torch.Tensor and image.dtype == torch.float32 and image.shape == (1, 28, 28)
    assert torch.allclose(image[0], torch.from_numpy(arrays["t10k"][0][1]) / 255.0)
    assert label == arrays["t10k"][1][1]
    train_image, _ = data.train[0]                         # the transform: training set only
    assert torch.allclose(train_image[0], torch.from_numpy(arrays["train"][0][0]) / 255.0 + 10)


@pytest.mark.parametrize("make_root", [lambda tmp: None, lambda tmp: tmp / "empty"])
def test_dataset_or_digits_falls_back_with_one_line(tmp_path, capsys, make_root, monkeypatch):
    root = make_root(tmp_path)
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("COURSE_FASHION_MNIST", str(tmp_path / "empty"))
    data = dataset_or_digits("FashionMNIST", root)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fashion-MNIST not found (looked in ")
    assert "; using the bundled digits. To get it: sudo apt-get install dataset-fashion-mnist" in lines[0]
    assert "set COURSE_FASHION_MNIST to it" in lines[0]
    assert f"{tmp_path / 'empty'}, {tmp_path / 'no-debian-package'})" in lines[0]   # env, then Debian
    assert data.name == "digits" and data.classes == [str(d) for d in range(10)]
    assert len(data.train) + len(data.test) == 1797
    image, label = data.test[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32 and isinstance(label, int)
    train_labels = np.array([data.train[i][1] for i in range(len(data.train))])
    assert np.bincount(train_labels).min() >= 130          # stratified: every digit ~75% in train


def test_cifar_falls_back_with_one_line(tmp_path, capsys):
    data = dataset_or_digits("CIFAR10", tmp_path)
    assert capsys.readouterr().out == f"CIFAR-10 not found in {tmp_path}; using the bundled digits\n"
    assert data.name == "digits"


# Fashion-MNIST read directly from its idx files

def test_read_idx_parses_the_header(tmp_path):
    path = tmp_path / "bytes-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 255]))   # uint8, 1 axis of 3
    x = read_idx(path)
    assert x.dtype == np.uint8 and x.tolist() == [7, 8, 255]
    path.write_bytes(bytes([0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 2]) + (258).to_bytes(4, "big")
                     + (-1).to_bytes(4, "big", signed=True))           # big-endian int32, 1x2
    x = read_idx(path)
    assert x.dtype == np.int32 and x.dtype.isnative and x.tolist() == [[258, -1]]


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_gzipped_or_not(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, images)
    x = read_idx(tmp_path / name)
    assert x.shape == (2, 3, 4) and x.dtype == np.uint8 and np.array_equal(x, images)
    x[0, 0, 0] = 1                                     # an ordinary array, not a read-only view


GOOD = idx_bytes(np.zeros((2, 3, 3)))
CORRUPT = {
    "cut-short": (GOOD[:-5], r"cut short: the header gives sizes \(2, 3, 3\) of 1-byte values, "
                             "34 bytes in all, but it holds 29"),
    "too-long": (GOOD + b"\0", "longer than its header says"),
    "not-idx": (b"\x89PNG\r\n\x1a\n", "not an idx file: it starts with 0x89504e47"),
    "unknown-type": (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "unknown idx type code 0x07"),
    "cut-in-header": (GOOD[:9], r"cut short inside its header \(9 bytes, the header of 3 dimensions "
                                 r"has 16\)"),
    "empty": (b"", "not an idx file"),
}


@pytest.mark.parametrize("kind", CORRUPT)
def test_a_corrupt_idx_file_is_named_with_what_is_wrong(tmp_path, kind):
    data, message = CORRUPT[kind]
    path = tmp_path / f"{kind}-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: ")
    gz = tmp_path / f"{kind}-idx3-ubyte.gz"                # the same inside a good gzip file
    gz.write_bytes(gzip.compress(data))
    with pytest.raises(ValueError, match=message):
        read_idx(gz)


@pytest.mark.parametrize("data", [gzip.compress(GOOD)[:-6], GOOD], ids=["cut-short-gzip", "not-gzip"])
def test_a_broken_gzip_file_is_named(tmp_path, data):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"^{path}: not a complete gzip file .*; get the file again$"):
        read_idx(path)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "unzipped"])
@pytest.mark.parametrize("layout", ["flat", "FashionMNIST/raw"])
def test_fashion_mnist_is_found_and_loaded(tmp_path, gz, layout):
    folder = tmp_path if layout == "flat" else tmp_path / layout
    arrays = write_fashion(folder, gz=gz)
    assert find_fashion_mnist(tmp_path) == folder
    x_train, y_train, x_test, y_test, classes = load_fashion_mnist(tmp_path)
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    assert x_train.dtype == x_test.dtype == np.uint8 and y_train.dtype == y_test.dtype == np.int64
    assert np.array_equal(x_train, arrays["train"][0]) and np.array_equal(y_test, arrays["t10k"][1])
    assert classes == list(FASHION_MNIST_CLASSES)
    assert classes[0] == "T-shirt/top" and classes[9] == "Ankle boot"


def test_gzipped_and_unzipped_files_mix_in_one_folder(tmp_path):
    arrays = write_fashion(tmp_path, gz=True)
    gz = tmp_path / "t10k-images-idx3-ubyte.gz"
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    assert np.array_equal(load_fashion_mnist(tmp_path).x_test, arrays["t10k"][0])


def test_search_order_root_then_environment_then_debian(tmp_path, monkeypatch):
    named, env, debian, empty = (tmp_path / d for d in ("named", "env", "debian", "empty"))
    for folder, n in ((named, 1), (env, 2), (debian, 3)):
        write_fashion(folder, gz=True, n_train=n)
    empty.mkdir()
    assert find_fashion_mnist() is None and find_fashion_mnist(empty) is None
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEBIAN", debian)
    assert find_fashion_mnist() == debian
    monkeypatch.setenv("COURSE_FASHION_MNIST", str(env))
    assert find_fashion_mnist() == env and find_fashion_mnist(empty) == env
    assert find_fashion_mnist(named) == named and len(load_fashion_mnist(named).x_train) == 1
    assert len(load_fashion_mnist().x_train) == 2
    monkeypatch.setenv("COURSE_FASHION_MNIST", str(empty))   # a folder without the files: go on
    assert find_fashion_mnist() == debian


def test_an_incomplete_folder_does_not_count(tmp_path):
    write_fashion(tmp_path, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    assert find_fashion_mnist(tmp_path) is None


def test_absent_fashion_mnist_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path)
    message = str(info.value)
    assert message.startswith(f"Fashion-MNIST not found (looked in {tmp_path}, ")
    assert "sudo apt-get install dataset-fashion-mnist" in message and "COURSE_FASHION_MNIST" in message


def test_labels_must_match_the_images(tmp_path):
    write_fashion(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3))          # 4 test images, 3 labels
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte: expected 4 labels 0-9 .* sizes \(3,\)"):
        load_fashion_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", [0, 1, 2, 10])
    with pytest.raises(ValueError, match="largest 10"):
        load_fashion_mnist(tmp_path)


def test_dataset_or_digits_reads_the_gzipped_files_in_memory(tmp_path, monkeypatch, no_downloads, capsys):
    arrays = write_fashion(tmp_path / "fashion", gz=True)
    monkeypatch.setenv("COURSE_FASHION_MNIST", str(tmp_path / "fashion"))
    data = dataset_or_digits("FashionMNIST", train_transform=lambda image: image + 10)
    assert capsys.readouterr().out == ""
    assert data.name == "FashionMNIST" and data.classes == list(FASHION_MNIST_CLASSES)
    assert (len(data.train), len(data.test)) == (6, 4)
    assert data.test.data.dtype == torch.uint8 and data.test.data.shape == (4, 28, 28)   # as torchvision's
    assert data.test.targets.tolist() == arrays["t10k"][1].tolist() and data.test.classes == data.classes
    image, label = data.test[3]
    assert type(image) is torch.Tensor and image.dtype == torch.float32 and image.shape == (1, 28, 28)
    assert type(label) is int and label == arrays["t10k"][1][3]
    train_image, _ = data.train[0]                         # the transform: training set only
    assert torch.allclose(train_image[0], torch.from_numpy(arrays["train"][0][0]) / 255.0 + 10)


def test_items_are_those_of_torchvision_fashion_mnist(fake_fashion, no_downloads):
    """The in-memory Dataset gives exactly what torchvision's FashionMNIST with v2 gave before."""
    root, _ = fake_fashion
    import_torchvision()
    from torchvision.transforms import v2

    to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.ToPureTensor()])
    flip = v2.RandomHorizontalFlip(p=1.0)
    data = dataset_or_digits("FashionMNIST", root, train_transform=flip)
    train = local_torchvision_dataset("FashionMNIST", root, True, v2.Compose([to_tensor, flip]))
    test = local_torchvision_dataset("FashionMNIST", root, False, to_tensor)
    for ours, theirs in ((data.train, train), (data.test, test)):
        assert len(ours) == len(theirs) and data.classes == theirs.classes
        for (image, label), (their_image, their_label) in zip(ours, theirs):
            assert torch.equal(image, their_image) and label == their_label and type(label) is int


def test_dataset_or_digits_stops_at_a_corrupt_file(tmp_path, capsys):
    write_fashion(tmp_path, gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match=f"^{path}: not a complete gzip file"):
        dataset_or_digits("FashionMNIST", tmp_path)


def test_debian_fashion_mnist(monkeypatch):
    """The real files of Debian's dataset-fashion-mnist (skipped when the package is missing)."""
    if not DEBIAN.is_dir():
        message = f"{DEBIAN} is missing (sudo apt-get install dataset-fashion-mnist)"
        if os.environ.get("COURSE_REQUIRE_FASHION_MNIST"):
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEBIAN", DEBIAN)
    assert find_fashion_mnist() == pathlib.Path(DEBIAN)
    x_train, y_train, x_test, y_test, classes = load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert np.bincount(y_train).tolist() == [6000] * 10          # balanced: 6,000 per class
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_train.min() == 0 and x_train.max() == 255
    assert len(classes) == 10


# training_splits: tensors in memory, split for training

def write_balanced_fashion(folder, n_train=100, n_test=40):
    """Fashion-MNIST files whose label i is i % 10 and whose image i holds the value i % 251
    (so that each image says where it came from)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = np.broadcast_to((np.arange(n) % 251).astype(np.uint8)[:, None, None], (n, 28, 28))
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)


def test_training_splits_of_fashion_mnist(tmp_path, capsys):
    write_balanced_fashion(tmp_path)
    s = datasets.training_splits(tmp_path, n_train=50, n_val=20, n_test=30, seed=0)
    assert capsys.readouterr().out == "" and s.name == "FashionMNIST"
    assert s.classes == list(FASHION_MNIST_CLASSES)
    for x, y, n in ((s.x_train, s.y_train, 50), (s.x_val, s.y_val, 20), (s.x_test, s.y_test, 30)):
        assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
        assert float(x.min()) >= 0 and float(x.max()) <= 1
        assert np.bincount(y.numpy(), minlength=10).tolist() == [n // 10] * 10      # stratified
        assert torch.equal((x[:, 0, 0, 0] * 255).round().long() % 10, y)           # images keep their labels
    train_ids = set((s.x_train[:, 0, 0, 0] * 255).round().long().tolist())
    val_ids = set((s.x_val[:, 0, 0, 0] * 255).round().long().tolist())
    assert not train_ids & val_ids                         # validation images are held out of training
    again = datasets.training_splits(tmp_path, n_train=50, n_val=20, n_test=30, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(s[:6], again[:6]))
    other = datasets.training_splits(tmp_path, n_train=50, n_val=20, n_test=30, seed=1)
    assert not torch.equal(other.y_val, s.y_val) or not torch.equal(other.x_val, s.x_val)


def test_training_splits_all_images_by_default(tmp_path):
    write_balanced_fashion(tmp_path)
    s = datasets.training_splits(tmp_path, n_val=20)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (80, 20, 40)


def test_training_splits_fall_back_to_the_digits_with_one_line(tmp_path, capsys):
    s = datasets.training_splits(tmp_path / "nowhere", n_train=500, n_val=100)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "; using the bundled digits. To get it: sudo apt-get install" in lines[0]
    assert s.name == "digits" and s.classes == [str(d) for d in range(10)]
    assert s.x_train.shape == (500, 1, 16, 16) and s.x_val.shape == (100, 1, 16, 16)
    assert s.x_test.shape == (360, 1, 16, 16)              # 20% of 1,797, not capped
    assert s.x_train.dtype == torch.float32 and s.y_train.dtype == torch.int64
    assert np.bincount(s.y_val.numpy()).min() >= 9         # stratified


def test_training_splits_digits_when_asked_even_with_fashion_mnist_there(tmp_path, capsys):
    write_balanced_fashion(tmp_path)
    s = datasets.training_splits(tmp_path, digits=True, digits_size=12)
    assert capsys.readouterr().out == "" and s.name == "digits"
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (1078, 359, 360)   # 60 / 20 / 20
    x, y = datasets.load_digits()
    upsampled = F.interpolate(torch.from_numpy(x), size=(12, 12), mode="bilinear", align_corners=False)
    matches = [int(torch.nonzero((upsampled - image).abs().amax(dim=(1, 2, 3)) < 1e-6)[0])
               for image in s.x_test[:5]]
    assert [int(y[i]) for i in matches] == s.y_test[:5].tolist()
