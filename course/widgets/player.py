"""Play / pause / step / speed controls shared by the animators."""
import ipywidgets as widgets

SPEEDS = (("slow", 1400), ("normal", 800), ("fast", 350))


class Player(widgets.HBox):
    """ipywidgets.Play linked (in the browser) to an IntSlider for the step, a Step button that
    advances one step (wrapping to the first), and a speed menu. `value` is the step shown."""

    def __init__(self, count=1):
        self.play = widgets.Play(value=0, min=0, max=max(count - 1, 0), interval=SPEEDS[1][1],
                                 show_repeat=False, description="play")
        self.slider = widgets.IntSlider(0, 0, max(count - 1, 0), description="step",
                                        style={"description_width": "40px"},
                                        layout=widgets.Layout(width="300px"))
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.step_button = widgets.Button(description="Step ▸", tooltip="one step forward",
                                          layout=widgets.Layout(width="80px"))
        self.step_button.on_click(lambda _: self.advance())
        self.speed = widgets.Dropdown(options=SPEEDS, value=SPEEDS[1][1], description="speed",
                                      style={"description_width": "45px"},
                                      layout=widgets.Layout(width="150px"))
        self.speed.observe(lambda change: setattr(self.play, "interval", change["new"]), names="value")
        super().__init__([self.play, self.slider, self.step_button, self.speed])

    @property
    def value(self):
        return self.slider.value

    @value.setter
    def value(self, step):
        self.slider.value = step

    def advance(self):
        """One step forward; after the last step, back to the first."""
        top = self.slider.max
        self.slider.value = 0 if self.slider.value >= top else self.slider.value + 1

    def reset(self, count):
        """Back to step 0 with `count` steps available."""
        self.slider.value = self.play.value = 0
        top = max(count - 1, 0)
        self.slider.max = self.play.max = top

    def set_enabled(self, enabled):
        for part in (self.play, self.slider, self.step_button):
            part.disabled = not enabled

    def observe_step(self, handler):
        self.slider.observe(lambda change: handler(change["new"]), names="value")
