"""Interactive pieces of the course, each a small module with a pure frame function (tested
without widgets) and an ipywidgets UI:

- OutputSizeExplorer (output_size): window positions along one axis, the size formula
- ConvAnimator (conv_animator): the kernel sliding over a padded input, stride, padding,
  dilation, predict-the-size-first, and the student's conv_forward_naive compared cell by cell
- PoolAnimator (pool_animator): max and average pooling, the winning input highlighted
- KernelExplorer (kernel_explorer): preset or hand-typed 3x3 kernels on a real photograph
- FeatureMapExplorer (feature_maps): every map of a small CNN trained on the digits

Static fallback, for places where live widgets do not run (nbconvert HTML, a notebook viewer):
displaying a piece publishes TWO outputs (`fallback.LiveWidget._ipython_display_`):

1. the live widget (widget view and a short text/plain, no text/html), and
2. a plain text/html output, `<div class="cnn-static-fallback">`, with a PNG frame strip and an
   HTML animation (CSS keyframes in a <details>: no JavaScript needed).

nbconvert always renders output 2 (it is ordinary HTML), whatever it does with the widget
view. In a running JupyterLab / Notebook 7 the live widget carries a hidden child whose
<style> hides the fallback of its own output area:
`.lm-Widget.jp-OutputArea:has(.cnn-live-widget) .jp-OutputArea-child:has(.cnn-static-fallback)`.
The `.lm-Widget` class exists only in the live page (nbconvert's HTML uses the same jp-* classes
without it), and `.cnn-live-widget` only once the widget rendered, so a notebook opened without
a kernel, or exported, keeps its static pictures. `_repr_mimebundle_` still returns the widget
view plus the static HTML for tools that call it directly. Other front ends (VS Code) show the
static view under the live widget.
"""
from course.widgets.conv_animator import ConvAnimator
from course.widgets.feature_maps import FeatureMapExplorer
from course.widgets.kernel_explorer import KernelExplorer
from course.widgets.output_size import OutputSizeExplorer
from course.widgets.pool_animator import PoolAnimator

__all__ = ["ConvAnimator", "FeatureMapExplorer", "KernelExplorer", "OutputSizeExplorer", "PoolAnimator"]
