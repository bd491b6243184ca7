"""The `stance` command: argv in, library calls, text and files out.

This is the only module that prints, exits or catches `StanceError`. Heavy libraries
(scikit-learn, pandas, matplotlib) are imported inside the commands that need them, so
`stance --help` and `stance predict` start quickly.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from stance import LABELS, __version__
from stance.errors import StanceError, UsageError

DEFAULT_LABELS = Path("labels.csv")
DEFAULT_MODEL = Path("models/default")

app = typer.Typer(
    name="stance",
    help="Label news sentences by their stance on local cooperation with federal immigration enforcement "
    "(cooperate, decline, neutral). Data goes to stdout, messages to stderr.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Paths are not checked by the option parser (typer would refuse an unreadable one with exit 2):
# stance's readers and writers report a missing or unreadable file in one line naming it and the
# fix, exit 1, as any other bad input.
def PathOption(default, *names, **options):
    return typer.Option(default, *names, readable=False, **options)


def PathArgument(default, **options):
    return typer.Argument(default, readable=False, **options)


ModelOption = PathOption(None, "--model", show_default=False,
                           help="Model directory (written by `stance train`). Default: $STANCE_MODEL, else "
                           "./models/default if there is one, else the model shipped with stance.")


def _load(model: Optional[Path]):
    """The model for a command, through the Python API (stance.load)."""
    from stance.api import load

    return load(model)


def _model_files(model) -> list[Path]:
    """The files a loaded model was read from: inputs of the run, never to be written over."""
    return [model.path_ / "metadata.json", *(model.path_ / entry["name"] for entry in model.metadata["files"].values())]


def command(function):
    """Register a command whose `StanceError` becomes one line on stderr and exit status 1."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        from stance.errors import OutputError
        from stance.outputs import standard_output

        try:
            result = function(*args, **kwargs)
            standard_output().flush()  # what is still buffered fails here, not at exit, if it fails
            return result
        except StanceError as err:
            say(f"stance: error: {err}")
            if isinstance(err, OutputError):
                _silence_stdout()  # the rest of the buffer would fail again at exit
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # `stance predict ... | head -1`: the reader left, nothing is wrong. Later writes and
            # the final flush go nowhere instead of failing again.
            _silence_stdout()
            raise typer.Exit(0) from None

    return app.command(name=function.__name__.replace("_", "-"))(run)


def say(message: str) -> None:
    """A message for people: stderr, so stdout stays clean data."""
    print(message, file=sys.stderr, flush=True)


def echo(text: str = "") -> None:
    """Data: stdout, whose write errors (a full disk, a closed stdout) become one line."""
    from stance.outputs import standard_output

    standard_output().write(f"{text}\n")


def _finite(value: float) -> float:
    """Click's ranges let NaN through (every comparison with it is false)."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number.")
    return value


SEED_RANGE = dict(min=0, max=2**32 - 1)  # what numpy and scikit-learn accept as a seed


def check_plot(path: Optional[Path]) -> Optional[Path]:
    """A --plot path checked before any work: PNG only, a regular file (as given, before .png is
    added: --plot /dev/null must not become /dev/null.png), in a folder that can be made and
    written. The folder is made when the plot is written, and removed again if the run fails."""
    import stat

    from stance.outputs import check_output

    if path is None:
        return None
    if path.suffix.lower() not in ("", ".png"):
        raise UsageError(f"--plot {path}: plots are written as PNG; give a name ending in .png.")
    for candidate in (path, path.with_suffix(".png")):
        st = check_output(candidate, option="--plot")
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise UsageError(f"--plot {path}: is standard output; give a file name ending in .png.")
    return path.with_suffix(".png")


def _write_plot(path: Path, draw) -> None:
    """`draw(file)` writes the PNG; the file appears only once it is complete (stance.outputs)."""
    from stance.outputs import output_stream

    with output_stream(str(path), option="--plot", binary=True) as handle:
        draw(handle)
    say(f"plot written to {path}")


def _plot_ready(path: Optional[Path]) -> Optional[Path]:
    """--plot checked before any work: the name, its folder, and matplotlib (the plots extra)."""
    path = check_plot(path)
    if path is not None:
        from stance.plotting import pyplot

        pyplot()
    return path


def parse_classes(value: str) -> tuple[str, ...]:
    classes = tuple(c.strip() for c in value.split(",") if c.strip())
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise UsageError(f"--classes {value!r}: give two or more distinct labels separated by commas.")
    return classes


def version_callback(value: bool) -> None:
    if value:
        echo(f"stance {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Label news sentences by their stance on local cooperation with federal immigration enforcement."""


