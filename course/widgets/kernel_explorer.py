"""Kernel explorer: a preset (identity, blurs, sharpen, Sobel, Laplacian, emboss) or your own
3x3 kernel applied to a real photograph, grey or per colour channel.

`apply_kernel` is cross-correlation (what deep learning calls convolution) with 'same' output
size and mirrored edges: it equals scipy.signal.correlate2d(image, kernel, mode="same",
boundary="symm") per channel, computed with scipy.ndimage.correlate (a few ms on 512x512).
"""
import base64
import html
import io
import time

import ipywidgets as widgets
import numpy as np
from scipy import ndimage

from course.data import PHOTOS, load_photo
from course.widgets.board import png_uri
from course.widgets.fallback import LIVE_CLASS, LiveWidget, css_animation, live_style

__all__ = ["KernelExplorer", "PRESETS", "apply_kernel", "to_display"]

PRESETS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "Gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}


def apply_kernel(image, kernel):
    """Cross-correlate an image with a kernel; same size out, edges mirrored.

    Inputs:
    - image: (H, W) grey or (H, W, C) colour (each channel filtered on its own)
    - kernel: (KH, KW) with odd KH and KW
    Returns a float array shaped like image (values may leave [0, 1]: see to_display).
    """
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError(f"kernel must be 2-D with odd sides (it needs a centre), got {kernel.shape}")
    if image.ndim == 3:
        kernel = kernel[:, :, None]
    elif image.ndim != 2:
        raise ValueError(f"image must be (H, W) or (H, W, C), got {image.shape}")
    return ndimage.correlate(image, kernel, mode="reflect")  # reflect = 'symm': d c b a | a b c d


def to_display(result, kernel):
    """Values for the screen in [0, 1]. A kernel whose weights sum to 0 (an edge detector)
    responds around 0: it is shown with grey = 0, white = a strong positive response and
    black = a strong negative one (the 99th percentile of |response| sets the contrast).
    Other kernels keep the photo's brightness, clipped."""
    if abs(float(np.sum(kernel))) < 1e-9:
        magnitude = np.abs(result)
        scale = float(np.percentile(magnitude, 99)) or float(magnitude.max()) or 1.0
        return np.clip(0.5 + 0.5 * result / scale, 0, 1)
    return np.clip(result, 0, 1)


def png_bytes(image, fmt="PNG", **options):
    """(H, W) or (H, W, 3) floats in [0, 1] as PNG (fast, little compression) or JPEG bytes."""
    from PIL import Image

    picture = Image.fromarray((np.asarray(image) * 255 + 0.5).astype(np.uint8))
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **(options or {"compress_level": 1}))
    return buffer.getvalue()


def _kernel_table(kernel):
    cells = "".join("<tr>" + "".join(f"<td style='border:1px solid #aaa; padding:1px 5px; "
                                     f"text-align:right; font:11px monospace'>{v:.3g}</td>" for v in row)
                    + "</tr>" for row in np.asarray(kernel, dtype=float))
    return f"<table style='border-collapse:collapse; margin:0'>{cells}</table>"


