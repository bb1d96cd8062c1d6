"""Plotting helpers shared by the notebooks."""
import matplotlib.pyplot as plt
import numpy as np


def show_matrix(array, title=None, ax=None, highlight=None, cmap="Blues", fmt="{:g}"):
    """Draw a small 2-D array as a grid of coloured cells with their values written in.

    Inputs:
    - array: (H, W)
    - highlight: optional (row, col, height, width) rectangle drawn in red
    Returns the matplotlib Axes.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"show_matrix draws 2-D arrays; got shape {array.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * array.shape[1] + 0.6, 0.55 * array.shape[0] + 0.6))
    ax.imshow(array, cmap=cmap)
    span = float(np.ptp(array)) or 1.0
    for (r, c), value in np.ndenumerate(array):
        dark = (value - array.min()) / span > 0.6
        ax.text(c, r, fmt.format(value), ha="center", va="center", fontsize=9,
                color="white" if dark else "black")
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor="red", linewidth=2.5))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_images(images, titles=None, cols=None, cmap="gray", size=2.2):
    """Show several images side by side (2-D grey or (H, W, 3) colour).

    Returns the matplotlib Figure.
    """
    images = list(images)
    cols = cols or len(images)
    rows = (len(images) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=10)
    fig.tight_layout()
    return fig
