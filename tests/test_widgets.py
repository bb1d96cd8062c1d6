from course.widgets import OutputSizeExplorer
from course.widgets.output_size import describe, window_starts


def test_window_starts():
    assert window_starts(7, 3, 0, 2) == [0, 2, 4]
    assert window_starts(5, 3, 1, 1) == [0, 1, 2, 3, 4]
    assert window_starts(3, 5, 0, 1) == []


def test_describe_explains_whole_and_broken_settings():
    assert describe(7, 3, 0, 2).endswith("= 3 windows.")
    broken = describe(8, 3, 0, 2)
    assert "not a whole number" in broken and "3 windows fit" in broken
    assert "no window fits" in describe(3, 5, 0, 1)


def test_explorer_shows_the_students_answer_and_errors():
    def size(n, f, pad, stride):
        if (n - f + 2 * pad) % stride:
            raise ValueError("does not tile")
        return (n - f + 2 * pad) // stride + 1

    explorer = OutputSizeExplorer(size, n=7, f=3, pad=0, stride=2)
    assert "returned 3" in explorer.formula.value
    explorer.sliders["n"].value = 8
    assert "raised ValueError: does not tile" in explorer.formula.value
    assert bytes(explorer.picture.value).startswith(b"\x89PNG")


def test_explorer_has_a_static_fallback():
    bundle = OutputSizeExplorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith("<div><img src='data:image/png;base64,")


def test_explorer_with_an_unfinished_function():
    def size(n, f, pad, stride):
        raise NotImplementedError()
    assert "not written yet" in OutputSizeExplorer(size).formula.value
