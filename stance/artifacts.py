"""Write and read a model directory: the pipeline, its numpy-only twin, and their metadata.

A model directory holds
- `model.joblib`: the fitted scikit-learn `Pipeline` (for evaluate, explain, suggest);
- `weights.npz`: the same model as plain arrays, read without pickle (for predict);
- `metadata.json`: which data, which code, which settings, how good.

A directory is written whole into a temporary sibling and renamed into place, so a failed or
interrupted `train` leaves the previous model untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from importlib import metadata as importlib_metadata
from pathlib import Path

from stance import __version__
from stance.errors import ModelError

FORMAT_VERSION = 1
PIPELINE_FILE = "model.joblib"
WEIGHTS_FILE = "weights.npz"
METADATA_FILE = "metadata.json"


def library_versions() -> dict[str, str]:
    """Versions of the code a model depends on, read without importing the libraries."""
    versions = {"stance": __version__, "python": sys.version.split()[0]}
    for name in ("scikit-learn", "numpy", "pandas", "joblib"):
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def save_model(directory: Path, pipeline, compiled, metadata: dict) -> Path:
    """Write a model directory atomically; return its path."""
    import joblib

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if directory.exists() and not directory.is_dir():
        raise ModelError(f"{directory}: exists and is not a directory. Choose another --model path.")
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; a model directory is not
    try:
        joblib.dump(pipeline, staging / PIPELINE_FILE)
        compiled_settings = compiled.save(staging / WEIGHTS_FILE)
        metadata = {"format_version": FORMAT_VERSION, **metadata, "versions": library_versions(),
                    "compiled": compiled_settings}
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        if directory.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            os.replace(directory, retired / directory.name)
            os.replace(staging, directory)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def read_metadata(directory: Path) -> dict:
    """Read and check a model's metadata; raise ModelError naming the fix when it is unusable."""
    directory = Path(directory)
    fix = f'Train one with "stance train --model {directory}".'
    if not directory.is_dir():
        raise ModelError(f"{directory}: no model directory there. {fix}")
    path = directory / METADATA_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing, so this is not a complete model. {fix}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: corrupt ({err.__class__.__name__}). {fix}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        found = meta.get("format_version") if isinstance(meta, dict) else None
        raise ModelError(f"{path}: model format {found!r}, this stance reads format {FORMAT_VERSION}. {fix}")
    return meta


def _load_part(directory: Path, filename: str, loader):
    """Metadata checked first, then one file of the model read by `loader`; any failure to read
    it (a damaged npz fails in zipfile or numpy, unpickling garbage in anything from EOFError to
    KeyError) is a ModelError naming the file and the fix."""
    meta = read_metadata(directory)
    path = Path(directory) / filename
    retrain = f'Retrain with "stance train --model {directory}".'
    try:
        return loader(path, meta), meta
    except FileNotFoundError:
        raise ModelError(f"{path}: missing. {retrain}") from None
    except ModelError:
        raise
    except Exception as err:
        raise ModelError(f"{path}: corrupt ({err.__class__.__name__}). {retrain}") from None


def load_compiled(directory: Path):
    """The numpy-only model for prediction, and its metadata."""
    from stance.compiled import CompiledModel

    return _load_part(directory, WEIGHTS_FILE, lambda path, meta: CompiledModel.load(path, meta["compiled"]))


def check_pickle_compatible(directory: Path, meta: dict) -> None:
    """A pickled pipeline is read only by the scikit-learn release line that wrote it (patch
    releases differ in fixes, not in their objects' layout); the numpy model has no such limit."""
    saved = str(meta.get("versions", {}).get("scikit-learn"))
    installed = library_versions()["scikit-learn"]
    if saved.split(".")[:2] != installed.split(".")[:2]:
        raise ModelError(
            f"{Path(directory) / METADATA_FILE}: the pickled pipeline was saved with scikit-learn {saved}, this "
            f"environment has {installed}; unpickling is only safe within one release line. Retrain with "
            f'"stance train --model {directory}", install scikit-learn=={saved}, or use the numpy model '
            "(stance.load(path), which reads no pickle).")


def load_pipeline(directory: Path):
    """The scikit-learn pipeline, and its metadata.

    Unpickling runs whatever code the file names: load only models you trained yourself. The
    numpy model (`load_compiled`) reads arrays and JSON only, and serves every command."""
    import joblib

    def read(path, meta):
        check_pickle_compatible(directory, meta)
        return joblib.load(path)

    return _load_part(directory, PIPELINE_FILE, read)
