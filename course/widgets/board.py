"""Boards: small grids of numbers with a role per cell (padding, window, output filled, ...),
built by pure functions and drawn two ways: as an HTML table (live widgets and the static
HTML animation) and with matplotlib (the PNG frame strip).

A board is a list of panels (title, grid); a grid is a list of rows of Cell.
"""
import base64
import html
import io
import textwrap
from collections import namedtuple

Cell = namedtuple("Cell", "text role note", defaults=("plain", ""))
Cell.__doc__ = "One square: its text, its role (a key of ROLES) and an optional small note."

# role: (background, hatched, text colour, bold, border colour)
ROLES = {
    "plain": ("#ffffff", False, "#222222", False, "#bbbbbb"),
    "pad": ("#eeeeee", True, "#999999", False, "#bbbbbb"),
    "window": ("#fdd0a2", False, "#222222", False, "#e6550d"),
    "window-pad": ("#fdd0a2", True, "#999999", False, "#e6550d"),
    "winner": ("#e6550d", False, "#ffffff", True, "#a63603"),
    "kernel": ("#e5f5e0", False, "#222222", False, "#74c476"),
    "empty": ("#ffffff", False, "#222222", False, "#bbbbbb"),
    "done": ("#c6dbef", False, "#222222", False, "#9ecae1"),
    "current": ("#fd8d3c", False, "#000000", True, "#a63603"),
    "wrong": ("#fcbba1", False, "#a50f15", True, "#d62728"),
    "unknown": ("#f7f7f7", False, "#888888", True, "#cccccc"),
}

BOARD_CSS = """
div.cnn-board {display:flex; flex-wrap:wrap; gap:18px; align-items:flex-start;
  font-family:monospace; margin:4px 0;}
div.cnn-board table.cnn-grid {border-collapse:collapse; margin:0; table-layout:fixed;}
div.cnn-board table.cnn-grid caption {caption-side:top; font:12px sans-serif; color:#333;
  padding:0 0 3px 0; text-align:left; white-space:nowrap;}
div.cnn-board table.cnn-grid td {width:32px; height:32px; min-width:32px; padding:0;
  text-align:center; vertical-align:middle; font:13px monospace; position:relative;
  border:1px solid #bbbbbb; background:#ffffff; color:#222222;}
div.cnn-board table.cnn-grid td small {position:absolute; right:1px; bottom:0;
  font-size:9px; color:#a63603;}
div.cnn-board table.cnn-grid td.cnn-hatch {background-image:repeating-linear-gradient(
  45deg, rgba(0,0,0,0) 0 4px, rgba(0,0,0,0.16) 4px 6px);}
""" + "".join(
    f"div.cnn-board table.cnn-grid td.cnn-{role} {{background-color:{bg}; color:{fg};"
    f"{' font-weight:bold;' if bold else ''} border:{'2px' if edge != '#bbbbbb' else '1px'} "
    f"solid {edge};}}\n"
    for role, (bg, _, fg, bold, edge) in ROLES.items())


def css():
    """The style block the HTML boards need (include once per output)."""
    return f"<style>{BOARD_CSS}</style>"


def grid_html(title, grid):
    """One panel as an HTML table."""
    rows = []
    for row in grid:
        cells = []
        for cell in row:
            hatch = " cnn-hatch" if ROLES[cell.role][1] else ""
            note = f"<small>{html.escape(cell.note)}</small>" if cell.note else ""
            cells.append(f"<td class='cnn-{cell.role}{hatch}'>{html.escape(cell.text)}{note}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class='cnn-grid'><caption>{html.escape(title)}</caption>"
            + "".join(rows) + "</table>")


def board_html(panels, caption="", with_css=True):
    """A board (list of (title, grid)) and a caption line as HTML."""
    body = "".join(grid_html(title, grid) for title, grid in panels)
    text = f"<div style='font:13px monospace; margin:2px 0 6px 0'>{html.escape(caption)}</div>" \
        if caption else ""
    return (css() if with_css else "") + f"<div class='cnn-board'>{body}</div>{text}"


def draw_board(ax, panels, caption="", gap=1.2):
    """Draw a board on a matplotlib Axes: panels left to right, the caption underneath."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    x0, height = 0.0, max(len(grid) for _, grid in panels)
    for title, grid in panels:
        for hatched in (False, True):
            boxes, faces, edges, widths = [], [], [], []
            for r, row in enumerate(grid):
                for c, cell in enumerate(row):
                    bg, hatch, _, _, edge = ROLES[cell.role]
                    if hatch == hatched:
                        boxes.append(Rectangle((x0 + c, height - r - 1), 1, 1))
                        faces.append(bg)
                        edges.append(edge)
                        widths.append(1.6 if edge != "#bbbbbb" else 0.6)
            if boxes:
                ax.add_collection(PatchCollection(boxes, facecolors=faces, edgecolors=edges,
                                                  linewidths=widths, hatch="////" if hatched else None))
        for r, row in enumerate(grid):
            for c, cell in enumerate(row):
                _, _, fg, bold, _ = ROLES[cell.role]
                y = height - r - 1
                ax.text(x0 + c + 0.5, y + (0.6 if cell.note else 0.5), cell.text, ha="center",
                        va="center", color=fg, fontsize=7, fontweight="bold" if bold else "normal")
                if cell.note:
                    ax.text(x0 + c + 0.96, y + 0.04, cell.note, ha="right", va="bottom",
                            fontsize=4.5, color="#a63603")
        ax.text(x0, height + 0.25, title, fontsize=7, va="bottom")
        x0 += max(len(row) for row in grid) + gap
    if caption:
        width = max(int((x0 - gap) * 4.2), 30)
        ax.text(0, -0.35, "\n".join(textwrap.wrap(caption, width)), fontsize=6.5, va="top",
                family="monospace")
    ax.set_xlim(-0.2, x0 - gap + 0.2)
    ax.set_ylim(-2.4 if caption else -0.3, height + 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return x0 - gap


def board_width(panels, gap=1.2):
    """Width of a board in cells (for sizing figures)."""
    return sum(max(len(row) for row in grid) for _, grid in panels) + gap * (len(panels) - 1)


def strip_png(boards, titles, cell_inches=0.3, dpi=90, max_cols=4):
    """Several boards side by side (a frame strip) as PNG bytes.

    Inputs: boards: list of (panels, caption); titles: one title per board.
    """
    import matplotlib.pyplot as plt

    widest = max(board_width(panels) for panels, _ in boards)
    tallest = max(max(len(grid) for _, grid in panels) for panels, _ in boards)
    frame_w = widest * cell_inches + 0.3
    cols = max(1, min(len(boards), max_cols, int(18 / frame_w)))
    rows = -(-len(boards) // cols)
    cols = -(-len(boards) // rows)  # balance the rows: 2 + 2 rather than 3 + 1
    height = (tallest + 4.5) * cell_inches * rows
    fig, axes = plt.subplots(rows, cols, figsize=(frame_w * cols, height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (panels, caption), title in zip(axes.flat, boards, titles):
        draw_board(ax, panels, caption)
        ax.set_title(title, fontsize=8, loc="left")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.3 / height, wspace=0.08,
                        hspace=0.3 / (height / rows))
    return figure_png(fig, dpi, tight=False)


def figure_png(fig, dpi=90, tight=True):
    """Save and close a matplotlib figure; return PNG bytes (tight: crop to what is drawn)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None,
                facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def png_uri(png):
    """PNG bytes as a data: URI for an <img>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