@command
def extract(
    articles: list[Path] = PathArgument(..., help="Article text files (one paragraph a line)."),
    out: Optional[Path] = PathOption(None, "--out", help="Write the CSV here instead of stdout."),
    skip_labelled: Optional[Path] = PathOption(None, "--skip-labelled",
                                                 help="Leave out sentences already in this label file."),
    segmenter: str = typer.Option("syntok", "--segmenter", help="Sentence segmenter: syntok or pysbd."),
    raw_csv: bool = typer.Option(False, "--raw-csv", help="Write CSV cells as they are, for programs; by default a "
                                 "cell starting with = + - @ gets a leading ' so spreadsheets show it as text."),
) -> None:
    """Split articles into candidate statement sentences, ready to label (CSV: text,label,source,sentence,speaker)."""
    from stance.extract import SEGMENTERS, extract_article
    from stance.labels import normalise_text, read_rows
    from stance.outputs import csv_writer, output_stream

    if segmenter not in SEGMENTERS:
        raise UsageError(f"--segmenter {segmenter!r}: choose one of {', '.join(SEGMENTERS)}.")
    known = set()
    if skip_labelled:
        header, rows = read_rows(skip_labelled)
        if "text" not in header:
            raise UsageError(f"{skip_labelled} line 1: no column 'text' to compare sentences with.")
        known = {normalise_text(row["text"]) for _, row in rows}
    sentences = [s for path in articles for s in extract_article(path, segmenter)]
    fresh = [s for s in sentences if normalise_text(s.text) not in known]
    with output_stream(str(out) if out else None, [*articles, skip_labelled], "--out") as stream:
        writer = csv_writer(stream, raw=raw_csv)
        writer.writerow(["text", "label", "source", "sentence", "speaker"])
        writer.writerows([s.text, "", s.source, s.sentence, s.speaker] for s in fresh)
    skipped = f", {len(sentences) - len(fresh)} already labelled" if skip_labelled else ""
    say(f"{len(fresh)} sentences from {len(articles)} articles{skipped}" + (f" written to {out}" if out else ""))


@command
def validate(
    labels: Path = PathArgument(DEFAULT_LABELS, help="Label file to check."),
    classes: str = typer.Option(",".join(LABELS), "--classes", help="The allowed labels, comma-separated."),
) -> None:
    """Check a label file and report every problem at once; exit 1 on errors."""
    from stance.labels import validate_labels

    report = validate_labels(labels, parse_classes(classes))
    if report.problems:
        echo(f"{'line':>5}  {'severity':8}  {'column':6}  reason (value)")
        for p in sorted(report.problems, key=lambda p: (p.line or 0, p.severity)):
            value = f' ("{p.value}")' if p.value else ""
            echo(f"{p.line or '-':>5}  {p.severity:8}  {p.column:6}  {p.reason}{value}")
    echo(f"{labels}: {report.summary()}")
    if report.errors:
        raise typer.Exit(1)


DropConflicts = typer.Option(False, "--drop-conflicts",
                             help="Leave out sentences that carry two different labels instead of stopping.")


