"""Cases for 01-convolution-basics. Oracles: torch modules (parameter counts, output sizes),
scipy.signal (correlation, convolution), scipy.spatial (cosine), numpy.pad, and torch's
padding="same" (the split of its zeros, found by trying every split with F.pad)."""
import warnings

import numpy as np
import torch
from scipy import signal
from scipy.spatial import distance

SEED = 2026


def _torch_output_size(n, f, pad, stride):
    out = torch.nn.functional.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, f, f),
                                     stride=stride, padding=pad)
    return out.shape[-1]


def _torch_same_split(f, dilation):
    """(before, after): the zero padding along the width that reproduces torch's
    padding="same" for a 1 x f kernel with this dilation, found by trying every split."""
    rng = np.random.default_rng(f * 10 + dilation)
    x = torch.from_numpy(rng.normal(size=(1, 1, 3, 11)))
    w = torch.from_numpy(rng.normal(size=(1, 1, 1, f)))
    with warnings.catch_warnings():   # "even kernel lengths ... may require a zero-padded copy"
        warnings.simplefilter("ignore", UserWarning)
        same = torch.nn.functional.conv2d(x, w, padding="same", dilation=dilation)
    total = dilation * (f - 1)
    splits = [(a, total - a) for a in range(total + 1)
              if torch.allclose(same, torch.nn.functional.conv2d(
                  torch.nn.functional.pad(x, (a, total - a)), w, dilation=dilation))]
    assert len(splits) == 1, (f, dilation, splits)
    return splits[0]


JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every key but the */expected ones


def build():
    """Cases for 01-convolution-basics: {key: array}."""
    rng = np.random.default_rng(SEED)
    refs = {}

    dense = [((224, 224, 3), 1000), ((32, 32, 3), 10), ((8, 8), 64), ((5,), 1), ((3, 7, 2), 13)]
    for i, (shape, units) in enumerate(dense):
        layer = torch.nn.Linear(int(np.prod(shape)), units)
        refs[f"dense_params/{i}/input_shape"] = np.array(shape)
        refs[f"dense_params/{i}/units"] = np.array(units)
        refs[f"dense_params/{i}/expected"] = np.array(sum(p.numel() for p in layer.parameters()))

    conv = [(64, 3, 3), (6, 5, 1), (16, 5, 6), (10, (3, 5), 4), (1, 1, 1), (32, (1, 7), 2)]
    for i, (filters, kernel, channels) in enumerate(conv):
        layer = torch.nn.Conv2d(channels, filters, kernel)
        refs[f"conv_params/{i}/args"] = np.array([filters, *np.broadcast_to(kernel, 2), channels])
        refs[f"conv_params/{i}/kernel_is_tuple"] = np.array(isinstance(kernel, tuple))
        refs[f"conv_params/{i}/expected"] = np.array(sum(p.numel() for p in layer.parameters()))

    shapes = [((5, 7), (2, 3)), ((6, 4), (3, 3)), ((9, 9), (4, 2)), ((3, 8), (3, 1)),
              ((7, 5), (1, 5)), ((10, 6), (5, 4)), ((4, 4), (4, 4)), ((1, 6), (1, 2))]
    for i, (image_shape, kernel_shape) in enumerate(shapes):
        image = rng.integers(-5, 6, image_shape).astype(float)
        kernel = rng.integers(-3, 4, kernel_shape).astype(float)
        refs[f"correlate/{i}/image"] = image
        refs[f"correlate/{i}/kernel"] = kernel
        refs[f"correlate/{i}/expected"] = signal.correlate2d(image, kernel, mode="valid")
        refs[f"convolve/{i}/image"] = image
        refs[f"convolve/{i}/kernel"] = kernel
        refs[f"convolve/{i}/expected"] = signal.convolve2d(image, kernel, mode="valid")

    for i, shape in enumerate([(3,), (4, 4), (2, 3, 5)]):
        a, b = rng.normal(size=shape), rng.normal(size=shape)
        refs[f"cosine/{i}/a"], refs[f"cosine/{i}/b"] = a, b
        refs[f"cosine/{i}/expected"] = np.array(1.0 - distance.cosine(a.ravel(), b.ravel()))

    for i, (image_shape, template_shape) in enumerate([((6, 9), (2, 3)), ((7, 5), (3, 3)), ((8, 8), (1, 4))]):
        image = rng.normal(size=image_shape)
        template = rng.normal(size=template_shape)
        th, tw = template_shape
        expected = np.empty((image_shape[0] - th + 1, image_shape[1] - tw + 1))
        for r, c in np.ndindex(*expected.shape):
            expected[r, c] = 1.0 - distance.cosine(image[r:r + th, c:c + tw].ravel(), template.ravel())
        refs[f"match/{i}/image"], refs[f"match/{i}/template"] = image, template
        refs[f"match/{i}/expected"] = expected

    for i, (shape, pad) in enumerate([((3, 5), 1), ((4, 2), 2), ((2, 2), 0), ((1, 3), 3)]):
        image = rng.normal(size=shape)
        refs[f"pad/{i}/image"], refs[f"pad/{i}/pad"] = image, np.array(pad)
        refs[f"pad/{i}/expected"] = np.pad(image, pad)

    # conv_output_size: expected -1 means "must raise ValueError" (the windows do not tile)
    for i, (n, f, pad, stride) in enumerate([
            (32, 3, 1, 1), (28, 5, 0, 1), (227, 11, 0, 4), (7, 3, 0, 2), (9, 4, 1, 1),
            (224, 7, 3, 2), (6, 2, 0, 2), (5, 5, 0, 3), (10, 3, 2, 3), (15, 6, 0, 3),
            (8, 3, 0, 2), (5, 2, 0, 2), (10, 4, 0, 3), (4, 7, 1, 1), (3, 5, 0, 1)]):
        tiles = n - f + 2 * pad >= 0 and (n - f + 2 * pad) % stride == 0
        refs[f"output_size/{i}/args"] = np.array([n, f, pad, stride])
        refs[f"output_size/{i}/expected"] = np.array(
            _torch_output_size(n, f, pad, stride) if tiles else -1)

    for i, f in enumerate((1, 3, 5, 7, 11, 2, 4)):
        p = (f - 1) // 2 if f % 2 else -1
        if p >= 0:  # 'same' padding: torch keeps the size with this symmetric padding
            assert _torch_output_size(13, f, p, 1) == 13
        refs[f"same_padding/{i}/f"] = np.array(f)
        refs[f"same_padding/{i}/expected"] = np.array(p)

    for i, (f, dilation) in enumerate([(1, 1), (3, 1), (2, 1), (4, 1), (6, 1), (3, 2), (2, 2),
                                       (2, 3), (4, 3), (5, 2), (3, 4), (1, 5)]):
        refs[f"same_pair/{i}/args"] = np.array([f, dilation])
        refs[f"same_pair/{i}/expected"] = np.array(_torch_same_split(f, dilation))
    return refs
