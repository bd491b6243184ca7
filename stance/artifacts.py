"""Write and read a model directory: the pipeline, its numpy-only twin, and their metadata.

A model directory holds
- `weights-<sha>.npz`: the model as plain arrays, read without pickle (every command uses it);
- `model-<sha>.joblib`: the fitted scikit-learn `Pipeline` (`stance.load(path, backend="sklearn")`);
- `metadata.json`: which data, which code, which settings, how good, and the name, size and
  sha256 of each of the two files above.

Replacing a model is one atomic step: the new files are written under new names beside the old
ones, then `metadata.json` is replaced by rename, then the files it no longer names are removed.
A reader that opens the directory at any moment sees one whole model, old or new; a train that is
killed leaves the old one. A lock file beside the directory (`.<name>.lock`, there while a train
holds it) lets one train at a time write it.

Loading checks `metadata.json` against a schema (types, ranges, finite numbers, the settings
against each other, classes against array shapes) and each file against its recorded size and
sha256 before anything is computed, and reads the bytes it verified, never the file a second
time. Only regular files are read (a fifo or /dev/zero named metadata.json would never end).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata as importlib_metadata
from pathlib import Path

from stance import __version__
from stance.errors import ModelError

FORMAT_VERSION = 2
METADATA_FILE = "metadata.json"
PARTS = {"weights": ("weights", ".npz"), "pipeline": ("model", ".joblib")}
MAX_NGRAM = 10  # longer n-grams are refused (an n-gram range of [1, 1e9] would never finish)
_PART_NAME = re.compile(r"^(weights-[0-9a-f]{12}\.npz|model-[0-9a-f]{12}\.joblib)$")
MAX_METADATA_BYTES = 10_000_000  # a metadata.json is a few kilobytes
_HELD: set[str] = set()


def library_versions() -> dict[str, str]:
    """Versions of the code a model depends on, read without importing the libraries."""
    versions = {"stance": __version__, "python": sys.version.split()[0]}
    for name in ("scikit-learn", "numpy", "pandas", "joblib"):
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@contextmanager
def model_lock(directory: Path):
    """Hold `.<name>.lock` beside a model directory for one writer at a time; a second writer
    fails at once with a ModelError rather than waiting or interleaving. Re-entrant in a process.

    Checked first, before any work: that the directory (through links: two spellings of one
    directory share one lock) is a directory or can be made, and can be written. The lock file
    is removed when the writer is done, and so are the folders made for a model that was never
    written (a failed or stopped first train leaves nothing behind)."""
    directory = Path(directory)
    real = Path(os.path.realpath(directory))
    key = str(real)
    if key in _HELD:
        yield
        return
    from stance.outputs import missing_folders

    cannot = "Choose a --model folder you may write."
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as err:  # a folder above it that this user may not enter, say
        raise ModelError(f"{directory}: cannot be written ({err.strerror}). {cannot}") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise ModelError(f"{directory}: exists and is not a directory. Choose another --model path.")
    made: list[Path] = []
    path = real.parent / f".{real.name}.lock"
    try:
        _, made = missing_folders(real)
        for folder in reversed(made):
            folder.mkdir()
        handle = _locked(path, directory)
    except OSError as err:
        _remove_folders(made)
        raise ModelError(f"{directory}: cannot be written ({err.strerror or err}). {cannot}") from None
    except ModelError:
        _remove_folders(made)
        raise
    try:
        if real.is_dir() and not os.access(real, os.W_OK | os.X_OK):
            raise ModelError(f"{directory}: cannot be written (Permission denied). {cannot}")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        _HELD.add(key)
        yield
    finally:
        _HELD.discard(key)
        try:  # removed while still held: whoever opens the path next gets a new file (see _locked)
            path.unlink()
        except FileNotFoundError:
            pass
        handle.close()
        if not real.exists():
            _remove_folders(made)


def _locked(path: Path, directory: Path):
    """The lock file at `path`, open and locked, or ModelError naming the holder. A file removed
    by its last holder between our open and our lock is not the lock any more: open it again."""
    import fcntl

    while True:
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ModelError(f"{directory}: another stance train is writing this model ({holder}); wait for it "
                             "to finish or choose another --model.") from None
        except BaseException:
            handle.close()
            raise
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(handle.fileno()).st_ino:
            return handle
        handle.close()


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            break


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_part(directory: Path, part: str, data: bytes, mode: int) -> dict:
    """Write one model file under a name that carries its hash (so it never overwrites the file
    a reader may be opening); return its entry for metadata.json."""
    digest = sha256_bytes(data)
    stem, suffix = PARTS[part]
    name = f"{stem}-{digest[:12]}{suffix}"
    _atomic_write(directory / name, data, mode)
    return {"name": name, "bytes": len(data), "sha256": digest}


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, mode)
        os.replace(staging, path)
    except BaseException:
        try:
            os.unlink(staging)
        except FileNotFoundError:
            pass
        raise


def save_model(directory: Path, pipeline, compiled, metadata: dict) -> Path:
    """Write a model into `directory` (created if needed), replacing the model there in one
    atomic step; return its path."""
    import joblib

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ModelError(f"{directory}: exists and is not a directory. Choose another --model path.")
    umask = os.umask(0)
    os.umask(umask)
    with model_lock(directory):
        directory.mkdir(parents=True, exist_ok=True)
        before = {path.name for path in directory.iterdir()}
        try:
            buffer = io.BytesIO()
            compiled_settings = compiled.save(buffer)
            files = {"weights": _write_part(directory, "weights", buffer.getvalue(), 0o666 & ~umask)}
            buffer = io.BytesIO()
            joblib.dump(pipeline, buffer)
            files["pipeline"] = _write_part(directory, "pipeline", buffer.getvalue(), 0o666 & ~umask)
            metadata = {"format_version": FORMAT_VERSION, "classes": list(compiled_settings["classes"]), **metadata,
                        "versions": library_versions(), "compiled": compiled_settings, "files": files}
            text = json.dumps(metadata, indent=2, sort_keys=False) + "\n"
            _atomic_write(directory / METADATA_FILE, text.encode("utf-8"), 0o666 & ~umask)  # the one atomic step
        except BaseException:
            for path in directory.iterdir():  # files of the new model that never became current
                if path.name not in before and _PART_NAME.match(path.name):
                    path.unlink()
            raise
        keep = {entry["name"] for entry in files.values()} | {METADATA_FILE}
        for path in directory.iterdir():
            stale = _PART_NAME.match(path.name) or path.name in ("weights.npz", "model.joblib") or \
                (path.name.startswith(".") and path.name.endswith(".tmp"))
            if stale and path.name not in keep:
                try:
                    path.unlink()
                except OSError:
                    pass
    return directory


def _bad(path: Path, field: str, problem: str, fix: str) -> ModelError:
    return ModelError(f"{path}: {field} {problem}. {fix}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_params(params, where: str = "params") -> None:
    """The hyper-parameters metadata.json records, as ModelConfig reads them; ValueError if not."""
    allowed = {"C", "word_ngram", "sublinear_tf", "min_df", "char_ngram", "scope"}
    if not isinstance(params, dict) or not set(params) <= allowed:
        raise ValueError(f"{where} must be an object with keys among {', '.join(sorted(allowed))}")
    if "C" in params and not (_is_number(params["C"]) and params["C"] > 0):
        raise ValueError(f"{where}.C must be a positive number")
    for name in ("word_ngram", "char_ngram"):
        value = params.get(name, [1, 1])
        if name == "char_ngram" and value is None:
            continue
        if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)
                and 1 <= value[0] <= value[1] <= MAX_NGRAM):
            raise ValueError(f"{where}.{name} must be [low, high] with 1 <= low <= high <= {MAX_NGRAM}")
    if "min_df" in params and not (_is_int(params["min_df"]) and params["min_df"] >= 1):
        raise ValueError(f"{where}.min_df must be a positive integer")
    for name in ("sublinear_tf", "scope"):
        if name in params and not isinstance(params[name], bool):
            raise ValueError(f"{where}.{name} must be true or false")


def _is_count(value) -> bool:
    return _is_int(value) and 0 <= value < 2**63


def _not_finite(value, where: str = "") -> str | None:
    """The first field holding NaN or an infinity (JSON's NaN, Infinity, 1e999), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = _not_finite(child, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key)
        if found:
            return found
    return None


# What the fields that describe a model must hold when they are there (a model fitted and saved
# through the Python API has fewer of them): (valid?, what it must be).
_DESCRIPTION = {
    "rows": (_is_count, "a count of rows"),
    "labels_file": (lambda v: isinstance(v, str), "a file name"),
    "labels_sha256": (lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v), "a sha256 (64 hex digits)"),
    "trained_at": (lambda v: isinstance(v, str), "a date and time"),
    "training_seconds": (lambda v: _is_number(v) and v >= 0, "a number of seconds"),
    "temperature": (lambda v: _is_number(v) and 1e-3 <= v <= 1e3, "a number from 0.001 to 1000"),
    "seed": (lambda v: _is_int(v) and 0 <= v < 2**32, "an integer from 0 to 4294967295"),
    "label_counts": (lambda v: isinstance(v, dict), "an object of counts"),
    "cv": (lambda v: isinstance(v, dict), "an object"),
}
_CV = {
    "macro_f1_mean": (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "macro_f1_std": (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "folds": (lambda v: _is_int(v) and 2 <= v < 2**31, "a number of folds"),
    "grouped_by": (lambda v: v is None or isinstance(v, str), "a column name or null"),
    "upper_bound": (lambda v: isinstance(v, bool), "true or false"),
}


def _check_description(meta: dict, path: Path, fix: str) -> None:
    for fields, where, node in ((_DESCRIPTION, "", meta), (_CV, "cv.", meta.get("cv") or {})):
        for name, (valid, what) in fields.items():
            if name in node and not valid(node[name]):
                raise _bad(path, where + name, f"is {node[name]!r:.40}; it must be {what}", fix)
    counts = meta.get("label_counts")
    for label, count in (counts or {}).items():
        if not _is_count(count):
            raise _bad(path, f"label_counts.{label}", f"is {count!r:.40}; it must be a count of rows", fix)
    if counts is not None and list(counts) != meta["classes"]:
        raise _bad(path, "label_counts", f"names {list(counts)}, but classes are {meta['classes']}", fix)


def _check_settings_agree(meta: dict, path: Path, fix: str) -> None:
    """params (what was chosen) and compiled.blocks (what is computed) describe one model: a
    field edited in one of them would change predictions silently or break learning-curve."""
    params = meta.get("params", {})
    blocks = {block["analyzer"]: (b, block) for b, block in enumerate(meta["compiled"]["blocks"])}
    checks = []
    if "word_ngram" in params:
        checks.append(("word", "ngram_range", params["word_ngram"], "word_ngram"))
    if "scope" in params and "word" in blocks:
        b, block = blocks["word"]
        if ("scope_version" in block) != params["scope"]:
            raise _bad(path, f"compiled.blocks[{b}].scope_version", f"{'is there' if 'scope_version' in block else 'is missing'}"
                       f" while params.scope is {str(params['scope']).lower()}", fix)
    if "char_ngram" in params:
        if params["char_ngram"] is None and "char_wb" in blocks:
            raise _bad(path, "params.char_ngram", "is null, but compiled.blocks has character n-grams", fix)
        if params["char_ngram"] is not None:
            checks.append(("char_wb", "ngram_range", params["char_ngram"], "char_ngram"))
    for analyzer, field, expected, name in checks:
        if analyzer not in blocks:
            raise _bad(path, f"params.{name}", f"is {expected}, but compiled.blocks has no {analyzer} block", fix)
        b, block = blocks[analyzer]
        if block[field] != expected:
            raise _bad(path, f"compiled.blocks[{b}].{field}", f"is {block[field]}, but params.{name} is {expected}", fix)
    if "sublinear_tf" in params:
        for b, block in enumerate(meta["compiled"]["blocks"]):
            if block["sublinear_tf"] != params["sublinear_tf"]:
                raise _bad(path, f"compiled.blocks[{b}].sublinear_tf", "disagrees with params.sublinear_tf", fix)


def check_metadata(meta, path: Path, fix: str) -> dict:
    """Types and ranges of every field, before anything is computed; the settings against each other."""
    if not isinstance(meta, dict):
        raise _bad(path, "the file", "is not a JSON object", fix)
    where = _not_finite(meta)
    if where:
        raise _bad(path, where, "is not a finite number (NaN or infinite)", fix)
    found = meta.get("format_version")
    if found != FORMAT_VERSION or not _is_int(found):
        raise ModelError(f"{path}: model format {found!r}, this stance reads format {FORMAT_VERSION}. {fix}")
    classes = meta.get("classes")
    if not (isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) and c for c in classes)
            and len(set(classes)) == len(classes)):
        raise _bad(path, "classes", "must be a list of two or more distinct labels", fix)
    for name in ("versions",):
        if not (isinstance(meta.get(name), dict) and all(isinstance(v, str) for v in meta[name].values())):
            raise _bad(path, name, "must be an object of strings", fix)
    try:
        check_params(meta.get("params", {}))
    except ValueError as err:
        raise ModelError(f"{path}: {err}. {fix}") from None
    compiled = meta.get("compiled")
    if not isinstance(compiled, dict) or compiled.get("classes") != classes:
        raise _bad(path, "compiled.classes", "must equal classes", fix)
    temperature = compiled.get("temperature")
    if not (_is_number(temperature) and 1e-3 <= temperature <= 1e3):
        raise _bad(path, "compiled.temperature", f"is {temperature!r}; it must be a number from 0.001 to 1000", fix)
    blocks = compiled.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise _bad(path, "compiled.blocks", "must be a non-empty list", fix)
    for b, block in enumerate(blocks):
        where = f"compiled.blocks[{b}]"
        if not isinstance(block, dict) or block.get("analyzer") not in ("word", "char_wb"):
            raise _bad(path, f"{where}.analyzer", "must be word or char_wb", fix)
        ngram = block.get("ngram_range")
        if not (isinstance(ngram, list) and len(ngram) == 2 and all(_is_int(v) for v in ngram)
                and 1 <= ngram[0] <= ngram[1] <= MAX_NGRAM):
            raise _bad(path, f"{where}.ngram_range", f"must be [low, high] with 1 <= low <= high <= {MAX_NGRAM}", fix)
        if not isinstance(block.get("sublinear_tf"), bool):
            raise _bad(path, f"{where}.sublinear_tf", "must be true or false", fix)
        if not (_is_int(block.get("features")) and 0 <= block["features"] <= 10**8):
            raise _bad(path, f"{where}.features", "must be a count of features", fix)
        if "scope_version" in block and not (_is_int(block["scope_version"]) and block["scope_version"] >= 1):
            raise _bad(path, f"{where}.scope_version", "must be a positive integer", fix)
    files = meta.get("files")
    for part in PARTS:
        entry = files.get(part) if isinstance(files, dict) else None
        stem, suffix = PARTS[part]
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and re.fullmatch(rf"{stem}-[0-9a-f]{{12}}\{suffix}", entry["name"])
                and isinstance(entry.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])):
            raise _bad(path, f"files.{part}", f"must name a {stem}-<hash>{suffix} file of this directory and its sha256",
                       fix)
        if "bytes" in entry and not _is_count(entry["bytes"]):
            raise _bad(path, f"files.{part}.bytes", "must be the file's size in bytes", fix)
    _check_description(meta, path, fix)
    _check_settings_agree(meta, path, fix)
    return meta


