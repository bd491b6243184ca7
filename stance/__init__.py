"""stance: label news sentences by their stance on local cooperation with federal immigration
enforcement (cooperate, decline, neutral).

The Python API (docs/api.md): `stance.load`, `stance.train`, `stance.evaluate`,
`stance.cross_validate`, `stance.StanceClassifier`. They are imported on first use, so
`import stance` stays cheap.
"""

__version__ = "0.1.0"

LABELS = ("cooperate", "decline", "neutral")

_API = ("load", "train", "evaluate", "cross_validate", "StanceClassifier", "Report", "default_model_dir")
__all__ = ["LABELS", "__version__", *_API]


def __getattr__(name):
    if name in _API:
        from stance import api

        return getattr(api, name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
