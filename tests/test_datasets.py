"""course.datasets: local torchvision datasets that are never downloaded, and the digits
fallback. The Fashion-MNIST files here are tiny fakes written in the real (idx) format."""
import numpy as np
import pytest
import torch

from course.datasets import LAYOUT, dataset_or_digits, local_torchvision_dataset, missing_files
from course.torchvision_compat import import_torchvision


def write_idx(path, array):
    """Write a uint8 array in the idx format of (Fashion-)MNIST: magic, sizes, bytes."""
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x0800 + array.ndim                  # 0x08: unsigned bytes; then the number of axes
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + array.tobytes())


@pytest.fixture
def fake_fashion(tmp_path):
    """root/FashionMNIST/raw with 6 training and 4 test images of 28x28; returns (root, arrays)."""
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
        arrays[split] = (images, labels)
    return tmp_path, arrays


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
def test_dataset_or_digits_falls_back_with_one_line(tmp_path, capsys, make_root):
    root = make_root(tmp_path)
    data = dataset_or_digits("FashionMNIST", root)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fashion-MNIST not found")
    assert lines[0].endswith("; using the bundled digits")
    assert (str(root) in lines[0]) if root is not None else ("no folder given" in lines[0])
    assert data.name == "digits" and data.classes == [str(d) for d in range(10)]
    assert len(data.train) + len(data.test) == 1797
    image, label = data.test[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32 and isinstance(label, int)
    train_labels = np.array([data.train[i][1] for i in range(len(data.train))])
    assert np.bincount(train_labels).min() >= 130          # stratified: every digit ~75% in train