def _read_regular(path: Path, fix: str, size: int | None = None, limit: int | None = None) -> bytes:
    """The bytes of a regular file, opened without waiting (a fifo would wait for a writer
    forever) and refused when it is not a regular file, not the `size` recorded, or beyond `limit`."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ModelError(f"{path}: is a directory, not a file. {fix}")
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"{path}: not a regular file (a device, fifo or socket). {fix}")
        if size is not None and st.st_size != size:
            raise ModelError(f"{path}: {st.st_size:,} bytes where metadata.json records {size:,}, so the file was "
                             f"changed or damaged after training. {fix}")
        if limit is not None and st.st_size > limit:
            raise ModelError(f"{path}: {st.st_size:,} bytes, far more than a model's metadata. {fix}")
        return handle.read()


def read_metadata(directory: Path) -> dict:
    """Read and check a model's metadata; raise ModelError naming the fix when it is unusable."""
    directory = Path(directory)
    fix = f'Train one with "stance train --model {directory}".'
    if not directory.is_dir():
        raise ModelError(f"{directory}: no model directory there. {fix}")
    path = directory / METADATA_FILE
    try:
        raw = _read_regular(path, fix, limit=MAX_METADATA_BYTES)
    except FileNotFoundError:
        raise ModelError(f"{path}: missing, so this is not a complete model. {fix}") from None
    except OSError as err:
        raise ModelError(f"{path}: cannot be read ({err.strerror}).") from None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # ValueError: bad JSON, 5,000-digit numbers
        raise ModelError(f"{path}: corrupt ({err.__class__.__name__}). {fix}") from None
    return check_metadata(meta, path, fix)


