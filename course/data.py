"""Real data that ships with the installed packages: nothing is downloaded.

- load_digits: scikit-learn's 1,797 handwritten digits, 8x8 pixels, as NCHW arrays
- load_photo: a photograph bundled with scikit-image (camera, astronaut, coffee, ...)
"""
import numpy as np

PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "coins", "moon", "page", "rocket")


def load_digits(limit=None):
    """Handwritten digits bundled with scikit-learn.

    Inputs:
    - limit: keep only the first `limit` images (None keeps all 1,797)
    Returns (x, y); x: (N, 1, 8, 8) float32 in [0, 1], y: (N,) int64 labels 0-9
    """
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
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
