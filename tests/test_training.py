"""course.training: batches cut from tensors in memory, augmentation on whole batches, and the
number of threads for a shared machine. Each batch-level step is compared with the per-image
operation it replaces (torchvision's RandomCrop with padding, a left-right flip)."""
import pytest
import torch
import torch.nn.functional as F

from course import training
from course.training import (ImagesDataset, TensorLoader, flip_and_shift, free_cores, random_crop,
                             random_flip)


def numbered(n=10, c=1, h=4, w=5):
    """n images (c, h, w) where image i is the constant i, and labels i: batches say what they hold."""
    x = torch.arange(n, dtype=torch.float32)[:, None, None, None].expand(n, c, h, w).contiguous()
    return x, torch.arange(n)


# TensorLoader

def test_the_stored_order_in_batches_with_a_smaller_last_one():
    x, y = numbered(10)
    loader = TensorLoader(x, y, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b) for b, _ in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([b for b, _ in batches]), x) and torch.equal(torch.cat([t for _, t in batches]), y)


def test_shuffling_pairs_images_with_their_labels_and_changes_every_epoch():
    x, y = numbered(50)
    loader = TensorLoader(x, y, batch_size=8, shuffle=True, seed=3)
    epochs = []
    for _ in range(2):
        images, labels = (torch.cat(parts) for parts in zip(*loader))
        assert torch.equal(images[:, 0, 0, 0].long(), labels)              # each image with its label
        assert sorted(labels.tolist()) == list(range(50))                  # every image once
        epochs.append(labels.tolist())
    assert epochs[0] != epochs[1] and epochs[0] != list(range(50))


def test_the_same_seed_repeats_the_same_run():
    x, y = numbered(30)
    runs = [[labels.tolist() for _, labels in TensorLoader(x, y, 7, shuffle=True, seed=1)] for _ in range(2)]
    assert runs[0] == runs[1]
    other = [labels.tolist() for _, labels in TensorLoader(x, y, 7, shuffle=True, seed=2)]
    assert other != runs[0]


def test_augment_gets_each_batch_and_the_loaders_generator():
    x, y = numbered(9)
    seen = []

    def augment(batch, generator):
        seen.append((tuple(batch.shape), generator))
        return batch + 100

    loader = TensorLoader(x, y, batch_size=4, augment=augment)
    images = torch.cat([b for b, _ in loader])
    assert torch.equal(images, x + 100) and torch.equal(x, numbered(9)[0])   # stored images untouched
    assert [shape for shape, _ in seen] == [(4, 1, 4, 5), (4, 1, 4, 5), (1, 1, 4, 5)]
    assert all(generator is loader.generator for _, generator in seen)


@pytest.mark.parametrize("x, y, batch_size, message", [
    (torch.zeros(4, 28, 28), torch.zeros(4), 2, r"images \(N, C, H, W\); got shape \(4, 28, 28\)"),
    (torch.zeros(4, 1, 2, 2), torch.zeros(3), 2, r"one label per image, shape \(4,\); got \(3,\)"),
    (torch.zeros(4, 1, 2, 2), torch.zeros(4), 0, "batch_size must be at least 1"),
])
def test_wrong_inputs_are_refused_with_what_was_expected(x, y, batch_size, message):
    with pytest.raises(ValueError, match=message):
        TensorLoader(x, y, batch_size)


# augmentation on a batch

def test_random_flip_mirrors_a_random_part_of_the_batch():
    x = torch.rand(400, 2, 3, 5)
    out = random_flip(x, torch.Generator().manual_seed(0))
    mirrored = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, x)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, x)])
    assert bool((mirrored ^ kept).all())                  # each image: mirrored or as it was
    assert 150 < int(mirrored.sum()) < 250                # about half (p = 0.5)
    assert int(random_flip(x, p=1.0).eq(x.flip(-1)).all()) and torch.equal(random_flip(x, p=0.0), x)


def test_random_crop_is_torchvisions_crop_with_padding_for_every_image():
    x = torch.rand(64, 3, 7, 6)
    generator = torch.Generator().manual_seed(5)
    out = random_crop(x, generator, padding=2)
    padded = F.pad(x, (2, 2, 2, 2))
    shifts = set()
    for i in range(len(x)):                               # each output: one 7x6 window of its padded image
        windows = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(out[i], padded[i, :, dy:dy + 7, dx:dx + 6])]
        assert windows, f"image {i} is no 7x6 window of the padded image"
        shifts.update(windows)
    assert len(shifts) > 15                               # the offsets vary from image to image
    assert out.shape == x.shape and out.is_contiguous()


def test_random_crop_is_repeatable_and_padding_0_changes_nothing():
    x = torch.rand(8, 1, 5, 5)
    first = random_crop(x, torch.Generator().manual_seed(1), padding=1)
    assert torch.equal(first, random_crop(x, torch.Generator().manual_seed(1), 1))
    unchanged = random_crop(x, padding=0)
    assert torch.equal(unchanged, x) and unchanged is not x


def test_flip_and_shift_keeps_shape_and_draws_from_the_generator():
    x = torch.rand(16, 1, 28, 28)
    a = flip_and_shift(x, torch.Generator().manual_seed(0))
    b = flip_and_shift(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)


def test_every_augmentation_can_be_a_tensor_loaders_augment():
    x, y = numbered(6, h=6, w=6)
    for augment in (random_flip, random_crop, flip_and_shift):
        images = torch.cat([b for b, _ in TensorLoader(x, y, 4, shuffle=True, augment=augment)])
        assert images.shape == x.shape


def test_images_dataset_transforms_each_image_at_every_read():
    x, y = numbered(3, h=2, w=2)
    reads = []
    dataset = ImagesDataset(x, y, transform=lambda image: reads.append(image.shape) or image * 2)
    image, label = dataset[2]
    assert len(dataset) == 3 and torch.equal(image, x[2] * 2) and label == 2 and type(label) is int
    dataset[2]
    assert reads == [(1, 2, 2), (1, 2, 2)]
    assert torch.equal(ImagesDataset(x, y)[1][0], x[1])


# threads

@pytest.mark.parametrize("load, cores, expected", [
    (0.1, 2, 2), (0.7, 2, 1), (1.4, 2, 1), (5.0, 2, 1), (0.0, 1, 1), (2.2, 8, 6), (0.0, 8, 8)])
def test_free_cores_leaves_the_busy_ones_alone(load, cores, expected):
    assert free_cores(load, cores) == expected


def test_use_free_cores_sets_torch_and_says_why(monkeypatch, capsys):
    before = torch.get_num_threads()
    monkeypatch.setattr(training.os, "getloadavg", lambda: (1.2, 1.0, 0.9))
    monkeypatch.setattr(training.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    try:
        assert training.use_free_cores() == 3 and torch.get_num_threads() == 3
        assert capsys.readouterr().out == ("torch uses 3 thread(s): 4 core(s), load average 1.2 "
                                           "(other programs keep about 1 busy)\n")
    finally:
        torch.set_num_threads(before)
