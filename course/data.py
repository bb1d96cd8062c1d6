"""Real data that ships with the installed packages: nothing is downloaded.

- load_digits: scikit-learn's 1,797 handwritten digits, 8x8 pixels, as NCHW arrays
- load_photo: a photograph bundled with scikit-image (camera, astronaut, coffee, ...)
"""
import importlib.util
import os

import numpy as np

PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "coins", "moon", "page", "rocket")


def _digits_file():
    """(images (1797, 8, 8), labels (1797,)) read from scikit-learn's own digits.csv.gz, as
    sklearn.datasets.load_digits reads it, without importing scikit-learn (seconds of imports);
    through scikit-learn if the file is not where it usually is."""
    spec = importlib.util.find_spec("sklearn")
    folder = (spec.submodule_search_locations or [None])[0] if spec else None
    path = os.path.join(folder, "datasets", "data", "digits.csv.gz") if folder else None
    if path and os.path.isfile(path):
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1]
    from sklearn.datasets import load_digits as sklearn_digits
    digits = sklearn_digits()
    return digits.images, digits.target


def load_digits(limit=None):
    """Handwritten digits bundled with scikit-learn.

    Inputs:
    - limit: keep only the first `limit` images (None keeps all 1,797)
    Returns (x, y); x: (N, 1, 8, 8) float32 in [0, 1], y: (N,) int64 labels 0-9
    """
    images, target = _digits_file()
    x = (images / 16.0).astype(np.float32)[:, None, :, :]
    y = target.astype(np.int64)
    if limit is not None:
        if int(limit) < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        x, y = x[:limit], y[:limit]
    return x, y


def load_photo(name="camera", gray=True, size=None):
    """A photograph bundled with scikit-image, as floats in [0, 1].

    Inputs:
    - name: one of PHOTOS
    - gray: True gives (H, W); False gives (H, W, 3) for colour photos (channels last,
      as images are stored; the course turns them into CHW when a network needs it)
    - size: None keeps the original size; an int or (height, width) resizes
    Returns an array of float64 in [0, 1]
    """
    from skimage import color, data, transform, util

    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of: {', '.join(PHOTOS)}")
    image = util.img_as_float(getattr(data, name)())
    if image.ndim == 3 and image.shape[2] == 4:
        image = color.rgba2rgb(image)
    if gray and image.ndim == 3:
        image = color.rgb2gray(image)
    if not gray and image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if size is not None:
        shape = (size, size) if np.isscalar(size) else tuple(size)
        image = transform.resize(image, shape + image.shape[2:], anti_aliasing=True)
    return image
