"""Interactive pieces. Each one also carries a static picture (HTML) for places where live
widgets do not run, such as nbconvert HTML or a notebook viewer."""
from course.widgets.output_size import OutputSizeExplorer

__all__ = ["OutputSizeExplorer"]
