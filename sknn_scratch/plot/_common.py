"""What the displays share: matplotlib imported only when something is drawn, TensorFlow
Playground's colour scale, and the small pieces of drawing that several displays repeat."""

from __future__ import annotations

# TensorFlow Playground's colours (its ``colorScale``, domain [-1, 0, 1]): orange for negative
# values, blue for positive ones, a light grey for zero. Its grey (#e8eaeb) is a little blue;
# a neutral one keeps every negative value on the orange side, however small.
_PLAYGROUND_COLORS = ("#f59322", "#e9e9e9", "#0877bd")


def _import_pyplot(caller: str):
    """Import ``matplotlib.pyplot``, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it with "
            "`pip install matplotlib`."
        ) from exc
    return plt


def _playground_cmap(cmap=None):
    """``cmap`` as a colormap; the Playground's orange-grey-blue one when None."""
    from matplotlib.colors import LinearSegmentedColormap

    if cmap is None:
        return LinearSegmentedColormap.from_list("playground", _PLAYGROUND_COLORS)
    import matplotlib

    return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap


def _count(n: int, noun: str) -> str:
    """``"1 unit"``, ``"2 units"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _hide_spines(ax) -> None:
    """Hide the frame of ``ax``: its four spines."""
    for spine in ax.spines.values():
        spine.set_visible(False)


def _set_title_if_any(ax, title: str | None) -> None:
    """Give ``ax`` its title, unless the title is None or empty."""
    if title:
        ax.set_title(title)


def _draw_colorbar(ax, norm, cmap, label: str):
    """A colour bar of ``cmap`` over ``norm``, under ``ax`` and narrower than it."""
    from matplotlib.cm import ScalarMappable

    return ax.figure.colorbar(
        ScalarMappable(norm, cmap),
        ax=ax,
        location="bottom",
        shrink=0.6,
        aspect=30,
        label=label,
    )
