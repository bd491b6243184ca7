"""Beyond one machine: the same numpy model over a Dask DataFrame (the `dask` extra).

    >>> import dask.dataframe as dd
    >>> from stance.dask import predict_partitions
    >>> frame = dd.read_parquet("archive/*.parquet")
    >>> predict_partitions(frame, text="text").to_parquet("labelled/")

Each partition is labelled where it lies, by a model that each worker process loads once (a
cache keyed by the model directory's path), so the model is never shipped with the tasks: the
directory must be readable at the same path on every worker (a shared file system, or the
model shipped inside the installed package, which `model=None` finds). The result has the
input's columns, then `label` and one `p_<class>` column per class, as `stance predict` gives.

`stance predict --dask ADDRESS|local --file 'in/*.parquet' --output out_dir/` runs
`predict_files`, which does the same from the command line.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from stance.errors import InputFileError, InvalidTextError, UsageError

_MODELS: dict[str, object] = {}  # in each worker process: model directory -> model
_MODELS_LOCK = threading.Lock()


def _require():
    """dask.dataframe and distributed, or a one-line UsageError saying how to install them."""
    try:
        import dask.dataframe
        import distributed
    except ImportError:
        raise UsageError("Dask needs the dask extra: pip install 'stance[dask]'") from None
    return dask.dataframe, distributed


def cached_model(path: str):
    """The model of directory `path`, loaded once per process and shared by the worker's task
    threads (the model is safe to call from several threads at once)."""
    with _MODELS_LOCK:
        model = _MODELS.get(path)
        if model is None:
            from stance.api import load

            model = _MODELS[path] = load(path)
    return model


def model_path(model=None) -> str:
    """The absolute model directory for `model`: None (stance's default), a path, or a
    StanceClassifier loaded from a directory."""
    from stance.api import StanceClassifier, default_model_dir

    if model is None:
        return str(default_model_dir().resolve())
    if isinstance(model, StanceClassifier):
        if not hasattr(model, "path_"):
            raise UsageError("predict_partitions: this model was not loaded from a directory; save it "
                             "(model.save(directory)) and pass the directory, so workers can load it.")
        return str(Path(model.path_).resolve())
    return str(Path(model).resolve())


def label_partition(frame, text: str, path: str, min_prob: float = 0.0, explain: int = 0, names=None,
                    partition_info=None):
    """One pandas partition with `label` and `p_<class>` columns added (and `explanation` with
    `explain`); InvalidTextError naming the partition (or its file, from `names`) and the row
    (from 1) of the first text that is missing, not a string or empty."""
    from stance.predict import label_texts

    number = partition_info["number"] if partition_info else 0
    where = names[number] if names and number < len(names) else f"partition {number}"
    import pandas as pd

    texts = frame[text].tolist()
    for row, value in enumerate(texts, start=1):
        if not isinstance(value, str):
            kind = "null" if pd.api.types.is_scalar(value) and pd.isna(value) else f"{type(value).__name__}, not a string"
            raise InvalidTextError(f"{where} row {row}: text is {kind}. Drop the rows without text, or fill them.")
        if not value.strip():
            raise InvalidTextError(f"{where} row {row}: empty sentence. Remove the row or give it text.")
    labelled = label_texts(cached_model(path), texts, min_prob, explain)
    out = frame.copy(deep=False)
    out["label"] = labelled.labels
    for k, c in enumerate(labelled.classes):
        out[f"p_{c}"] = labelled.proba[:, k]
    if explain:
        out["explanation"] = labelled.explanations
    return out


def predict_partitions(ddf, text: str = "text", model=None, min_prob: float = 0.0, explain: int = 0, names=None):
    """A Dask DataFrame labelled partition by partition (lazily: nothing runs until it is
    computed or written): the input's columns, then `label` and `p_<class>` per class.

    `model`: None (stance's default model), a model directory, or a StanceClassifier loaded from
    one; workers load it from that path, once each. `names`: what to call each partition in an
    error message (its file), else "partition N"."""
    import pandas as pd

    _require()
    if text not in ddf.columns:
        raise UsageError(f"text column {text!r} not in the frame (columns: {', '.join(map(str, ddf.columns))}). "
                         "Name it with text=.")
    path = model_path(model)
    classes = cached_model(path).classes_  # a damaged model fails here, not on every worker
    added = [name for name in ("label", *(f"p_{c}" for c in classes)) if name in ddf.columns]
    if added:
        raise UsageError(f"the frame already has a column {added[0]!r}, which labelling adds; rename it first.")
    meta = ddf._meta.copy(deep=False)
    meta["label"] = pd.Series([], dtype="str")
    for c in classes:
        meta[f"p_{c}"] = pd.Series([], dtype="float64")
    if explain:
        meta["explanation"] = pd.Series([], dtype="str")
    return ddf.map_partitions(label_partition, text, path, min_prob, explain, names, meta=meta)


def _is_url(path: str) -> bool:
    return "://" in str(path)


def input_files(pattern: str) -> list[str]:
    """The Parquet files a --file pattern names (a glob, a directory of them, or one file), in
    sorted order; a URL is left for Dask to expand."""
    if _is_url(pattern):
        return [pattern]
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, "*.parquet")
    files = sorted(glob.glob(os.path.expanduser(pattern)))
    if not files:
        raise InputFileError(f"{pattern}: no such files. Check the path, and quote the pattern so that Dask, not "
                             "the shell, expands it.")
    return files


def connect(address: str):
    """A distributed.Client: of a new LocalCluster of one single-threaded worker process per
    core for "local", else of the scheduler at `address`."""
    _, distributed = _require()
    if address == "local":
        from stance.parallel import available_cores

        # Workers' logs stay quiet: a bad row comes back to the client as its one-line error.
        cluster = distributed.LocalCluster(n_workers=available_cores(), threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.CRITICAL)
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(address, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(f"--dask {address}: no Dask scheduler answers there ({' '.join(str(err).split())}). "
                         "Give the scheduler's address (tcp://host:8786), or local.") from None


def predict_files(address: str, pattern: str, output, model=None, text: str = "text", min_prob: float = 0.0,
                  explain: int = 0, progress=None) -> dict:
    """Label the Parquet files of `pattern` on a Dask cluster into the directory `output`, one
    partition (and one output file, part.N.parquet) per input file. A local `output` appears
    only when complete: it is written beside, under a temporary name, then renamed. Returns
    counts: rows, inputs, files, and which cluster."""
    dd, _ = _require()
    files = input_files(pattern)
    output = str(output)
    client, cluster = connect(address)
    try:
        frame = dd.read_parquet(files, split_row_groups=False)
        if text not in frame.columns:
            raise InputFileError(f"{pattern}: no column {text!r} (columns: {', '.join(map(str, frame.columns))}). "
                                 "Name the text column with --text-column.")
        labelled = predict_partitions(frame, text, model, min_prob, explain, names=files)
        with staged_directory(output, files) as target:
            labelled.to_parquet(target, write_index=False)
        rows, written = 0, []
        if not _is_url(output):  # counted from the footers of what was written
            from stance.parquet import pyarrow

            pa = pyarrow()
            written = sorted(p for p in os.listdir(output) if p.endswith(".parquet"))
            rows = sum(pa.parquet.ParquetFile(os.path.join(output, p)).metadata.num_rows for p in written)
        where = "a local cluster" if cluster is not None else address
        return {"rows": rows, "inputs": len(files), "files": len(written), "cluster": where}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class staged_directory:
    """A directory for the output that appears only when complete: the work goes into a hidden
    directory beside it, renamed on success and removed on failure. An existing output
    directory must be empty (so old parts cannot mix with new ones) and may not be an input's."""

    def __init__(self, output: str, inputs):
        self.output, self.inputs, self.staging = output, inputs, None

    def __enter__(self) -> str:
        if _is_url(self.output):
            return self.output
        target = Path(self.output)
        if target.exists() and not target.is_dir():
            raise InputFileError(f"{self.output}: is a file; give a directory for --output (it gets a Parquet file "
                                 "per input file).")
        if target.is_dir() and any(target.iterdir()):
            raise InputFileError(f"{self.output}: is not empty; give a new or empty directory for --output, so "
                                 "that old results cannot mix with new ones.")
        resolved = target.resolve()
        for source in self.inputs:
            if not _is_url(source) and Path(source).resolve().parent == resolved:
                raise InputFileError(f"{self.output}: holds inputs of this run ({source}); give another directory.")
        parent = resolved.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.staging = tempfile.mkdtemp(prefix=f".{resolved.name}.", dir=parent)
        except OSError as err:
            raise InputFileError(f"{self.output}: cannot be written ({err.strerror or err}).") from None
        return self.staging

    def __exit__(self, kind, error, traceback) -> None:
        if self.staging is None:
            return
        if kind is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        target = Path(self.output)
        if target.is_dir():
            target.rmdir()  # empty, checked on entry
        os.replace(self.staging, target)