def _read_part(directory: Path, meta: dict, part: str) -> tuple[Path, bytes]:
    """One model file's bytes, checked against the sha256 metadata.json records."""
    entry = meta["files"][part]
    path = Path(directory) / entry["name"]
    retrain = f'Retrain with "stance train --model {directory}".'
    try:
        data = _read_regular(path, retrain, size=entry.get("bytes"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing. {retrain}") from None
    except OSError as err:
        raise ModelError(f"{path}: cannot be read ({err.strerror}).") from None
    if sha256_bytes(data) != entry["sha256"]:
        raise ModelError(f"{path}: its sha256 is not the one metadata.json records, so the file was changed or "
                         f"damaged after training. {retrain}")
    return path, data


def _load_part(directory: Path, part: str, loader):
    """Metadata checked, then one file of the model verified and read by `loader(bytes, meta)`.
    A file that vanished because a train replaced the model meanwhile is read again from the new
    metadata, once."""
    for attempt in (1, 2):
        meta = read_metadata(directory)
        try:
            path, data = _read_part(directory, meta, part)
            break
        except ModelError:
            if attempt == 2 or (Path(directory) / meta["files"][part]["name"]).exists():
                raise
    retrain = f'Retrain with "stance train --model {directory}".'
    try:
        return loader(data, meta), meta
    except ModelError:
        raise
    except Exception as err:
        raise ModelError(f"{path}: corrupt ({err.__class__.__name__}). {retrain}") from None


def load_compiled(directory: Path):
    """The numpy-only model for prediction, and its metadata."""
    from stance.compiled import CompiledModel

    def read(data, meta):
        return CompiledModel.load(io.BytesIO(data), meta["compiled"], name=str(Path(directory) / meta["files"]["weights"]["name"]))

    return _load_part(directory, "weights", read)


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
    bytes unpickled are the bytes whose sha256 metadata.json records, which catches damage and
    tampering with the pickle alone, not a directory rewritten whole. The numpy model
    (`load_compiled`) reads arrays and JSON only, and serves every command."""
    import joblib

    def read(data, meta):
        check_pickle_compatible(directory, meta)
        return joblib.load(io.BytesIO(data))

    return _load_part(directory, "pipeline", read)
