"""Static fallback of the live widgets (see the package docstring for the whole approach).

- LiveWidget: mixin for an ipywidgets Box. Displaying the widget publishes TWO outputs: the
  live widget (widget view only) and a plain text/html output holding the static picture in
  <div class="cnn-static-fallback">. `_repr_mimebundle_` also carries the static HTML.
- live_style(): a hidden HTML child every live widget carries; its <style> hides the fallback
  output of the same output area, and only inside a running JupyterLab / Notebook 7 page.
- css_animation(): an HTML animation of frames that needs no JavaScript (CSS keyframes).
"""
import html

import ipywidgets as widgets
from IPython.display import display

FALLBACK_CLASS = "cnn-static-fallback"
LIVE_CLASS = "cnn-live-widget"

# `.lm-Widget.jp-OutputArea` exists only in a running JupyterLab / Notebook 7 page (nbconvert's
# HTML has `.jp-OutputArea` without `.lm-Widget`), and `:has(.cnn-live-widget)` only once the
# widget rendered there; so the fallback disappears exactly where the live widget is on screen.
HIDE_CSS = (
    f".lm-Widget.jp-OutputArea:has(.{LIVE_CLASS}) .jp-OutputArea-child:has(.{FALLBACK_CLASS}),"
    f".lm-Widget.jp-OutputArea:has(.{LIVE_CLASS}) .{FALLBACK_CLASS} {{display:none !important;}}"
)


def live_style():
    """The invisible child that hides this widget's static fallback once the widget renders."""
    return widgets.HTML(f"<style>{HIDE_CSS}</style>", layout=widgets.Layout(display="none"))


def wrap_fallback(inner, name):
    """The static picture as the separate output that the live widget hides."""
    return (f"<div class='{FALLBACK_CLASS}'><div style='font:12px sans-serif; color:#666; "
            f"margin:2px 0'>{html.escape(name)}: static view (the live widget appears when the "
            f"notebook runs in Jupyter).</div>{inner}</div>")


def css_animation(frames, seconds=0.9, label="Play the steps"):
    """An HTML animation of `frames` (HTML snippets), shown in a <details> element; it loops
    with CSS keyframes (no JavaScript) and pauses while the pointer is over it. Without CSS
    the frames simply stand one below the other."""
    n = len(frames)
    if n == 0:
        return ""
    period = n * seconds
    share = 100.0 / n
    style = (f"<style>@keyframes cnn-cycle-{n} {{0% {{visibility:visible}} "
             f"{share:.4f}% {{visibility:hidden}} 100% {{visibility:hidden}}}}"
             f".cnn-anim-{n} {{display:grid;}}"
             f".cnn-anim-{n} > div {{grid-area:1/1; background:#fff; "
             f"animation:cnn-cycle-{n} {period:.2f}s step-end infinite;}}"
             f".cnn-anim-{n}:hover > div {{animation-play-state:paused;}}</style>")
    body = "".join(f"<div style='animation-delay:-{(n - i) * seconds:.2f}s'>{frame}</div>"
                   for i, frame in enumerate(frames))
    return (f"{style}<details><summary style='cursor:pointer'>{html.escape(label)} "
            f"({n} frames, hover to pause)</summary><div class='cnn-anim-{n}'>{body}</div></details>")


class LiveWidget:
    """Mixin for an ipywidgets Box subclass: give it `static_html()` and put `live_style()`
    among its children. Displays as the live widget plus a hidden-when-live static output."""

    def static_html(self):
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        return bundle

    def _ipython_display_(self, **kwargs):
        name = type(self).__name__
        bundle = dict(super()._repr_mimebundle_() or {})
        bundle.pop("text/html", None)
        bundle["text/plain"] = f"{name} (a live widget: run the notebook in Jupyter to use it)"
        display(bundle, raw=True)
        display({"text/html": wrap_fallback(self.static_html(), name),
                 "text/plain": f"{name}: static view"}, raw=True)