def _training_data(labels: Path, classes: tuple[str, ...], drop_conflicts: bool = False, min_sources: int = 2):
    """The label frame and its sources (None: folds split sentence by sentence). Nested
    cross-validation needs min_sources=3: each outer fold's training rows need two."""
    from stance.errors import LabelFileError
    from stance.labels import load_labels

    frame = load_labels(labels, classes, drop_conflicts)
    if frame.attrs.get("dropped_conflicts"):
        say(f"{labels}: left out {frame.attrs['dropped_conflicts']} rows whose sentence carries two labels")
    if "source" not in frame.columns:
        return frame, None
    blank = frame.loc[frame["source"].str.strip() == "", "line"]
    if len(blank):
        say(f"{labels} line {blank.iloc[0]}: warning: {len(blank)} rows have a blank source, so folds split "
            "sentence by sentence and sentences of one article can land on both sides (scores look better "
            "than they are); fill in source to group them")
        return frame, None
    sources = frame["source"].nunique()
    if sources < min_sources:
        raise LabelFileError(
            f"{labels}: cross-validation grouped by source needs sentences from at least two sources (nested "
            f"evaluation: three), and these rows come from {sources}. Add sentences from other articles, or drop the "
            "source column to split sentence by sentence.")
    return frame, list(frame["source"])