class KernelExplorer(LiveWidget, widgets.VBox):
    """Pick a preset or type a 3x3 kernel; see it applied to a photograph (full resolution).

    Inputs: photo (a name from course.data.PHOTOS), preset (a key of PRESETS), colour (filter
    each RGB channel instead of the grey photo), width (pixels on screen per picture).
    """

    def __init__(self, photo="camera", preset="Sobel x", colour=False, width=340):
        self._photos = {}
        self._filling = False
        self.width = width
        self.photo = widgets.Dropdown(options=PHOTOS, value=photo, description="photo")
        self.colour = widgets.Checkbox(colour, description="colour (per channel)", indent=False)
        self.preset = widgets.Dropdown(options=list(PRESETS) + ["custom"], value=preset,
                                       description="kernel")
        self.cells = [widgets.FloatText(0.0, layout=widgets.Layout(width="70px")) for _ in range(9)]
        grid = widgets.GridBox(self.cells, layout=widgets.Layout(
            grid_template_columns="repeat(3, 74px)", grid_gap="2px"))
        self.info = widgets.HTML()
        self.original = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))
        self.filtered = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))
        label = "<div style='font:12px sans-serif; text-align:center'>{}</div>"
        pictures = widgets.HBox([widgets.VBox([widgets.HTML(label.format("photo")), self.original]),
                                 widgets.VBox([widgets.HTML(label.format("filtered")), self.filtered])])
        super().__init__([widgets.HBox([self.photo, self.preset, self.colour]),
                          widgets.HBox([grid, self.info]), pictures, live_style()])
        self.add_class(LIVE_CLASS)
        self.photo.observe(lambda _: self._update(new_photo=True), names="value")
        self.colour.observe(lambda _: self._update(new_photo=True), names="value")
        self.preset.observe(lambda _: self._load_preset(), names="value")
        for cell in self.cells:
            cell.observe(lambda _: self._edited(), names="value")
        self._load_preset(update=False)
        self._update(new_photo=True)

    @property
    def kernel(self):
        return np.array([c.value for c in self.cells], dtype=float).reshape(3, 3)

    def image(self):
        key = (self.photo.value, self.colour.value)
        if key not in self._photos:
            self._photos[key] = load_photo(self.photo.value, gray=not self.colour.value)
        return self._photos[key]

    def _load_preset(self, update=True):
        if self.preset.value == "custom":
            return
        self._filling = True
        for cell, value in zip(self.cells, np.ravel(PRESETS[self.preset.value])):
            cell.value = round(float(value), 4)
        self._filling = False
        if update:
            self._update()

    def _edited(self):
        if self._filling:
            return
        if self.preset.value != "custom":
            self._filling = True
            self.preset.value = "custom"
            self._filling = False
        self._update()

    def _update(self, new_photo=False):
        image = self.image()
        if new_photo:
            self.original.value = png_bytes(image)
        started = time.perf_counter()
        result = apply_kernel(image, self.kernel)
        filtered = time.perf_counter()
        self.filtered.value = png_bytes(to_display(result, self.kernel))
        self.seconds = time.perf_counter() - started          # one update: filter and draw
        edge = abs(float(self.kernel.sum())) < 1e-9
        shown = ("weights sum to 0: an edge detector. Grey = 0, white = strong positive, "
                 "black = strong negative response." if edge else
                 f"weights sum to {self.kernel.sum():.3g}; values clipped to [0, 1].")
        self.info.value = (f"<div style='font:12px sans-serif; max-width:380px; padding-left:12px'>"
                           f"{html.escape(shown)}<br>{image.shape[1]}x{image.shape[0]} pixels: "
                           f"filtered in {(filtered - started) * 1000:.0f} ms, "
                           f"drawn in {(self.seconds - (filtered - started)) * 1000:.0f} ms.</div>")

    def static_html(self):
        """Strip: the photo and five presets side by side (PNG); an animation over all presets."""
        from PIL import Image

        photo = (self.image() * 255 + 0.5).astype(np.uint8)
        small = np.asarray(Image.fromarray(photo).reduce(4)) / 255.0  # a quarter of the size
        names = ["identity", "Gaussian blur", "sharpen", "Sobel x", "Laplacian"]
        tiles = [to_display(apply_kernel(small, PRESETS[name]), PRESETS[name]) for name in names]
        if self.preset.value == "custom":
            names.append("your kernel")
            tiles.append(to_display(apply_kernel(small, self.kernel), self.kernel))
        gap = np.ones((tiles[0].shape[0], 6) + tiles[0].shape[2:])
        strip = np.concatenate(sum(([t, gap] for t in tiles), [])[:-1], axis=1)
        uri = png_uri(png_bytes(strip, compress_level=6))
        caption = " · ".join(names)
        frames = []
        for name, kernel in PRESETS.items():
            jpeg = png_bytes(to_display(apply_kernel(small, kernel), kernel), "JPEG", quality=85)
            tile = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
            frames.append(f"<div style='display:flex; gap:10px; align-items:center'>"
                          f"<img src='{tile}' style='width:220px'/>"
                          f"<div><b>{html.escape(name)}</b>{_kernel_table(kernel)}</div></div>")
        return (f"<div><img src='{uri}' alt='kernel strip' style='max-width:100%'/>"
                f"<div style='font:12px sans-serif'>{html.escape(self.photo.value)}, left to right: "
                f"{html.escape(caption)}</div>"
                f"{css_animation(frames, 1.5, 'Cycle through the presets')}</div>")
