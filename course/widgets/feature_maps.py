"""Feature maps of a small CNN trained on scikit-learn's 8x8 digits: every filter's map in the
first two convolutional layers, for a test digit you choose.

Training is seeded, takes a few seconds at most (less than one with few epochs) and is done
once per session: the trained weights are kept in memory (nothing is written to disk).
"""
import html
import time

import ipywidgets as widgets
import numpy as np

from course.data import load_digits
from course.mode import small
from course.widgets.board import figure_png, png_uri
from course.widgets.fallback import LIVE_CLASS, LiveWidget, css_animation, live_style

__all__ = ["FeatureMapExplorer", "digit_cnn", "train_digit_cnn", "feature_maps"]

N_TRAIN = 1500          # the remaining 297 digits are the test set
_TRAINED = {}           # (num_epochs, seed) -> (state_dict, accuracy, seconds)


def digit_cnn():
    """conv 1->8 (3x3, pad 1), ReLU, conv 8->16 (3x3, pad 1), ReLU, max pool 2, linear 256->10."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


def train_digit_cnn(num_epochs=None, seed=0):
    """The CNN trained on the first 1,500 digits (Adam, batches of 64), cached in memory.

    Inputs: num_epochs (None: small(8, 2), fewer while grading), seed
    Returns (model, test_accuracy, seconds the training took); the model is a fresh copy.
    """
    import torch

    num_epochs = small(8, 2) if num_epochs is None else int(num_epochs)
    key = (num_epochs, seed)
    if key not in _TRAINED:
        started = time.perf_counter()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny layers: one thread is faster than several
        torch.manual_seed(seed)
        x, y = load_digits()
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        model = digit_cnn()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        generator = torch.Generator().manual_seed(seed)
        for _ in range(num_epochs):
            order = torch.randperm(N_TRAIN, generator=generator)
            for batch in order.split(64):
                loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            accuracy = (model(x[N_TRAIN:]).argmax(1) == y[N_TRAIN:]).float().mean().item()
        torch.set_num_threads(threads)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        _TRAINED[key] = (state, accuracy, time.perf_counter() - started)
    state, accuracy, seconds = _TRAINED[key]
    model = digit_cnn()
    model.load_state_dict(state)
    return model.eval(), accuracy, seconds


def feature_maps(model, x):
    """Maps after each conv + ReLU for one image.

    Inputs: model from digit_cnn, x: (1, 8, 8) or (8, 8) floats
    Returns {"conv1": (8, 8, 8), "conv2": (16, 8, 8)} NumPy arrays.
    """
    import torch

    image = torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(1, 1, 8, 8)
    maps = {}
    with torch.no_grad():
        h = model[1](model[0](image))
        maps["conv1"] = h[0].numpy()
        h = model[3](model[2](h))
        maps["conv2"] = h[0].numpy()
    return maps


def mosaic(tiles, cmap, per_tile=True, limit=None, scale=10, gap=3):
    """Tiles (K, h, w) side by side as one RGB array, each upscaled `scale` times and coloured
    with `cmap` (per_tile: each tile uses its own range from 0; else -limit..limit)."""
    from matplotlib import colormaps

    coloured = []
    for tile in np.asarray(tiles, dtype=float):
        if per_tile:
            top = tile.max()
            tile = tile / top if top > 0 else tile
        else:
            tile = (tile / limit + 1) / 2
        rgb = colormaps[cmap](tile)[..., :3]
        coloured.append(np.kron(rgb, np.ones((scale, scale, 1))))
        coloured.append(np.ones((coloured[-1].shape[0], gap, 3)))
    return np.concatenate(coloured[:-1], axis=1)


def draw_maps(digit, maps, kernels, title):
    """PNG: the digit beside the 8 first-layer kernels, then the 8 layer-1 maps and the 16
    layer-2 maps, 8 per row (after ReLU; each map with its own brightness scale, black = 0)."""
    import matplotlib.pyplot as plt

    tile, gap = 72, 4
    blank = np.ones((tile, tile + gap, 3))
    limit = float(np.abs(kernels).max())
    rows = [("layer 1\nkernels", np.concatenate(
                [mosaic(digit[None], "gray_r", scale=9), np.ones((tile, gap, 3)),
                 mosaic(kernels, "RdBu_r", per_tile=False, limit=limit, scale=24, gap=gap)], axis=1)),
            ("layer 1\nmaps", mosaic(maps["conv1"], "magma", scale=9, gap=gap)),
            ("layer 2\nmaps 0-7", mosaic(maps["conv2"][:8], "magma", scale=9, gap=gap)),
            ("layer 2\nmaps 8-15", mosaic(maps["conv2"][8:], "magma", scale=9, gap=gap))]
    canvas = [rows[0][1]] + [np.concatenate([blank, r], axis=1) for _, r in rows[1:]]
    canvas = np.concatenate(sum(([r, np.ones((3 * gap, r.shape[1], 3))] for r in canvas), [])[:-1])
    fig, ax = plt.subplots(figsize=(8.6, 4.9))
    ax.imshow(canvas, interpolation="nearest")
    for k, (label, _) in enumerate(rows):
        ax.text(-8, k * (tile + 3 * gap) + tile / 2, label, ha="right", va="center", fontsize=9)
    ax.text(tile / 2, -6, "digit", ha="center", va="bottom", fontsize=8)
    ax.text(tile + gap, -6, "kernels: red +, blue -", ha="left", va="bottom", fontsize=8)
    ax.set_title(title, fontsize=10, pad=24)
    ax.axis("off")
    return figure_png(fig, dpi=100)


class FeatureMapExplorer(LiveWidget, widgets.VBox):
    """Choose a test digit; see what every filter of the two conv layers makes of it.

    Inputs: num_epochs (None: small(8, 2)), seed.
    """

    def __init__(self, num_epochs=None, seed=0):
        self.model, self.accuracy, self.seconds = train_digit_cnn(num_epochs, seed)
        x, y = load_digits()
        self.x, self.y = x[N_TRAIN:], y[N_TRAIN:]
        import torch

        with torch.no_grad():
            self.predicted = self.model(torch.from_numpy(self.x)).argmax(1).numpy()
        self.kernels = self.model[0].weight.detach().numpy()[:, 0]
        self.header = widgets.HTML(
            f"<div style='font:13px sans-serif'>A small CNN trained on {N_TRAIN} digits "
            f"({self.seconds:.1f} s, once per session): {self.accuracy:.0%} of the "
            f"{len(self.y)} test digits right. Maps are shown after ReLU (dark = 0).</div>")
        self.digit = widgets.IntSlider(0, 0, len(self.y) - 1, description="test digit",
                                       continuous_update=False, layout=widgets.Layout(width="420px"))
        self.label = widgets.HTML()
        self.picture = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        super().__init__([self.header, widgets.HBox([self.digit, self.label]), self.picture,
                          live_style()])
        self.add_class(LIVE_CLASS)
        self.digit.observe(lambda _: self._update(), names="value")
        self._update()

    def _title(self, i):
        return f"test digit {i}: a {self.y[i]}, the network says {self.predicted[i]}"

    def _update(self):
        i = self.digit.value
        self.label.value = (f"<div style='font:13px sans-serif; padding-left:10px'>"
                            f"{html.escape(self._title(i))}</div>")
        maps = feature_maps(self.model, self.x[i])
        self.picture.value = draw_maps(self.x[i, 0], maps, self.kernels, self._title(i))

    def static_html(self):
        """The current digit's maps (PNG) and an animation over one test digit of each class."""
        from course.widgets.kernel_explorer import png_bytes

        strip = png_uri(bytes(self.picture.value))
        frames = []
        for label in range(10):
            i = int(np.flatnonzero(self.y == label)[0])
            row = np.concatenate([mosaic(self.x[i], "gray_r"),
                                  np.ones((80, 12, 3)),
                                  mosaic(feature_maps(self.model, self.x[i])["conv1"], "magma")], axis=1)
            frames.append(f"<div style='font:12px sans-serif'>{html.escape(self._title(i))}; "
                          f"its 8 layer-1 maps</div><img src='{png_uri(png_bytes(row, compress_level=6))}'/>")
        return (f"<div><img src='{strip}' alt='feature maps' style='max-width:100%'/>"
                f"{css_animation(frames, 1.2, 'One digit of each class')}</div>")