@command
def train(
    labels: Path = PathOption(DEFAULT_LABELS, "--labels", help="Label file (CSV with text,label[,source])."),
    model: Path = PathOption(DEFAULT_MODEL, "--model", help="Where to save the model directory."),
    classes: str = typer.Option(",".join(LABELS), "--classes", help="The labels to learn, comma-separated."),
    seed: int = typer.Option(0, "--seed", **SEED_RANGE, help="Seed for the folds and the classifier."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds for model selection."),
    jobs: int = typer.Option(2, "--jobs", min=1, help="Parallel fits during model selection."),
    drop_conflicts: bool = DropConflicts,
) -> None:
    """Validate the labels, choose hyper-parameters by grouped cross-validation, and save the model."""
    from stance.artifacts import model_lock
    from stance.workflow import train_and_save

    chosen = parse_classes(classes)
    with model_lock(model):  # first: a second train of this model, or one it cannot write, fails at once
        frame, groups = _training_data(labels, chosen, drop_conflicts)
        say(f"training on {len(frame)} rows from {labels}" + (" (folds grouped by source)" if groups else ""))
        meta = train_and_save(frame, groups, labels, model, chosen, seed, folds, jobs, progress=say)
    cv = meta["cv"]
    say(f"saved {model}: cross-validated macro-F1 {cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}, "
        f"chosen {meta['params']}, {meta['training_seconds']:.1f} s")


@command
def evaluate(
    model: Path = ModelOption,
    test: Optional[Path] = PathOption(None, "--test", help="Score the saved model on this labelled file."),
    labels: Path = PathOption(DEFAULT_LABELS, "--labels",
                                help="Without --test: estimate the training procedure by nested CV on this file."),
    folds: int = typer.Option(5, "--folds", min=2, help="Outer folds of the nested cross-validation."),
    by: Optional[str] = typer.Option(None, "--by", help="Also report per group of this column (origin, source...)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout instead of text."),
    plot: Optional[Path] = PathOption(None, "--plot", help="Write a confusion-matrix and reliability PNG."),
    seed: int = typer.Option(0, "--seed", **SEED_RANGE, help="Seed for folds and the bootstrap."),
    classes: Optional[str] = typer.Option(None, "--classes", help="Labels for cross-validation (default: the model's)."),
    jobs: int = typer.Option(2, "--jobs", min=1, help="Parallel fits during model selection."),
    drop_conflicts: bool = DropConflicts,
    errors: int = typer.Option(0, "--errors", min=0, help="List the N most confident mistakes with their explanation."),
) -> None:
    """Score the model on a test file, or estimate it honestly by nested grouped cross-validation."""
    from stance.workflow import evaluate_cross_validated, evaluate_saved

    plot = _plot_ready(plot)
    if test is not None:
        report = evaluate_saved(model, test, by=by, seed=seed, drop_conflicts=drop_conflicts, errors=errors)
        title = f"{model} on {test}"
    else:
        chosen = parse_classes(classes) if classes else _model_classes(model)
        frame, groups = _training_data(labels, chosen, drop_conflicts, min_sources=3)
        if len(frame) < 2 * folds:
            raise UsageError(f"--folds {folds}: {labels} has {len(frame)} rows, too few for {folds}-fold nested "
                             f"cross-validation; give --folds {max(2, len(frame) // 2)} or fewer.")
        say(f"nested {folds}-fold cross-validation on {len(frame)} rows of {labels}: model selection inside each fold")
        report = evaluate_cross_validated(frame, groups, chosen, folds=folds, seed=seed, jobs=jobs, by=by, progress=say,
                                          errors=errors)
        title = f"nested cross-validation on {labels}"
    if plot:  # checked before the evaluation ran
        from stance.scoring import plot_report

        _write_plot(plot, lambda handle: plot_report(report, handle))
    if json_out:
        echo(json.dumps(report, indent=2))
        return
    from stance.scoring import format_errors, format_report

    echo(format_report(report, title))
    if "errors" in report:
        echo()
        echo(format_errors(report["errors"]))
    for group, sub in report.get("groups", {}).items():
        echo()
        echo(format_report(sub, f"{by} = {group}"))


def _model_classes(model: Optional[Path]) -> tuple[str, ...]:
    """The classes of the model, for cross-validation without --classes; the three stances when
    there is no model yet (nested CV needs none)."""
    from stance.api import default_model_dir
    from stance.artifacts import read_metadata

    try:
        return tuple(read_metadata(model or default_model_dir())["classes"])
    except StanceError:
        return LABELS


@command
def predict(
    texts: Optional[list[str]] = typer.Argument(None, help="Sentences to classify."),
    file: Optional[str] = typer.Option(None, "--file", help="A .txt (one sentence a line), .csv, .jsonl or .parquet "
                                       "file; - for stdin. With --dask: Parquet files, a glob in quotes."),
    article: Optional[list[Path]] = PathOption(None, "--article", help="Whole articles: classify every sentence."),
    model: Path = ModelOption,
    fmt: Optional[str] = typer.Option(None, "--format", show_default=False,
                                      help="table (for people), csv or jsonl (for programs), or parquet. Default: "
                                      "parquet for an --output ending in .parquet, else table."),
    text_column: str = typer.Option("text", "--text-column", help="The text column of a CSV or Parquet file."),
    output: Optional[Path] = PathOption(None, "--output", help="Write results here (complete or not at all)."),
    min_prob: float = typer.Option(0.0, "--min-prob", min=0.0, max=1.0, callback=_finite,
                                   help="Label a sentence 'uncertain' when its top probability is below this."),
    explain: int = typer.Option(0, "--explain", min=0, help="Add the K n-grams that weighed most for each label."),
    raw_csv: bool = typer.Option(False, "--raw-csv", help="Write CSV cells as they are, for programs; by default a "
                                 "cell starting with = + - @ gets a leading ' so spreadsheets show it as text."),
    jobs: Optional[int] = typer.Option(None, "--jobs", min=1, show_default=False,
                                       help="Worker processes for --file. Default: every core for files of more "
                                       "than 20,000 rows, else 1 (and 1 for stdin)."),
    dask: Optional[str] = typer.Option(None, "--dask", metavar="SCHEDULER|local",
                                       help="Label Parquet files on a Dask cluster (a scheduler address, or local "
                                       "for one on this machine); --output is then a directory."),
) -> None:
    """Classify sentences, a file of them, a stream on stdin, or whole articles."""
    sources = sum(bool(x) for x in (texts, file, article))
    if sources != 1:
        raise UsageError("give exactly one input: sentences as arguments, --file PATH (or -), or --article PATH.")
    from stance.bulk import label_file, resolve_format
    from stance.inputs import Item, check_encodable
    from stance.outputs import Writer, output_stream
    from stance.predict import classify

    if dask is not None:
        _predict_dask(dask, file, output, model, fmt, text_column, min_prob, explain, jobs)
        return
    if jobs is not None and not file:
        raise UsageError("--jobs: for --file inputs; sentences and articles are labelled in one process.")
    fmt = resolve_format(fmt, output)  # before loading the model, so a typo fails at once
    if fmt == "parquet" or (file and Path(file).suffix.lower() in (".parquet", ".parq", ".pq")):
        from stance.parquet import pyarrow

        pyarrow()  # the parquet extra, or one line saying how to install it
        if not file:
            raise UsageError("--format parquet: for --file inputs; write sentences and articles as csv or jsonl.")
    compiled = _load(model)
    columns = ["text", "label"] + [f"p_{c}" for c in compiled.classes_]
    if article:
        _predict_articles(compiled, article, columns, fmt, output, min_prob, explain, raw_csv)
        return
    if file:
        label_file(compiled, file, output, [file, *_model_files(compiled)], fmt, text_column, min_prob, explain,
                   raw_csv, jobs)
        return
    for i, text in enumerate(texts, start=1):
        if not text.strip():
            raise UsageError(f"argument {i}: empty sentence. Give the sentence text in quotes.")
        check_encodable(text, f"argument {i}")
    items = [Item(text, f"argument {i}") for i, text in enumerate(texts, start=1)]
    if explain:
        columns.append("explanation")
    with output_stream(str(output) if output else None, [*_model_files(compiled)]) as stream:
        writer = Writer(stream, fmt, columns, raw_csv=raw_csv)
        rows = classify(compiled, items, min_prob)
        if explain:
            _add_explanations(compiled, rows, explain)
        writer.write(rows)
        writer.finish()


def _predict_dask(address: str, pattern, output, model, fmt, text_column: str, min_prob: float, explain: int,
                  jobs) -> None:
    """predict --dask: Parquet files in, a directory of Parquet files out, on a Dask cluster."""
    if not pattern or pattern == "-":
        raise UsageError("--dask: give the Parquet files to label with --file 'in/*.parquet'.")
    if not output:
        raise UsageError("--dask: give the directory to write with --output out_dir/.")
    if jobs is not None:
        raise UsageError("--dask: the cluster's workers do the work; leave out --jobs.")
    if fmt not in (None, "parquet"):
        raise UsageError(f"--dask writes Parquet files, not {fmt}; leave out --format.")
    from stance.dask import predict_files

    written = predict_files(address, pattern, output, model=model, text=text_column, min_prob=min_prob,
                            explain=explain, progress=say)
    def files(n: int) -> str:
        return f"{n} file" + ("" if n == 1 else "s")

    say(f"{written['rows']:,} rows from {files(written['inputs'])} labelled into {output} "
        f"({files(written['files'])}) on {written['cluster']}")


def _add_explanations(compiled, rows: list[dict], top: int) -> None:
    from stance.explain import explain_texts

    for row, explanation in zip(rows, explain_texts(compiled.compiled_, [r["text"] for r in rows], top)):
        row["explanation"] = "; ".join(f"{t['ngram']} {t['weight']:+.2f}" for t in explanation["toward"][:top])


def _predict_articles(compiled, articles: list[Path], columns, fmt, output, min_prob: float, explain: int,
                      raw_csv: bool = False) -> None:
    from stance.extract import extract_article
    from stance.inputs import Item
    from stance.outputs import Writer, output_stream
    from stance.predict import classify

    columns = columns + ["source", "sentence"] + (["explanation"] if explain else [])
    summaries = []
    with output_stream(str(output) if output else None, [*articles, *_model_files(compiled)]) as stream:
        writer = Writer(stream, fmt, columns, raw_csv=raw_csv)
        for path in articles:
            sentences = extract_article(path)
            if not sentences:
                say(f"{path}: no statement sentences found")
                continue
            rows = classify(compiled, [Item(s.text, f"{path} sentence {s.sentence}") for s in sentences], min_prob)
            for row, s in zip(rows, sentences):
                row["source"], row["sentence"] = s.source, s.sentence
            if explain:
                _add_explanations(compiled, rows, explain)
            writer.write(rows)
            summaries.append(_article_summary(path, rows, list(compiled.classes_)))
        writer.finish()
    # The summary is for people: under a table it goes to stdout, beside CSV or JSON to stderr.
    text = "\n\n".join(summaries)
    if fmt == "table" and not output:
        echo("\n" + text)
    else:
        say(text)


def _article_summary(path: Path, rows: list[dict], classes) -> str:
    from stance.predict import summarise_article

    summary = summarise_article(rows, classes)
    lines = [f"{path}: {summary['sentences']} sentences: "
             + ", ".join(f"{n} {label}" for label, n in summary["counts"].items())]
    for label, best in summary["most_confident"].items():
        if best:
            lines.append(f"  most confident {label} ({best[f'p_{label}']:.2f}): {best['text']}")
        else:
            lines.append(f"  no sentence labelled {label}")
    return "\n".join(lines)


@command
def explain(
    texts: Optional[list[str]] = typer.Argument(None, help="Sentences to explain."),
    model: Path = ModelOption,
    top: int = typer.Option(8, "--top", min=1, help="How many n-grams to show each way."),
    global_: bool = typer.Option(False, "--global", help="List the strongest n-grams of each class instead."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show the n-grams that pushed each sentence toward its label and against it (tf-idf x coefficient)."""
    from stance.explain import explain_texts, global_explanation

    if bool(texts) == global_:
        raise UsageError("give sentences to explain, or --global for the model's strongest n-grams (not both).")
    if texts and not all(t.strip() for t in texts):
        raise UsageError("an empty sentence cannot be explained; give the sentence text in quotes.")
    from stance.inputs import check_encodable

    for i, text in enumerate(texts or [], start=1):
        check_encodable(text, f"argument {i}")
    compiled = _load(model).compiled_
    if global_:
        strongest = global_explanation(compiled, top)
        if json_out:
            echo(json.dumps(strongest, indent=2, ensure_ascii=False))
            return
        for label, ngrams in strongest.items():
            echo(f"{label}: " + ", ".join(f"{g['ngram']} {g['weight']:+.2f}" for g in ngrams))
        return
    explanations = explain_texts(compiled, texts, top)
    if json_out:
        echo(json.dumps(explanations, indent=2, ensure_ascii=False))
        return
    for e in explanations:
        label = e["label"]
        echo(f"{e['text']}\n  label {label}: decision {e['decision'][label]:+.3f} = intercept "
              f"{e['intercept'][label]:+.3f} + the n-gram shares below and the rest")
        echo("  toward:  " + (", ".join(f"{g['ngram']} {g['weight']:+.3f}" for g in e["toward"]) or "-"))
        echo("  against: " + (", ".join(f"{g['ngram']} {g['weight']:+.3f}" for g in e["against"]) or "-"))


@command
def suggest(
    candidates: Path = PathArgument(..., help="Unlabelled sentences: the CSV that `stance extract` writes."),
    model: Path = ModelOption,
    n: int = typer.Option(50, "--n", min=1, help="How many sentences to suggest."),
    rare_share: float = typer.Option(0.3, "--rare-share", min=0.0, max=1.0, callback=_finite,
                                     help="Share of places kept for sentences the model thinks are a rarer stance."),
    out: Optional[Path] = PathOption(None, "--out", help="Write the label-ready CSV here instead of stdout."),
    raw_csv: bool = typer.Option(False, "--raw-csv", help="Write CSV cells as they are, for programs; by default a "
                                 "cell starting with = + - @ gets a leading ' so spreadsheets show it as text."),
) -> None:
    """Rank unlabelled sentences by how much labelling them would teach the model."""
    from stance.labels import LABEL_COLUMNS
    from stance.outputs import csv_writer, output_stream
    from stance.suggest import read_candidates, suggestions

    frame = read_candidates(candidates)
    compiled = _load(model)
    picked = suggestions(compiled, frame, n, rare_share)
    with output_stream(str(out) if out else None, [candidates, *_model_files(compiled)], "--out") as stream:
        writer = csv_writer(stream, [*LABEL_COLUMNS, "guess", "p_guess", "uncertainty"], raw_csv)
        writer.writeheader()
        writer.writerows(picked)
    guesses = ", ".join(f"{sum(r['guess'] == c for r in picked)} {c}" for c in compiled.classes_)
    say(f"{len(picked)} of {len(frame)} sentences suggested (model's guesses: {guesses})"
        + (f", written to {out}" if out else ""))


@command
def learning_curve(
    labels: Path = PathOption(DEFAULT_LABELS, "--labels", help="Label file."),
    model: Optional[Path] = PathOption(None, "--model", show_default=False,
                                         help="Take the hyper-parameters from this model (default: as for predict)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds."),
    seed: int = typer.Option(0, "--seed", **SEED_RANGE, help="Seed for folds and subsamples."),
    plot: Optional[Path] = PathOption(None, "--plot", help="Write the curve as a PNG."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    classes: Optional[str] = typer.Option(None, "--classes", help="Labels (default: the model's)."),
) -> None:
    """Macro-F1 (grouped CV) as the number of labelled rows grows: is labelling more still paying off?"""
    from stance.curve import learning_curve as compute, plot_curve

    plot = _plot_ready(plot)
    trained = _load(model)
    chosen = parse_classes(classes) if classes else tuple(trained.classes_)
    frame, groups = _training_data(labels, chosen)
    config = trained.set_params(seed=seed).config()
    say(f"learning curve on {len(frame)} rows of {labels} with {config}")
    points = compute(list(frame["text"]), list(frame["label"]), groups, chosen, config, n_folds=folds, seed=seed,
                     progress=say)
    if plot:
        _write_plot(plot, lambda handle: plot_curve(points, handle, f"learning curve: {labels}"))
    if json_out:
        echo(json.dumps(points, indent=2))
        return
    echo(f"{'rows':>6}  {'macro-F1':>8}  {'std':>6}")
    for p in points:
        echo(f"{p['rows']:6d}  {p['macro_f1_mean']:8.3f}  {p['macro_f1_std']:6.3f}")


def _silence_stdout() -> None:
    import os

    if sys.stdout is None:  # started with stdout closed: nothing buffered to fail
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _stop(signum, frame) -> None:
    """SIGTERM and SIGHUP end the run as an exception would, so every `finally` runs: staged
    outputs and models are removed and worker processes are stopped."""
    raise SystemExit(128 + signum)


@command
def serve(
    model: Path = ModelOption,
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on. The API has no authentication: see README before widening it."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    max_texts: int = typer.Option(1000, "--max-texts", min=1, help="Texts in one POST /predict."),
    max_chars: int = typer.Option(5000, "--max-chars", min=1, help="Characters in one text of POST /predict."),
    max_article_chars: int = typer.Option(200_000, "--max-article-chars", min=1,
                                          help="Characters in the text of one POST /article."),
    max_body_bytes: int = typer.Option(1_000_000, "--max-body-bytes", min=1, help="Bytes in one request body."),
) -> None:
    """Serve the model as a JSON HTTP API: POST /predict, POST /article, GET /health, GET /model."""
    try:  # the server stack is the serve extra's, and only this command imports it
        import starlette  # noqa: F401  (only whether it imports)
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError("stance serve needs the serve extra: pip install 'stance[serve]'") from None
    from stance import serve as server

    shared = server.load_model(model)
    limits = server.Limits(max_texts, max_chars, max_article_chars, max_body_bytes)
    sock = server.listen(host, port)
    if not server.is_loopback(sock):
        say(f"stance: warning: listening on {host}, beyond this machine; the API has no authentication and no TLS")
    say(f"stance: serving {model or shared.identity['name']} on {server.address(sock)} ({server.ENDPOINTS}); Ctrl-C stops")
    server.run(server.create_app(shared, limits), sock)


@command
def track(
    articles: list[Path] = typer.Argument(..., help="Articles: .jsonl or .csv (field 'text'; url or id, date, title, "
                                                    "state when present) or text files (with --manifest)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the per-agency table here instead of stdout."),
    fmt: str = typer.Option("csv", "--format", help="csv, jsonl or html (one self-contained page)."),
    min_prob: float = typer.Option(0.6, "--min-prob", min=0.0, max=1.0, callback=_finite,
                                   help="Sentences whose top probability is below this count toward nothing "
                                        "(they stay in the --evidence file)."),
    evidence: Optional[Path] = typer.Option(None, "--evidence", help="Write every (sentence, agency) pair here (CSV)."),
    roster: Optional[Path] = typer.Option(None, "--roster", help="ICE's 287(g) participating-agencies CSV to check against."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="For text files: a CSV with columns file,url,date."),
    model: Path = ModelOption,
    progress_every: int = typer.Option(1000, "--progress-every", min=1, help="A progress line on stderr every N articles."),
    raw_csv: bool = typer.Option(False, "--raw-csv", help="Write CSV cells as they are; by default a cell starting "
                                 "with = + - @ gets a leading ' so spreadsheets show it as text."),
) -> None:
    """Which agency cooperates or declines, since when, with the evidence: from a pile of articles."""
    import csv

    from stance.api import load
    from stance.articles import read_articles, read_manifest
    from stance.outputs import SafeCSV, output_stream
    from stance.track import EVIDENCE_COLUMNS, roster_columns, track as run_track

    if fmt not in ("csv", "jsonl", "html"):
        raise UsageError(f"--format {fmt!r}: choose one of csv, jsonl, html.")
    loaded = load(model)  # a missing or damaged model fails before any article is read
    entries = read_manifest(manifest) if manifest else None
    checked = None
    if roster:
        from stance.roster import read_roster

        checked = read_roster(roster)
    # Both files are staged and renamed into place only when complete; no --evidence, no file.
    inputs = [*articles, manifest, roster, *_model_files(loaded)]
    with (output_stream(str(evidence), inputs, "--evidence") if evidence else _no_output()) as evidence_stream:
        write_evidence = None
        if evidence_stream is not None:
            evidence_writer = SafeCSV(csv.DictWriter(evidence_stream, fieldnames=EVIDENCE_COLUMNS, lineterminator="\n"),
                                      raw_csv)
            evidence_writer.writeheader()
            write_evidence = evidence_writer.writerow
        result = run_track(read_articles(articles, entries), loaded, min_prob, evidence=write_evidence, progress=say,
                           progress_every=progress_every)
        if checked:
            for report in result.agencies:
                report.roster = roster_columns(report, checked.status(report.agency), _roster_date(roster))
        with output_stream(str(out) if out else None, [*inputs, evidence], "--out") as stream:
            _write_track(stream, result, fmt, raw_csv)
    say(f"{result.articles:,} articles ({result.undated:,} undated), {result.sentences:,} sentences, "
        f"{result.sentences_about_agencies:,} about an agency ({result.below_min_prob:,} below --min-prob "
        f"{min_prob}): {len(result.agencies):,} agencies in {result.seconds:.1f} s"
        + (f"; roster: {len(checked.agreements)} agencies from {checked.rows} rows, {len(checked.unmatched)} rows "
           f"not resolved, {sum(bool(r.roster.get('lead')) for r in result.agencies)} leads" if checked else "")
        + (f"; written to {out}" if out else ""))


def _no_output():
    import contextlib

    return contextlib.nullcontext(None)


def _roster_date(path: Path) -> str:
    import re

    found = re.search(r"\d{4}-\d{2}-\d{2}", path.name)
    return found.group() if found else ""


def _write_track(stream, result, fmt: str, raw_csv: bool = False) -> None:
    import csv

    if fmt == "html":
        from stance.track_html import render

        stream.write(render(result))
        return
    rows = [report.row() for report in result.agencies]
    if fmt == "jsonl":
        for report, row in zip(result.agencies, rows):
            row["reversals"] = report.reversals
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    from stance.track import row_columns

    from stance.outputs import SafeCSV

    writer = SafeCSV(csv.DictWriter(stream, fieldnames=row_columns(bool(result.agencies and result.agencies[0].roster)),
                                    lineterminator="\n"), raw_csv)
    writer.writeheader()
    writer.writerows(rows)


def main() -> None:
    """Entry point of the `stance` command."""
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as err:  # a usage error found by the option parser: one line too
        if type(err).__name__ == "NoArgsIsHelpError":
            err.show()
            sys.exit(err.exit_code)
        context = getattr(err, "ctx", None)
        where = context.command_path if context is not None else "stance"
        say(f"stance: error: {' '.join(err.format_message().split())} (see {where} --help)")
        sys.exit(getattr(err, "exit_code", 2))
    except BrokenPipeError:  # the reader left while the parser itself was writing
        _silence_stdout()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
