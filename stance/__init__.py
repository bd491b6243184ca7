"""stance: label news sentences by their stance on local cooperation with federal immigration
enforcement (cooperate, decline, neutral)."""

__version__ = "0.1.0"

LABELS = ("cooperate", "decline", "neutral")
