"""matplotlib for the --plot options, which are the only users of it (the `plots` extra)."""

from __future__ import annotations

from stance.errors import UsageError


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, or a UsageError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError('--plot needs matplotlib, which is not installed: pip install "stance[plots]".') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
