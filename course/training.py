"""Fast training input on a CPU: the images stay in memory as one tensor, batches are cut from it
by index, and random augmentation runs on a whole batch at once.

A DataLoader over a Dataset calls `__getitem__` once per image and stacks the results: with
per-image transforms that is Python work for every image of every epoch, often more than the
network's own work on a CPU. Here one tensor operation does it for the batch.

- TensorLoader: (x, y) batches cut from tensors in memory, reshuffled at every epoch (seeded),
  each training batch passed through an optional batch augmentation
- random_flip: mirror a random half of a batch left to right (torch.where)
- random_crop: pad a batch, then cut each image at its own random offset (a random shift)
- flip_and_shift: both, the augmentation for clothes (Fashion-MNIST)
  (each takes (x, generator) first, so any of them can be a TensorLoader's `augment`)
- ImagesDataset: the slow way, for comparison: a Dataset that transforms one image per read
- free_cores / use_free_cores: how many threads torch should use on a shared machine
"""
import os

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


class TensorLoader:
    """Batches cut from tensors held in memory, as a DataLoader would serve them.

    Inputs:
    - x: (N, C, H, W) float images; y: (N,) int64 labels
    - batch_size: images per batch (the last batch is smaller when N is not a multiple)
    - shuffle: a new random order at every epoch (for training), else the stored order
    - seed: seeds the order and the augmentation (a torch.Generator of its own), so a run
      repeats exactly
    - augment: None, or a function (x_batch (B, C, H, W), generator) -> x_batch of the same
      shape, applied to every batch (give it only to the training loader)
    Iterating yields (x_batch (B, C, H, W), y_batch (B,)); len(loader) is the number of batches
    """

    def __init__(self, x, y, batch_size=128, shuffle=False, seed=0, augment=None):
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        if x.ndim != 4:
            raise ValueError(f"x should be images (N, C, H, W); got shape {tuple(x.shape)}")
        if y.shape != x.shape[:1]:
            raise ValueError(f"y should hold one label per image, shape ({len(x)},); got {tuple(y.shape)}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.augment = int(batch_size), shuffle, augment
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        n = len(self.y)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:            # the stored order: slices, no copy
                x, y = self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                index = order[start:start + self.batch_size]
                x, y = self.x[index], self.y[index]
            if self.augment is not None:
                x = self.augment(x, self.generator)
            yield x, y


def random_flip(x, generator=None, p=0.5):
    """Mirror each image of a batch left to right with probability p.

    Inputs:
    - x: (N, C, H, W)
    - generator: a torch.Generator, or None for torch's global one
    Returns a new tensor (N, C, H, W): image i is x[i].flip(-1) where a coin came up, else x[i]
    """
    flip = torch.rand(len(x), generator=generator) < p
    return torch.where(flip[:, None, None, None].to(x.device), x.flip(-1), x)


def random_crop(x, generator=None, padding=2):
    """Shift each image of a batch by up to `padding` pixels in each direction.

    The batch is padded with `padding` zeros on every side, then each image is cut back to
    H x W at its own random offset (0 .. 2 * padding, rows and columns drawn separately); what
    torchvision's RandomCrop(H, padding) does to one image, done for the whole batch with one
    gather.
    Inputs:
    - x: (N, C, H, W)
    - generator: a torch.Generator, or None for torch's global one
    - padding: the largest shift, in pixels
    Returns a new tensor (N, C, H, W)
    """
    if padding == 0:
        return x.clone()
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))             # (N, C, H + 2p, W + 2p)
    dy = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator).to(x.device)
    rows = dy + torch.arange(h, device=x.device)[:, None]                # (N, H, 1): rows kept
    cols = dx + torch.arange(w, device=x.device)                         # (N, 1, W): columns
    where = (rows * (w + 2 * padding) + cols).reshape(n, 1, h * w)       # flat index in a padded image
    out = padded.reshape(n, c, -1).gather(2, where.expand(n, c, h * w))
    return out.reshape(n, c, h, w)


def flip_and_shift(x, generator=None, padding=2):
    """The augmentation for clothes: random_flip, then random_crop with `padding`.

    Inputs: x (N, C, H, W), a torch.Generator or None. Returns a new tensor (N, C, H, W)
    """
    return random_crop(random_flip(x, generator), generator, padding)


class ImagesDataset(Dataset):
    """Images in memory as a Dataset whose transform runs on each image as it is read.

    What a DataLoader with per-image torchvision transforms needs (the usual way, slower on a
    CPU than TensorLoader with a batch augmentation).
    Inputs:
    - x: (N, C, H, W) float images; y: (N,) int64 labels
    - transform: None, or a function image (C, H, W) -> image, called at every read
    Items: (image (C, H, W), label as a Python int)
    """

    def __init__(self, x, y, transform=None):
        self.x, self.labels, self.transform = torch.as_tensor(x), torch.as_tensor(y).tolist(), transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = self.x[i]
        return (image if self.transform is None else self.transform(image)), self.labels[i]


def free_cores(load=None, cores=None):
    """The number of cores that are free for this process's threads, at least 1.

    The cores this process may run on (os.sched_getaffinity), minus the work other programs
    keep them busy with: the load average of the last minute, rounded. On a shared machine two
    threads that wait for each other at every operation, one of them often paused for another
    program, can be many times slower than one thread.
    Inputs:
    - load: a load average (None: os.getloadavg()[0], read now)
    - cores: a number of cores (None: those of this process)
    Returns an int from 1 to cores
    """
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if load is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(int(cores), int(cores) - round(load)))


def use_free_cores(verbose=True):
    """torch.set_num_threads(free_cores()), with one printed line saying why; returns the number.

    Call it when the process is idle (at the start of a notebook or script): the load average
    then measures the other programs only.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    threads = free_cores(load, cores)
    torch.set_num_threads(threads)
    if verbose:
        print(f"torch uses {threads} thread(s): {cores} core(s), load average {load:.1f} "
              f"(other programs keep about {min(cores, round(load))} busy)")
    return threads
