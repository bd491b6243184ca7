"""Hostile input against the real `stance` command, and whether each promise held.

Usage:
    python bench/bad_input.py                  # every attempt, a few minutes on two cores
    python bench/bad_input.py --kind model -v  # the kinds whose name contains "model", with each result
    python bench/bad_input.py --list           # the attempts, without running them

Each attempt runs `stance` in a subprocess (its own session, in a fresh copy of a small work
directory: a toy model trained by `stance train`, a second model with another vocabulary, labels,
sentences, an article, candidates) and states its promise:

- the exit status: 1 for bad input, 2 for bad options, 0 where the command must succeed
  (128 + the signal for a run that was stopped);
- on failure, standard error is exactly one line, `stance: error: ...`, naming the file (and the
  line or the field) where there is one; no traceback anywhere, on success either;
- every file of the work directory that the attempt may not change keeps its bytes, mode and
  owner (sha256 before and after); no stray files appear (hidden staging files, created
  directories, lock files, temporary files in $TMPDIR);
- no process of the run outlives it (its session is empty a few seconds after it exits, and
  nothing holds its stdout or stderr open);
- a malicious pickle planted in a model directory never runs (it would create a marker file).

Attempts marked to run as a user without privileges (unreadable files, unwritable folders) run as
`nobody` when this script runs as root, and are skipped otherwise; when this interpreter is out of
nobody's reach (a pyenv under /root), they run this checkout on the system's python of the same
minor version, with this environment's packages. The table at the end counts,
for each kind, the attempts, those whose promises all held and those broken, then lists every
broken promise. The exit status is 1 when any promise was broken.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import io
import json
import os
import pickle
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STANCE = [str(BIN / "stance")] if (BIN / "stance").exists() else [sys.executable, "-m", "stance"]
NOBODY = 65534
IS_ROOT = os.geteuid() == 0
TEXT = "The sheriff will keep honoring ICE detainers."
MARKER = "PWNED"  # what the malicious pickle creates in the work directory when it is unpickled
CSV_LIMIT = 131_072  # the csv module's default field limit, which stance keeps
GRACE = 3.0  # seconds a run's processes get to go away after it exits

AGENCIES = ["Harris County sheriff", "Denver police", "Wake County jail", "Orange County sheriff",
            "Chicago police", "Maricopa County jail", "Austin police", "Frederick County sheriff"]
TEMPLATES = {
    "cooperate": ["The {a} signed a 287(g) agreement with ICE this week.",
                  "The {a} will keep honoring ICE detainers for people in custody.",
                  "Officials said the {a} hands inmates over to immigration agents after arrest.",
                  "The {a} joined a federal program to help deport undocumented residents."],
    "decline": ["The {a} will not honor ICE detainers without a judicial warrant.",
                "The {a} refuses to help federal agents with deportation efforts.",
                "The {a} ended its 287(g) agreement and stopped working with ICE.",
                "Leaders said the {a} does not ask about immigration status."],
    "neutral": ["The {a} held a public meeting about its budget on Tuesday.",
                "Residents near the {a} said they were worried about the weather.",
                "Reporters asked the {a} about a new parking garage downtown.",
                "The {a} hired twelve new officers for patrol duty this spring."],
}
SENTENCES = ["The sheriff will keep honoring ICE detainers.", "Police will not help federal agents deport anyone.",
             "The council met on Tuesday to discuss the budget."]
ARTICLE = """County officials said the jail will keep honoring ICE detainers for people in custody, the sheriff said.

The police chief said the department will not help federal agents with deportation efforts.

"We do not ask about immigration status," the mayor said at a meeting on Tuesday.

Residents said they were worried about the new parking garage downtown, according to the council.
"""
FORMULAS = ['=HYPERLINK("http://evil.example","click") said the sheriff about the new jail policy on detainers.',
            "+1 more deputy will work with ICE agents at the county jail, the sheriff said.",
            "-5 officers were moved to the detention unit this week, officials said.",
            "@SUM(A1:A9) is what the mayor wrote about the sanctuary policy for the city."]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def toy_rows(agencies=AGENCIES) -> list[dict]:
    """Labelled sentences, every class in every source (one source per agency)."""
    return [{"text": t.format(a=a), "label": label, "source": f"article_{i}.txt", "note": ""}
            for i, a in enumerate(agencies) for label, ts in TEMPLATES.items() for t in ts]


def csv_text(rows: list[dict], columns=("text", "label", "source", "note")) -> str:
    buffer = io.StringIO(newline="")
    # QUOTE_ALL: with lineterminator "\n", the csv module would leave a cell holding "\r" unquoted
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n",
                            quoting=csv.QUOTE_ALL if any("\r" in str(v) for r in rows for v in r.values())
                            else csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# --- running the real command ---------------------------------------------------------------


@dataclass
class Result:
    """One finished run: its exit status, output, and what it left behind."""

    argv: list[str]
    code: int | None  # None: it did not finish in time and was killed
    stdout: str
    stderr: str
    seconds: float
    orphans: list[str] = field(default_factory=list)
    held_open: bool = False

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _session(sid: int) -> list[tuple[int, str]]:
    """The processes of a session, from /proc: (pid, command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            found.append((int(entry), command[:120]))
        except (OSError, IndexError, ValueError):
            continue
    return found


class Proc:
    """A running command in its own session, its stdout and stderr read by threads as they come."""

    def __init__(self, popen: subprocess.Popen, argv: list[str], stdin: bytes | None):
        self.popen, self.argv, self.started = popen, argv, time.monotonic()
        self.out, self.err = bytearray(), bytearray()
        self.threads = [threading.Thread(target=self._drain, args=(popen.stdout, self.out), daemon=True),
                        threading.Thread(target=self._drain, args=(popen.stderr, self.err), daemon=True)]
        if stdin is not None:
            self.threads.append(threading.Thread(target=self._feed, args=(stdin,), daemon=True))
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _drain(pipe, buffer):
        for chunk in iter(lambda: pipe.read1(65536), b""):
            buffer.extend(chunk)

    def _feed(self, data: bytes):
        try:
            self.popen.stdin.write(data)
            self.popen.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stderr_text(self) -> str:
        return bytes(self.err).decode("utf-8", errors="replace")

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> bool:
        """Poll until `condition()` holds or the process ends; True if it held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            if self.popen.poll() is not None:
                return condition()
            time.sleep(0.02)
        return False

    def signal(self, signum: int, group: bool = False) -> None:
        if group:
            os.killpg(self.pid, signum)
        else:
            self.popen.send_signal(signum)

    def finish(self, timeout: float = 60) -> Result:
        try:
            code = self.popen.wait(timeout=max(0.1, timeout - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait()
            code = None
        seconds = time.monotonic() - self.started
        # Nothing of the run may outlive it: poll its session for a few seconds, then kill what is left.
        deadline = time.monotonic() + GRACE
        left = _session(self.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _session(self.pid)
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for thread in self.threads[:2]:
            thread.join(timeout=GRACE)
        held = any(thread.is_alive() for thread in self.threads[:2])
        result = Result(self.argv, code, bytes(self.out).decode("utf-8", errors="replace"), self.stderr_text(),
                        seconds, [f"{pid} {command}" for pid, command in left], held)
        for pipe in (self.popen.stdout, self.popen.stderr):
            try:
                pipe.close()
            except OSError:
                pass
        return result


class Work:
    """One attempt's directory, a copy of the fixtures, and how to run commands in it."""

    def __init__(self, path: Path, tmp: Path, env: dict, user: str | None):
        self.path, self.tmp, self.user = path, tmp, user
        self.env = {**env, "TMPDIR": str(tmp)}
        self.results: list[Result] = []

    def __truediv__(self, name) -> Path:
        return self.path / name

    def part(self, name: str = "weights", model: str = "m") -> str:
        """The file name metadata.json gives a model's weights or pipeline, relative to the work dir."""
        return f"{model}/{read_meta(self, model)['files'][name]['name']}"

    def expand(self, arg: str) -> str:
        """{w}: the work directory; {weights}, {pipeline}: the model's files, by their hashed names."""
        arg = arg.replace("{w}", str(self.path))
        for name in ("weights", "pipeline"):
            if "{" + name + "}" in arg:
                arg = arg.replace("{" + name + "}", self.part(name))
        return arg

    def start(self, argv: list[str] | str, stdin: bytes | str | None = None, umask: int = 0o022,
              stdout=subprocess.PIPE, cwd: Path | None = None) -> Proc:
        """argv: stance's arguments; ["python", ...] for a Python script; a str for a bash -o pipefail line."""
        python = [sys.executable] if not self.user else nobody_python()
        if isinstance(argv, str):
            command = ["bash", "-o", "pipefail", "-c", self.expand(argv)]
        elif argv and argv[0] == "python":
            command = [*python, *[self.expand(a) for a in argv[1:]]]
        elif self.user:
            command = [*python, "-m", "stance", *[self.expand(a) for a in argv]]
        else:
            command = [*STANCE, *[self.expand(a) for a in argv]]
        data, stdin_file = None, subprocess.DEVNULL
        if isinstance(stdin, bytes):
            data, stdin_file = stdin, subprocess.PIPE
        elif isinstance(stdin, str):
            stdin_file = open(self.path / stdin, "rb")
        elif stdin is subprocess.PIPE:
            stdin_file = subprocess.PIPE
        options = dict(cwd=cwd or self.path, env=self.env, stdin=stdin_file, stdout=stdout, stderr=subprocess.PIPE,
                       start_new_session=True, umask=umask)
        if self.user:
            options.update(user=NOBODY, group=NOBODY, extra_groups=[])
            options["env"] = {**self.env, "PYTHONPATH": os.pathsep.join(map(str, nobody_path()))}
        popen = subprocess.Popen(command, **options)
        if isinstance(stdin, str):
            stdin_file.close()
        if stdout is not subprocess.PIPE:  # a file given for stdout: nothing to drain there
            popen.stdout = io.BytesIO()
        return Proc(popen, command, data)

    def run(self, argv, stdin=None, umask: int = 0o022, timeout: float = 60, stdout=subprocess.PIPE,
            cwd: Path | None = None) -> Result:
        result = self.start(argv, stdin, umask, stdout, cwd).finish(timeout)
        self.results.append(result)
        return result

    def finish(self, proc: Proc, timeout: float = 60) -> Result:
        result = proc.finish(timeout)
        self.results.append(result)
        return result


def nobody_path() -> list[Path]:
    """What `nobody` imports: this checkout's stance and the packages of the running environment."""
    import sysconfig

    return [ROOT, Path(sysconfig.get_paths()["purelib"])]


_NOBODY_PYTHON: list[list[str]] = []


def nobody_python() -> list[str]:
    """An interpreter `nobody` can run: this one, or, when it lies beyond nobody's reach (a
    pyenv under /root), the system's python of the same minor version. [] if there is none."""
    if not _NOBODY_PYTHON:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        found = []
        for candidate in (sys.executable, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
            try:
                probe = subprocess.run([candidate, "-c", "import numpy, sklearn, stance"], user=NOBODY, group=NOBODY,
                                       extra_groups=[], cwd="/", capture_output=True, timeout=60,
                                       env={"PATH": "/usr/bin:/bin",
                                            "PYTHONPATH": os.pathsep.join(map(str, nobody_path()))})
            except (OSError, subprocess.SubprocessError):
                continue
            if probe.returncode == 0:
                found = [candidate]
                break
        _NOBODY_PYTHON.append(found)
    return _NOBODY_PYTHON[0]


# --- checking promises ----------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root (links not followed): kind, and for a file its sha256, mode and owner."""
    entries = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            st = os.lstat(path)
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                entries[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), oct(stat.S_IMODE(st.st_mode)),
                                st.st_uid)
            elif stat.S_ISDIR(st.st_mode):
                entries[rel] = ("dir", oct(stat.S_IMODE(st.st_mode)), st.st_uid)
            else:
                entries[rel] = ("special", stat.S_IFMT(st.st_mode))
    return entries


def compare(before: dict, after: dict, allowed: tuple[str, ...]) -> list[str]:
    def free(rel):
        return any(fnmatch.fnmatch(rel, pattern) for pattern in allowed)

    problems = []
    for rel in sorted(set(before) | set(after)):
        if free(rel):
            continue
        if rel not in after:
            problems.append(f"removed: {rel}")
        elif rel not in before:
            problems.append(f"stray {'directory' if after[rel][0] == 'dir' else 'file'}: {rel}")
        elif before[rel] != after[rel]:
            problems.append(f"changed: {rel}")
    return problems


def output_problems(result: Result) -> list[str]:
    text = result.stdout + result.stderr
    problems = []
    if "Traceback (most recent call last)" in text:
        problems.append("traceback: " + result.stderr.strip().splitlines()[-1][:160] if result.stderr.strip()
                        else "traceback")
    elif "Exception ignored" in text:
        problems.append("exception at exit: " + result.stderr.strip()[:160])
    if result.held_open:
        problems.append("stdout or stderr held open after the run exited")
    problems += [f"orphan process: {orphan}" for orphan in result.orphans]
    return problems


def promise(result: Result, code: int, names: tuple[str, ...] = (), progress: bool = False) -> list[str]:
    """The common promises of one run: exit status, the one-line message, no traceback."""
    problems = []
    if result.code is None:
        problems.append(f"did not finish in {result.seconds:.0f} s")
    elif result.code != code:
        tail = result.lines[-1][:160] if result.lines else "(nothing on stderr)"
        problems.append(f"exit {result.code}, promised {code}: {tail}")
    problems += output_problems(result)
    errors = [line for line in result.lines if line.startswith("stance: error: ")]
    if code in (1, 2):
        if progress:  # progress lines may come first; the error is the last line and the only one
            ok = len(errors) == 1 and result.lines[-1] == errors[0]
        else:
            ok = len(result.lines) == 1 and len(errors) == 1
        if not ok and result.code == code:
            problems.append(f"stderr is not one 'stance: error:' line: {result.stderr.strip()[:200]!r}")
        message = errors[-1] if errors else ""
        for name in names:
            if name not in message and result.code == code and errors:
                problems.append(f"message does not name {name!r}: {message[:200]}")
    elif code == 0:
        if errors:
            problems.append(f"an error on a run that must succeed: {errors[0][:160]}")
        warnings = [line for line in result.lines if "Warning:" in line or "warnings.warn" in line]
        if warnings:
            problems.append(f"a warning on stderr: {warnings[0][:160]}")
    return problems


# --- fixtures -------------------------------------------------------------------------------


def read_meta(work: Work, model: str = "m") -> dict:
    return json.loads((work / model / "metadata.json").read_text())


def write_meta(work: Work, meta: dict, model: str = "m") -> None:
    (work / model / "metadata.json").write_text(json.dumps(meta, indent=2))


class Fixtures:
    """The files every attempt starts from, made once, and the reference outputs."""

    def __init__(self, base: Path, model: Path | None = None):
        self.base = base
        self.proto = base / "proto"
        self.count = 0
        self._lock = threading.Lock()
        home = base / "home"
        for folder in (self.proto, home, base / "mpl"):
            folder.mkdir(parents=True)
        os.chmod(base, 0o755)
        for folder in (home, base / "mpl"):
            os.chmod(folder, 0o1777)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STANCE_", "PYTEST", "COV_"))}
        env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", HOME=str(home), MPLCONFIGDIR=str(base / "mpl"),
                   PATH=f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}", PYTHONDONTWRITEBYTECODE="1",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        self.env = env
        self._build(model)

    def _build(self, model: Path | None) -> None:
        p = self.proto
        (p / "labels.csv").write_text(csv_text(toy_rows()))
        (p / "in.txt").write_text("\n".join(SENTENCES) + "\n")
        (p / "in.csv").write_text(csv_text([{"text": s, "id": i} for i, s in enumerate(SENTENCES)], ("text", "id")))
        (p / "in.jsonl").write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES))
        (p / "art.txt").write_text(ARTICLE)
        (p / "formula.txt").write_text("\n\n".join(FORMULAS) + "\n")
        candidates = [{"text": t.format(a=a), "label": "", "source": f"c{i}.txt", "sentence": j + 1, "speaker": ""}
                      for i, a in enumerate(["Boston police", "Travis County jail"])
                      for j, t in enumerate(sum(TEMPLATES.values(), []))]
        (p / "cand.csv").write_text(csv_text(candidates, ("text", "label", "source", "sentence", "speaker")))
        work = self.work("fixtures")
        if model is None:
            result = work.run(["train", "--labels", "labels.csv", "--model", "m", "--jobs", "1"], timeout=300)
            if result.code != 0:
                raise SystemExit(f"training the toy model failed:\n{result.stderr}")
        else:
            shutil.copytree(model, work / "m")
        # A second model with another vocabulary (two agencies' sentences), fitted through the API.
        script = ("import csv, stance\n"
                  "rows = list(csv.DictReader(open('labels.csv')))[:24]\n"
                  "model = stance.StanceClassifier(calibrate=False, char_ngram=(2, 3))\n"
                  "model.fit([r['text'] for r in rows], [r['label'] for r in rows])\n"
                  "model.save('other', classes=list(model.classes_))\n")
        result = work.run(["python", "-c", script], timeout=300)
        if result.code != 0:
            raise SystemExit(f"fitting the second model failed:\n{result.stderr}")
        for name in ("m", "other"):
            shutil.copytree(work / name, p / name, symlinks=True)
        self.ref = {}
        for name in ("m", "other"):
            result = work.run(["predict", "--file", "in.txt", "--model", name, "--format", "csv"])
            if result.code != 0:
                raise SystemExit(f"predicting with the {name} model failed:\n{result.stderr}")
            self.ref[name] = result.stdout
        shutil.rmtree(work.path)
        shutil.rmtree(work.tmp)

    def work(self, slug: str, user: str | None = None) -> Work:
        with self._lock:
            self.count += 1
            name = f"{self.count:03d}-" + "".join(c if c.isalnum() else "-" for c in slug)[:40]
        path, tmp = self.base / "runs" / name, self.base / "tmp" / name
        shutil.copytree(self.proto, path, symlinks=True)
        tmp.mkdir(parents=True)
        if user:
            for folder in (path, tmp):
                for directory, dirs, files in os.walk(folder):
                    for entry in [directory, *(os.path.join(directory, n) for n in dirs + files)]:
                        os.lchown(entry, NOBODY, NOBODY)
        return Work(path, tmp, self.env, user)


# --- attempts -------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One hostile try and its promise. `argv` runs once and is checked against `code` and
    `names`; a `scenario` runs its own steps and returns the problems it found. Either way the
    work directory must be left as it was, but for the paths matching `changes`."""

    kind: str
    name: str
    argv: list[str] | str | None = None
    code: int = 1
    names: tuple[str, ...] = ()
    setup: Callable[[Work], None] | None = None
    stdin: bytes | str | None = None
    user: str | None = None
    changes: tuple[str, ...] = ()
    check: Callable[[Work, Result], list[str]] | None = None
    progress: bool = False
    quiet: bool = False  # a failure reported on stdout (validate's table): stderr stays empty
    umask: int = 0o022
    timeout: float = 60
    scenario: Callable[[Work, Fixtures], list[str]] | None = None
    alone: bool = False  # run by itself, not beside another attempt: it trains, times itself or signals

    def __post_init__(self):
        heavy = isinstance(self.argv, list) and self.argv and (
            self.argv[0] in ("train", "learning-curve", "serve") or (self.argv[0] == "evaluate" and "--test" not in self.argv))
        self.alone = self.alone or self.scenario is not None or bool(heavy) or self.timeout > 60

    @property
    def id(self) -> str:
        return f"{self.kind}: {self.name}"


def run_attempt(attempt: Attempt, fixtures: Fixtures, keep: bool = False) -> list[str]:
    """Run one attempt in a fresh work directory; return its broken promises (empty: it held)."""
    work = fixtures.work(attempt.name, attempt.user)
    if attempt.setup:
        attempt.setup(work)
    before = snapshot(work.path)
    if attempt.scenario:
        problems = attempt.scenario(work, fixtures)
        problems += [p for r in work.results for p in output_problems(r)]
    else:
        result = work.run(attempt.argv, attempt.stdin, attempt.umask, attempt.timeout)
        if attempt.quiet:
            problems = promise(result, 0)[1:] if result.code == attempt.code else promise(result, attempt.code)
            problems += [f"stderr not empty: {result.stderr.strip()[:160]!r}"] if result.stderr.strip() else []
        else:
            problems = promise(result, attempt.code, attempt.names, attempt.progress)
        if attempt.check and result.code is not None:
            try:
                problems += attempt.check(work, result)
            except (OSError, ValueError, KeyError, IndexError, csv.Error) as err:  # the output was not what it should be
                problems.append(f"the output could not be checked: {err.__class__.__name__}: {err}")
    problems += compare(before, snapshot(work.path), attempt.changes + (MARKER,))
    if (work / MARKER).exists() and MARKER not in attempt.changes:
        problems.append("the malicious pickle ran: it created its marker file")
    strays = sorted(p.name for p in work.tmp.iterdir())
    if strays:
        problems.append(f"stray files in $TMPDIR: {', '.join(strays[:5])}")
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        problems.append("/dev/null is no longer a character device")
    if not keep:
        for folder in (work.path, work.tmp):
            _remove(folder)
    return list(dict.fromkeys(problems))


def _remove(folder: Path) -> None:
    def writable(function, path, _):
        os.chmod(os.path.dirname(path), 0o700)
        os.chmod(path, 0o700) if os.path.isdir(path) else None
        function(path)

    for directory, dirs, _ in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(directory, name), 0o700)
    shutil.rmtree(folder, onerror=writable)


# setups: small functions that damage or prepare a work directory

def write(name: str, data: bytes | str, mode: int | None = None):
    def setup(w: Work):
        path = w / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        if mode is not None:
            os.chmod(path, mode)
    return setup


def chmod(name: str, mode: int):
    def setup(w: Work):
        os.chmod(w / name, mode)
    return setup


def both(*setups):
    def setup(w: Work):
        for s in setups:
            s(w)
    return setup


def symlink(name: str, target: str):
    def setup(w: Work):
        os.symlink(target, w / name)
    return setup


def hardlink(name: str, target: str):
    def setup(w: Work):
        os.link(w / target, w / name)
    return setup


def mkdir(name: str, mode: int = 0o755, owner: int | None = None):
    def setup(w: Work):
        (w / name).mkdir(parents=True, exist_ok=True)
        os.chmod(w / name, mode)
        if owner is not None:
            os.chown(w / name, owner, owner)
    return setup


def mkfifo(name: str):
    def setup(w: Work):
        os.mkfifo(w / name)
    return setup


def unix_socket(name: str):
    def setup(w: Work):
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(w / name))
        sock.close()
    return setup


def default_model(w: Work):
    shutil.copytree(w / "m", w / "models" / "default")


MISSING = object()


def _walk_path(meta, dotted: str):
    """The container and key of a dotted path such as compiled.blocks[0].analyzer."""
    parts = []
    for piece in dotted.split("."):
        if "[" in piece:
            key, index = piece[:-1].split("[")
            parts += [key, int(index)]
        else:
            parts.append(piece)
    node = meta
    for key in parts[:-1]:
        node = node[key]
    return node, parts[-1]


def set_field(dotted: str, value, model: str = "m"):
    def setup(w: Work):
        meta = read_meta(w, model)
        node, key = _walk_path(meta, dotted)
        if value is MISSING:
            del node[key]
        else:
            node[key] = value
        write_meta(w, meta, model)
    return setup


def set_fields(changes: dict, model: str = "m"):
    return both(*(set_field(k, v, model) for k, v in changes.items()))


def raw_field(dotted: str, raw: str):
    """Give a field a value written as raw JSON text (numbers that json.dumps would not write)."""
    def setup(w: Work):
        meta = read_meta(w)
        node, key = _walk_path(meta, dotted)
        node[key] = "@@RAW@@"
        (w / "m" / "metadata.json").write_text(json.dumps(meta, indent=2).replace('"@@RAW@@"', raw))
    return setup


def _rehash(w: Work, part: str, data: bytes, model: str = "m") -> None:
    """Put `data` in as the model's `part` under its hashed name, metadata.json updated to match:
    a consistent forgery, so what is checked is the content, not the hash."""
    meta = read_meta(w, model)
    entry = meta["files"][part]
    (w / model / entry["name"]).unlink()
    digest = hashlib.sha256(data).hexdigest()
    stem, suffix = ("weights", ".npz") if part == "weights" else ("model", ".joblib")
    entry.update(name=f"{stem}-{digest[:12]}{suffix}", bytes=len(data), sha256=digest)
    (w / model / entry["name"]).write_bytes(data)
    write_meta(w, meta, model)


def arrays(change: Callable[[dict], None], consistent: bool = True):
    """Rewrite the weights' arrays with `change(arrays)`; metadata.json updated unless not consistent."""
    def setup(w: Work):
        import numpy as np

        path = w / w.part("weights")
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
        change(data)
        buffer = io.BytesIO()
        np.savez(buffer, **data)
        if consistent:
            _rehash(w, "weights", buffer.getvalue())
        else:
            path.write_bytes(buffer.getvalue())
    return setup


def part_bytes(part: str, data: bytes | Callable[[Work], bytes], consistent: bool):
    def setup(w: Work):
        content = data(w) if callable(data) else data
        if consistent:
            _rehash(w, part, content)
        else:
            (w / w.part(part)).write_bytes(content)
    return setup


class _Marker:
    """Unpickling this calls open(path, "w"): it creates the marker file. Never unpickled here."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_pickle(w: Work) -> bytes:
    """The pickle, padded to the size of the model's real one (unpickling stops at its end), so
    that it is the sha256, not the size, that gives it away."""
    data = pickle.dumps(_Marker(str(w / MARKER)))
    return data + b"\0" * max(0, (w / w.part("pipeline")).stat().st_size - len(data))


def evil_npz(w: Work) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    path = w / w.part("weights")
    with np.load(path, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    holder = np.empty(1, dtype=object)
    holder[0] = _Marker(str(w / MARKER))
    data["coef_0"] = holder
    np.savez(buffer, **data)
    return buffer.getvalue()


def same_as(reference: str):
    """A check: stdout equals a model's reference prediction of in.txt."""
    def check(w: Work, r: Result) -> list[str]:
        return [] if r.stdout == FIXTURES_REF[reference] else [f"output differs from the {reference} model's"]
    return check


FIXTURES_REF: dict[str, str] = {}


def stdout_has(*fragments: str):
    def check(w: Work, r: Result) -> list[str]:
        return [f"stdout lacks {f!r}" for f in fragments if f not in r.stdout]
    return check


def file_has(name: str, *fragments: str, mode: int | None = None):
    def check(w: Work, r: Result) -> list[str]:
        path = w / name
        if not path.is_file():
            return [f"{name} was not written"]
        problems = [f"{name} lacks {f!r}" for f in fragments if f not in path.read_text(errors="replace")]
        if mode is not None and stat.S_IMODE(path.stat().st_mode) != mode:
            problems.append(f"{name} has mode {oct(stat.S_IMODE(path.stat().st_mode))}, promised {oct(mode)}")
        return problems
    return check


def owner_is(name: str, uid: int):
    def check(w: Work, r: Result) -> list[str]:
        found = os.stat(w / name).st_uid
        return [] if found == uid else [f"{name} is now owned by uid {found}, was {uid}"]
    return check


def checks(*functions):
    def check(w: Work, r: Result) -> list[str]:
        return [p for f in functions for p in f(w, r)]
    return check


def quick(seconds: float):
    """A check: the run failed before doing the work (no training or evaluation)."""
    def check(w: Work, r: Result) -> list[str]:
        return [] if r.seconds < seconds else [f"took {r.seconds:.1f} s: the check came after the work"]
    return check


def csv_cells(source: str | None = None):
    """The cells of a CSV output (stdout, or a file of the work dir)."""
    def cells(w: Work, r: Result) -> list[list[str]]:
        text = r.stdout if source is None else (w / source).read_text()
        return list(csv.reader(io.StringIO(text, newline="")))
    return cells


def neutralised(source: str | None = None, raw: bool = False, expect: tuple[str, ...] = ()):
    """A check: no cell of the CSV output starts a formula (or, raw, each expected cell is kept as is)."""
    def check(w: Work, r: Result) -> list[str]:
        rows = csv_cells(source)(w, r)
        cells = [cell for row in rows for cell in row]
        if not rows:
            return ["no CSV output"]
        if raw:
            return [f"cell {e!r} not kept as written" for e in expect if e not in cells]
        problems = [f"formula cell not neutralised: {c[:40]!r}" for c in cells if c.startswith(FORMULA_START)]
        problems += [f"cell {e!r} missing (as '{e[:20]}...)" for e in expect if "'" + e not in cells]
        problems += [f"cell neutralised twice: {c[:40]!r}" for c in cells if c.startswith("''")]
        return problems
    return check


def attempts() -> list[Attempt]:
    """The table: every hostile attempt and its promise."""
    A = Attempt
    table: list[Attempt] = []
    add = table.append
    P = ["predict", "--file", "in.txt", "--model", "m"]
    S = ["predict", TEXT, "--model", "m"]

    # --output / --out onto the run's own inputs: refused before anything is written
    kind = "output onto inputs"
    for spelling, setup in [("in.txt", None), ("./in.txt", None), ("sub/../in.txt", mkdir("sub")),
                            ("{w}/in.txt", None), ("{w}//./in.txt", None), ("link.txt", symlink("link.txt", "in.txt")),
                            ("hard.txt", hardlink("hard.txt", "in.txt")),
                            ("abs-link.txt", lambda w: os.symlink(w / "in.txt", w / "abs-link.txt"))]:
        add(A(kind, f"predict --output {spelling}", [*P, "--output", spelling], names=("input",), setup=setup))
    add(A(kind, "predict --file link --output its target", ["predict", "--file", "link.txt", "--model", "m", "--output",
                                                            "in.txt"], names=("in.txt", "input"),
          setup=symlink("link.txt", "in.txt")))
    add(A(kind, "predict --output the csv read", ["predict", "--file", "in.csv", "--model", "m", "--format", "csv",
                                                  "--output", "in.csv"], names=("in.csv", "input")))
    add(A(kind, "predict --output the jsonl read", ["predict", "--file", "in.jsonl", "--model", "m", "--output",
                                                    "./in.jsonl"], names=("in.jsonl", "input")))
    for target in ("m/metadata.json", "{weights}", "{pipeline}", "./m/../m/metadata.json"):
        add(A(kind, f"predict --output {target.strip('{}')}", [*S, "--output", target], names=("input",)))
    add(A(kind, "predict --output a link to metadata.json", [*S, "--output", "meta.json"], names=("meta.json", "input"),
          setup=symlink("meta.json", "m/metadata.json")))
    add(A(kind, "predict --output the default model's metadata", ["predict", TEXT, "--output",
                                                                  "models/default/metadata.json"],
          names=("metadata.json", "input"), setup=default_model))
    add(A(kind, "predict --article --output the article", ["predict", "--article", "art.txt", "--model", "m",
                                                           "--output", "art.txt"], names=("art.txt", "input")))
    add(A(kind, "predict --article --output a hard link", ["predict", "--article", "art.txt", "--model", "m",
                                                           "--output", "hard.txt"], names=("hard.txt", "input"),
          setup=hardlink("hard.txt", "art.txt")))
    add(A(kind, "extract --out the article", ["extract", "art.txt", "--out", "art.txt"], names=("art.txt", "input")))
    add(A(kind, "extract --out the second article", ["extract", "art.txt", "formula.txt", "--out", "./formula.txt"],
          names=("formula.txt", "input")))
    add(A(kind, "extract --out the --skip-labelled file", ["extract", "art.txt", "--skip-labelled", "labels.csv",
                                                           "--out", "labels.csv"], names=("labels.csv", "input")))
    add(A(kind, "extract --out a link to the article", ["extract", "art.txt", "--out", "out.csv"],
          names=("out.csv", "input"), setup=symlink("out.csv", "art.txt")))
    add(A(kind, "suggest --out the candidates", ["suggest", "cand.csv", "--model", "m", "--out", "cand.csv"],
          names=("cand.csv", "input")))
    add(A(kind, "suggest --out a hard link of them", ["suggest", "cand.csv", "--model", "m", "--out", "h.csv"],
          names=("h.csv", "input"), setup=hardlink("h.csv", "cand.csv")))
    add(A(kind, "suggest --out the model's metadata", ["suggest", "cand.csv", "--model", "m", "--out",
                                                       "m/metadata.json"], names=("metadata.json", "input")))
    add(A(kind, "suggest --out the weights", ["suggest", "cand.csv", "--model", "m", "--out", "{weights}"],
          names=("weights-", "input")))

    # --output onto things that are not regular files
    kind = "output onto special files"
    add(A(kind, "predict --output /dev/null", [*S, "--output", "/dev/null"], names=("/dev/null", "not a regular file")))
    add(A(kind, "predict --output /dev/full", [*S, "--output", "/dev/full"], names=("/dev/full",)))
    add(A(kind, "predict --output /dev/stderr", [*S, "--output", "/dev/stderr"], names=("/dev/stderr",)))
    for target in ("-", "/dev/stdout", "/proc/self/fd/1", "/dev/fd/1"):
        add(A(kind, f"predict --output {target} (a stream)", [*S, "--output", target], code=0,
              check=stdout_has("p_cooperate", TEXT)))
    add(A(kind, "predict --output /dev/stdout > file", f"stance predict '{TEXT}' --model m --output /dev/stdout > o.txt",
          code=0, changes=("o.txt",), check=file_has("o.txt", TEXT)))
    add(A(kind, "predict --output /proc/self/fd/1 > file", f"stance predict '{TEXT}' --model m --output /proc/self/fd/1 "
          "> o.txt", code=0, changes=("o.txt",), check=file_has("o.txt", TEXT)))
    add(A(kind, "predict --output a fifo", [*S, "--output", "f"], names=("f:", "not a regular file"), setup=mkfifo("f"),
          timeout=20))
    add(A(kind, "predict --output a link to a fifo", [*S, "--output", "l"], names=("l:", "not a regular file"),
          setup=both(mkfifo("f"), symlink("l", "f")), timeout=20))
    add(A(kind, "predict --output a socket", [*S, "--output", "s"], names=("s:",), setup=unix_socket("s")))
    add(A(kind, "predict --output a directory", [*S, "--output", "sub"], names=("sub", "directory"), setup=mkdir("sub")))
    add(A(kind, "predict --output .", [*S, "--output", "."], names=("directory",)))
    add(A(kind, "predict --output ''", [*S, "--output", ""], names=("directory",)))
    add(A(kind, "extract --out /dev/null", ["extract", "art.txt", "--out", "/dev/null"], names=("/dev/null",)))
    add(A(kind, "extract --out a fifo", ["extract", "art.txt", "--out", "f"], names=("f:",), setup=mkfifo("f"),
          timeout=20))
    add(A(kind, "suggest --out /dev/null", ["suggest", "cand.csv", "--model", "m", "--out", "/dev/null"],
          names=("/dev/null",)))
    add(A(kind, "suggest --out -", ["suggest", "cand.csv", "--model", "m", "--out", "-"], code=0,
          check=stdout_has("guess")))
    add(A(kind, "predict > /dev/full", "stance predict --file in.txt --model m > /dev/full",
          names=("standard output",)))
    add(A(kind, "explain --global > /dev/full", "stance explain --global --model m > /dev/full",
          names=("standard output",)))
    add(A(kind, "predict with stdout closed", f"stance predict '{TEXT}' --model m >&-", names=("standard output",)))
    add(A(kind, "predict --output file with stdout closed", f"stance predict '{TEXT}' --model m --output o.csv >&-",
          code=0, changes=("o.csv",), check=file_has("o.csv", TEXT)))

    # --output into folders that do not exist (yet)
    kind = "output into missing folders"
    add(A(kind, "predict --output new/deep/out.csv", [*P, "--output", "new/deep/out.csv"], code=0,
          changes=("new", "new/deep", "new/deep/out.csv"), check=file_has("new/deep/out.csv", "p_cooperate")))
    add(A(kind, "failed predict leaves no folder", ["predict", "--file", "nowhere.txt", "--model", "m", "--output",
                                                    "new/deep/out.csv"], names=("nowhere.txt",)))
    add(A(kind, "predict failing mid-file leaves no folder", ["predict", "--file", "bad.txt", "--model", "m",
                                                              "--output", "new/out.csv"], names=("bad.txt line 3",),
          setup=write("bad.txt", b"A first sentence here.\nA second one.\nbad \xff byte\n")))
    add(A(kind, "predict --output under a file", [*P, "--output", "in.txt/out.csv"], names=("in.txt/out.csv",)))
    add(A(kind, "extract --out new/x.csv", ["extract", "art.txt", "--out", "new/x.csv"], code=0,
          changes=("new", "new/x.csv")))
    add(A(kind, "failed extract leaves no folder", ["extract", "gone.txt", "--out", "new/x.csv"], names=("gone.txt",)))
    add(A(kind, "failed suggest leaves no folder", ["suggest", "gone.csv", "--model", "m", "--out", "new/x.csv"],
          names=("gone.csv",)))
    add(A(kind, "failed train leaves no folder", ["train", "--labels", "gone.csv", "--model", "new/deep/m"],
          names=("gone.csv",)))
    add(A(kind, "train failing in cross-validation leaves no folder",
          ["train", "--labels", "one.csv", "--model", "new/m", "--jobs", "1"], names=("one.csv", "two sources"),
          progress=True, setup=write("one.csv", csv_text([dict(r, source="a.txt") for r in toy_rows()]))))
    add(A(kind, "failed evaluate leaves no --plot folder", ["evaluate", "--test", "gone.csv", "--model", "m",
                                                            "--plot", "new/p.png"], names=("gone.csv",)))
    add(A(kind, "evaluate --plot new/p.png", ["evaluate", "--test", "labels.csv", "--model", "m", "--plot",
                                              "new/p.png"], code=0, changes=("new", "new/p.png"),
          check=file_has("new/p.png")))
    add(A(kind, "failed learning-curve leaves no --plot folder", ["learning-curve", "--labels", "gone.csv", "--model",
                                                                  "m", "--plot", "new/c.png"], names=("gone.csv",)))
    add(A(kind, "predict --output in a folder nobody may write", [*P, "--output", "ro/out.csv"],
          names=("ro/out.csv", "Permission denied"), user="nobody", setup=mkdir("ro", 0o755, 0)))
    add(A(kind, "predict --output under a folder nobody may write", [*P, "--output", "ro/new/out.csv"],
          names=("ro/new/out.csv",), user="nobody", setup=mkdir("ro", 0o755, 0)))

    # the file written keeps the mode of the one it replaces, or takes the umask's
    kind = "modes kept"
    for mode in (0o600, 0o640, 0o755, 0o444):
        add(A(kind, f"predict --output over a {oct(mode)} file", [*P, "--output", "out.csv"], code=0,
              setup=write("out.csv", "old\n", mode), changes=("out.csv",),
              check=file_has("out.csv", "p_cooperate", mode=mode)))
    for umask, mode in ((0o077, 0o600), (0o022, 0o644), (0o002, 0o664)):
        add(A(kind, f"predict --output new file, umask {oct(umask)}", [*P, "--output", "out.csv"], code=0,
              umask=umask, changes=("out.csv",), check=file_has("out.csv", "p_cooperate", mode=mode)))
    add(A(kind, "extract --out over a 0o600 file", ["extract", "art.txt", "--out", "x.csv"], code=0,
          setup=write("x.csv", "old\n", 0o600), changes=("x.csv",), check=file_has("x.csv", "speaker", mode=0o600)))
    add(A(kind, "suggest --out over a 0o640 file", ["suggest", "cand.csv", "--model", "m", "--out", "x.csv"], code=0,
          setup=write("x.csv", "old\n", 0o640), changes=("x.csv",), check=file_has("x.csv", "guess", mode=0o640)))
    add(A(kind, "predict --output through a link keeps the link", [*P, "--output", "l.csv"], code=0,
          setup=both(write("real.csv", "old\n", 0o600), symlink("l.csv", "real.csv")), changes=("real.csv",),
          check=file_has("real.csv", "p_cooperate", mode=0o600)))
    if IS_ROOT:
        add(A(kind, "predict --output over another user's file keeps its owner", [*P, "--output", "out.csv"], code=0,
              setup=both(write("out.csv", "old\n", 0o644), lambda w: os.chown(w / "out.csv", NOBODY, NOBODY)),
              changes=("out.csv",), check=checks(file_has("out.csv", "p_cooperate", mode=0o644),
                                                 owner_is("out.csv", NOBODY))))
    add(A(kind, "train into a new folder, umask 0o077", ["train", "--labels", "labels.csv", "--model", "new", "--jobs",
                                                         "1"], code=0, umask=0o077, changes=("new", "new/*"),
          progress=True, check=lambda w, r: [f"{p.name} has mode {oct(stat.S_IMODE(p.stat().st_mode))}"
                                             for p in (w / "new").iterdir() if stat.S_IMODE(p.stat().st_mode) != 0o600],
          timeout=120))

    # damaged model directories: one line naming the file, never a traceback or a wrong answer
    kind = "damaged model: metadata fields"
    sample = _sample_metadata()
    for dotted, value, required in _metadata_fields(sample):
        leaf = dotted.rsplit(".", 1)[-1].split("[")[0].replace("format_version", "format")
        for label, wrong in _wrong_values(dotted, value):
            add(A(kind, f"{dotted} = {label}", S, names=("m/metadata.json", leaf), setup=set_field(dotted, wrong)))
        add(A(kind, f"{dotted} missing", S, code=1 if required else 0, names=("m/metadata.json", leaf),
              setup=set_field(dotted, MISSING)))
    for dotted in ("format_version", "seed", "rows", "compiled.blocks[0].features", "compiled.temperature",
                   "params.C", "compiled.blocks[0].ngram_range[1]"):
        add(A(kind, f"{dotted} = a 5,000-digit integer", S, names=("m/metadata.json",),
              setup=raw_field(dotted, "9" * 5000)))
    for dotted in ("seed", "rows", "compiled.blocks[0].features", "files.weights.bytes", "label_counts.neutral"):
        add(A(kind, f"{dotted} = a 4,000-digit integer", S, names=("m/metadata.json", dotted.rsplit(".")[-1].split("[")[0]),
              setup=raw_field(dotted, "9" * 4000)))
    for dotted, raw in (("compiled.temperature", "NaN"), ("cv.macro_f1_mean", "NaN"), ("training_seconds", "Infinity"),
                        ("params.C", "-Infinity"), ("temperature", "NaN")):
        add(A(kind, f"{dotted} = {raw}", S, names=("m/metadata.json", dotted.rsplit(".")[-1]),
              setup=raw_field(dotted, raw)))

    kind = "damaged model: temperature, classes, n-grams"
    for value in (-1, 0, "NaN", 1e-9, 1e9, "1", True, None):
        setup = raw_field("compiled.temperature", value) if value == "NaN" else set_field("compiled.temperature", value)
        add(A(kind, f"temperature {value!r}", S, names=("m/metadata.json", "temperature"), setup=setup))
    for classes in (["cooperate", "decline"], ["cooperate", "decline", "neutral", "other"]):
        add(A(kind, f"{len(classes)} classes on a 3-class model", S, names=("m/",),
              setup=set_fields({"classes": classes, "compiled.classes": classes})))
    add(A(kind, "classes and compiled.classes disagree", S, names=("m/metadata.json", "classes"),
          setup=set_field("classes", ["decline", "cooperate", "neutral"])))
    for classes in (["a", "a", "b"], ["a", "", "b"], ["a", 5, "b"], ["only"], []):
        add(A(kind, f"classes {classes!r}", S, names=("m/metadata.json", "classes"),
              setup=set_fields({"classes": classes, "compiled.classes": classes})))
    for analyzer in ("char", "WORD", "", None, 5, "char_wb "):
        add(A(kind, f"analyzer {analyzer!r}", S, names=("m/metadata.json", "analyzer"),
              setup=set_field("compiled.blocks[0].analyzer", analyzer)))
    ranges = ([0, 0], [-5, 2], [1, 1e9], [1, 10**9], [2, 1], [1], [1, 2, 3], "1-2", None, [1.0, 2.0], [True, True])
    for where in ("compiled.blocks[0].ngram_range", "compiled.blocks[1].ngram_range", "params.word_ngram",
                  "params.char_ngram"):
        for value in ranges if where == "compiled.blocks[0].ngram_range" else ranges[:4] + ranges[6:7]:
            if value is None and where == "params.char_ngram":
                continue  # no character n-grams: valid
            leaf = where.rsplit(".", 1)[-1].split("[")[0]
            add(A(kind, f"{where} {value!r}", S, names=("m/metadata.json", leaf), setup=set_field(where, value)))
    for value in (-1, 10**9, "61", 1.5):
        add(A(kind, f"features {value!r}", S, names=("m/metadata.json", "features"),
              setup=set_field("compiled.blocks[0].features", value)))
    add(A(kind, "features one off", S, names=("weights-",),
          setup=lambda w: set_field("compiled.blocks[0].features",
                                    read_meta(w)["compiled"]["blocks"][0]["features"] + 1)(w)))
    add(A(kind, "scope_version 2", S, names=("weights-", "scope"), setup=set_field("compiled.blocks[0].scope_version", 2)))
    add(A(kind, "scope read on character n-grams", S, names=("weights-", "scope"),
          setup=set_field("compiled.blocks[1].scope_version", 1)))
    add(A(kind, "a block more than the weights hold", S, names=("weights-",),
          setup=lambda w: set_field("compiled.blocks", read_meta(w)["compiled"]["blocks"] * 2)(w)))
    add(A(kind, "a block fewer than the weights hold", S, names=("m/",),
          setup=lambda w: set_field("compiled.blocks", read_meta(w)["compiled"]["blocks"][:1])(w)))
    add(A(kind, "params with an unknown key", S, names=("m/metadata.json", "params"), setup=set_field("params.gamma", 1)))

    kind = "damaged model: files"
    for name, setup, names in [
        ("model directory missing", lambda w: shutil.rmtree(w / "m"), ("m:", "no model directory")),
        ("model directory is a file", both(lambda w: shutil.rmtree(w / "m"), write("m", "x")), ("m:",)),
        ("metadata.json missing", lambda w: (w / "m" / "metadata.json").unlink(), ("m/metadata.json", "missing")),
        ("metadata.json a directory", both(lambda w: (w / "m" / "metadata.json").unlink(), mkdir("m/metadata.json")),
         ("m/metadata.json", "directory")),
        ("metadata.json empty", write("m/metadata.json", ""), ("m/metadata.json", "corrupt")),
        ("metadata.json null", write("m/metadata.json", "null"), ("m/metadata.json", "JSON object")),
        ("metadata.json a list", write("m/metadata.json", "[]"), ("m/metadata.json", "JSON object")),
        ("metadata.json a number", write("m/metadata.json", "2"), ("m/metadata.json", "JSON object")),
        ("metadata.json not UTF-8", write("m/metadata.json", b'{"format_version": 2, "x": "\xff"}'),
         ("m/metadata.json", "corrupt")),
        ("metadata.json truncated", lambda w: (w / "m/metadata.json").write_text((w / "m/metadata.json").read_text()[:300]),
         ("m/metadata.json", "corrupt")),
        ("metadata.json nested 100,000 deep", write("m/metadata.json", "[" * 100_000 + "]" * 100_000),
         ("m/metadata.json",)),
        ("metadata.json a fifo", both(lambda w: (w / "m/metadata.json").unlink(), mkfifo("m/metadata.json")),
         ("m/metadata.json",)),
        ("metadata.json a link to /dev/zero", both(lambda w: (w / "m/metadata.json").unlink(),
                                                   symlink("m/metadata.json", "/dev/zero")), ("m/metadata.json",)),
        ("format_version 1", set_field("format_version", 1), ("m/metadata.json", "format 1")),
        ("weights missing", lambda w: (w / w.part()).unlink(), ("weights-", "missing")),
        ("weights empty", lambda w: (w / w.part()).write_bytes(b""), ("weights-",)),
        ("weights truncated", lambda w: (w / w.part()).write_bytes((w / w.part()).read_bytes()[:1000]), ("weights-",)),
        ("weights garbage of the same size", lambda w: (w / w.part()).write_bytes(b"g" * (w / w.part()).stat().st_size),
         ("weights-", "sha256")),
        ("weights of another size", lambda w: (w / w.part()).write_bytes(b"garbage" * 100), ("weights-", "bytes")),
        ("weights a directory", lambda w: ((w / w.part()).unlink(), (w / w.part()).mkdir()), ("weights-",)),
        ("weights a fifo", lambda w: ((w / w.part()).unlink(), os.mkfifo(w / w.part())), ("weights-",)),
        ("weights a link to /dev/zero", lambda w: ((w / w.part()).unlink(), os.symlink("/dev/zero", w / w.part())),
         ("weights-",)),
        ("weights not a zip, hash matching", part_bytes("weights", b"not a zip file" * 50, True), ("weights-",)),
        ("files.weights.name outside the directory", set_field("files.weights.name", "../labels.csv"),
         ("m/metadata.json", "weights")),
        ("files.weights.name the pipeline", lambda w: set_field("files.weights.name", w.part("pipeline")[2:])(w),
         ("m/metadata.json", "weights")),
        ("files.weights.bytes wrong", lambda w: set_field("files.weights.bytes", read_meta(w)["files"]["weights"]
                                                          ["bytes"] + 1)(w), ("weights-",)),
    ]:
        add(A(kind, name, S, names=names, setup=setup, timeout=20))
    for name, user_setup, names in [
        ("metadata.json unreadable", chmod("m/metadata.json", 0), ("m/metadata.json", "Permission denied")),
        ("weights unreadable", lambda w: os.chmod(w / w.part(), 0), ("weights-", "Permission denied")),
        ("model directory unreadable", chmod("m", 0), ("m", "Permission denied")),
    ]:
        add(A(kind, name, S, names=names, setup=user_setup, user="nobody"))

    kind = "damaged model: arrays"
    import numpy as np  # noqa: E402  (only to build damaged arrays)

    for name, change, names in [
        ("coef of the wrong shape", lambda a: a.update(coef_0=a["coef_0"][:, :2]), ("weights-", "shape")),
        ("coef transposed", lambda a: a.update(coef_0=a["coef_0"].T.copy()), ("weights-", "shape")),
        ("idf one short", lambda a: a.update(idf_0=a["idf_0"][:-1]), ("weights-", "shape")),
        ("intercept of 2", lambda a: a.update(intercept=a["intercept"][:2]), ("weights-", "intercept")),
        ("intercept of 0-d", lambda a: a.update(intercept=np.float64(1.0)), ("weights-", "intercept")),
        ("NaN coefficient", lambda a: a["coef_0"].__setitem__((0, 0), np.nan), ("weights-", "not finite")),
        ("infinite idf", lambda a: a["idf_1"].__setitem__(0, np.inf), ("weights-", "not finite")),
        ("NaN intercept", lambda a: a["intercept"].__setitem__(0, np.nan), ("weights-",)),
        ("coef as strings", lambda a: a.update(coef_0=a["coef_0"].astype(str)), ("weights-",)),
        ("coef missing", lambda a: a.pop("coef_0"), ("weights-", "coef_0")),
        ("vocabulary with a duplicate", lambda a: a.update(vocabulary_0=np.frombuffer(
            b"\n".join([a["vocabulary_0"].tobytes().split(b"\n")[0]] * 2 + a["vocabulary_0"].tobytes().split(b"\n")[2:]),
            dtype=np.uint8)), ("weights-",)),
        ("vocabulary not UTF-8", lambda a: a.update(vocabulary_0=np.frombuffer(b"\xff" + a["vocabulary_0"].tobytes()[1:],
                                                                                dtype=np.uint8)), ("weights-",)),
        ("an array no block reads", lambda a: a.update(coef_9=a["coef_0"]), ("weights-",)),
    ]:
        add(A(kind, name, S, names=names, setup=arrays(change)))
    add(A(kind, "NaN coefficient, hash not updated", S, names=("weights-", "sha256"),
          setup=arrays(lambda a: a["coef_0"].__setitem__((0, 0), np.nan), consistent=False)))

    kind = "damaged model: swapped and malicious files"
    swap_weights = lambda w: (w / w.part()).write_bytes((w / w.part("weights", "other")).read_bytes())  # noqa: E731
    add(A(kind, "weights replaced by another model's", S, names=("weights-", "metadata.json records"),
          setup=swap_weights))
    add(A(kind, "another model's weights, metadata.json pointed at them", S, names=("weights-",),
          setup=lambda w: _rehash(w, "weights", (w / w.part("weights", "other")).read_bytes())))
    add(A(kind, "another model's metadata.json", S, names=("m/", "missing"),
          setup=lambda w: shutil.copy(w / "other/metadata.json", w / "m/metadata.json")))
    add(A(kind, "another model's files copied in beside", P + ["--format", "csv"], code=0, check=same_as("m"),
          setup=lambda w: [shutil.copy(p, w / "m") for p in (w / "other").iterdir() if p.name != "metadata.json"]))
    add(A(kind, "another model copied in whole", S, code=0,
          setup=lambda w: [shutil.copy(p, w / "m") for p in (w / "other").iterdir()]))
    swap_pipeline = lambda w: (w / w.part("pipeline")).write_bytes((w / w.part("pipeline", "other")).read_bytes())  # noqa: E731
    add(A(kind, "pipeline replaced by another model's: predict unaffected", P + ["--format", "csv"], code=0,
          check=same_as("m"), setup=swap_pipeline))
    load_sklearn = ["python", "-c", "import sys, stance\nfrom stance.errors import ModelError\ntry:\n"
                    "    stance.load('m', backend='sklearn')\nexcept ModelError as err:\n"
                    "    print(f'stance: error: {err}', file=sys.stderr)\n    sys.exit(1)\n"]
    add(A(kind, "pipeline replaced by another model's: load(backend=sklearn) refuses", load_sklearn,
          names=("model-", "metadata.json records"), setup=swap_pipeline))
    evil = part_bytes("pipeline", evil_pickle, consistent=False)
    add(A(kind, "malicious pickle is live (control: joblib.load runs it)",
          ["python", "-c", "import glob, joblib; joblib.load(glob.glob('m/model-*.joblib')[0])"], code=0,
          setup=evil, check=lambda w, r: [] if (w / MARKER).exists() else ["the control pickle did not run"],
          changes=(MARKER,)))
    add(A(kind, "malicious pickle: load(backend=sklearn) refuses (sha256)", load_sklearn, names=("model-", "sha256"),
          setup=evil))
    for label, setup in (("hash not updated", evil), ("metadata.json updated to match",
                                                      part_bytes("pipeline", evil_pickle, consistent=True)),
                         ("as a format-1 model.joblib", lambda w: (w / "m/model.joblib").write_bytes(evil_pickle(w)))):
        for argv in (S, ["explain", TEXT, "--model", "m"], ["suggest", "cand.csv", "--model", "m"],
                     ["evaluate", "--test", "labels.csv", "--model", "m"],
                     ["learning-curve", "--labels", "labels.csv", "--model", "m", "--folds", "2"]):
            add(A(kind, f"malicious pickle, {label}: {argv[0]} never runs it", argv, code=0, setup=setup,
                  progress=True, timeout=120))
        add(A(kind, f"malicious pickle, {label}: serve never runs it", scenario=serve_once, setup=setup))
    add(A(kind, "malicious object array in the weights", S, names=("weights-",),
          setup=part_bytes("weights", evil_npz, consistent=True)))
    add(A(kind, "a model saved by the Python API loads", ["python", "-c", API_SAVE], code=0, changes=("api", "api/*")))

    # two trains on one model, and readers while a train replaces it
    kind = "concurrent trains"
    for spelling in ("m", "./m/", "mlink", "{w}/m"):
        add(A(kind, f"second train on --model {spelling}", scenario=concurrent_trains(spelling),
              setup=symlink("mlink", "m"), changes=("m/*",), timeout=180))
    kind = "predict while the model is replaced"
    add(A(kind, "predict in a loop while train replaces the model", scenario=predict_during_train, timeout=180,
          setup=write("l2.csv", csv_text([r for r in toy_rows() if r["source"] != "article_7.txt"][::-1])),
          changes=("m/*",)))
    add(A(kind, "predict in a loop while two models swap 120 times", scenario=predict_during_swaps, timeout=180,
          changes=("m/*",)))

    # signals: no partial files, no orphans
    kind = "signals"
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        add(A(kind, f"{signum.name} during predict --file - --output (new file)",
              scenario=stop_streaming_predict(signum, existing=False)))
    add(A(kind, "SIGTERM during predict --file - --output (existing file)",
          scenario=stop_streaming_predict(signal.SIGTERM, existing=True), setup=write("out.csv", "previous results\n")))
    add(A(kind, "SIGTERM during predict of a long file --output", scenario=stop_file_predict))
    for signum, group, model in ((signal.SIGTERM, False, "m"), (signal.SIGHUP, False, "m"),
                                 (signal.SIGTERM, False, "new/m"), (signal.SIGTERM, True, "m"),
                                 (signal.SIGINT, True, "m")):
        add(A(kind, f"{signum.name} to {'the process group' if group else 'stance'} during train --model {model}",
              scenario=stop_train(signum, group, model), timeout=180))
    add(A(kind, "SIGKILL during train: the old model stays whole", scenario=kill_train, changes=(".m.lock", "m/*"),
          timeout=180))
    add(A(kind, "SIGTERM during evaluate --plot new/p.png", scenario=stop_evaluate, timeout=180))
    add(A(kind, "SIGTERM to serve", scenario=serve_once))

    # a reader that leaves the pipe early
    kind = "pipes"
    big = write("big.txt", "".join(f"The jail will honor detainer number {i}.\n" for i in range(3000)))
    for fmt in ("table", "csv", "jsonl"):
        add(A(kind, f"predict --format {fmt} | head -1", f"stance predict --file big.txt --model m --format {fmt} | "
              "head -1", code=0, setup=big, check=lines_out(1)))
    add(A(kind, "predict --file - < big | head -1", "stance predict --file - --model m < big.txt | head -1", code=0,
          setup=big, check=lines_out(1)))
    add(A(kind, "predict --output /dev/stdout | head -1", "stance predict --file big.txt --model m --output /dev/stdout"
          " | head -1", code=0, setup=big, check=lines_out(1)))
    add(A(kind, "predict --explain 3 | head -1", "stance predict --file big.txt --model m --explain 3 | head -1",
          code=0, setup=big, check=lines_out(1)))
    add(A(kind, "predict --article | head -1", "stance predict --article big.txt --model m | head -1", code=0,
          setup=big, check=lines_out(1)))
    add(A(kind, "explain --global | head -1", "stance explain --global --top 5000 --model m | head -1", code=0,
          check=lines_out(1)))
    add(A(kind, "extract | head -1", "stance extract big.txt | head -1", code=0, setup=big, check=lines_out(1)))
    add(A(kind, "suggest | head -1", "stance suggest big.csv --model m --n 5000 | head -1", code=0,
          setup=write("big.csv", "text\n" + "".join(f"Officials in {i} {i + 5000} {i + 9000} {i + 13000} said ICE.\n"
                                                    for i in range(3000))),
          check=lines_out(1)))
    add(A(kind, "evaluate --json | head -1", "stance evaluate --test labels.csv --model m --json --errors 90 | head -1",
          code=0, check=lines_out(1)))
    add(A(kind, "validate | head -1", "stance validate warn.csv | head -1", code=0, check=lines_out(1),
          setup=write("warn.csv", csv_text(toy_rows() * 30))))
    add(A(kind, "--help | head -1", "stance predict --help | head -1", code=0, check=lines_out(1)))
    add(A(kind, "predict | true", "stance predict --file big.txt --model m | true", code=0, setup=big))

    # CSV outputs neutralise formula cells, unless --raw-csv
    kind = "CSV formula cells"
    add(A(kind, "extract neutralises", ["extract", "formula.txt"], code=0, check=neutralised(expect=tuple(FORMULAS))))
    add(A(kind, "extract --raw-csv keeps", ["extract", "formula.txt", "--raw-csv"], code=0,
          check=neutralised(raw=True, expect=tuple(FORMULAS))))
    add(A(kind, "extract of a file named =cmd.txt", ["extract", "=cmd.txt"], code=0, setup=write("=cmd.txt", ARTICLE),
          check=neutralised(expect=("=cmd.txt",))))
    add(A(kind, "extract --out neutralises", ["extract", "formula.txt", "--out", "x.csv"], code=0, changes=("x.csv",),
          check=neutralised("x.csv", expect=tuple(FORMULAS))))
    cells = {"text": FORMULAS[0], "label": "", "source": "+cmd", "note": "-2", "origin": "@x", "state": "\tTX",
             "year": "\r2020"}
    formula_candidates = write("fc.csv", csv_text([cells, dict(cells, text=FORMULAS[1]), dict(cells, text=TEXT)],
                                                  tuple(cells)))
    add(A(kind, "suggest neutralises every column", ["suggest", "fc.csv", "--model", "m"], code=0,
          setup=formula_candidates, check=neutralised(expect=(FORMULAS[0], "+cmd", "@x", "\tTX", "\r2020"))))
    add(A(kind, "suggest --raw-csv keeps", ["suggest", "fc.csv", "--model", "m", "--raw-csv"], code=0,
          setup=formula_candidates, check=neutralised(raw=True, expect=(FORMULAS[0], "+cmd", "@x", "\tTX"))))
    add(A(kind, "suggest reads extract's neutralised file back", "stance extract formula.txt --out x.csv && "
          "stance suggest x.csv --model m", code=0, changes=("x.csv",), check=neutralised(expect=tuple(FORMULAS))))
    for start in FORMULA_START:
        text = f"{start}cmd the sheriff will keep honoring ICE detainers."
        add(A(kind, f"predict --format csv, text starting {start!r}", ["predict", "--model", "m", "--format", "csv",
                                                                         "--", text], code=0,
              check=neutralised(expect=(text,))))
        add(A(kind, f"predict --raw-csv, text starting {start!r}", ["predict", "--model", "m", "--format", "csv",
                                                                     "--raw-csv", "--", text], code=0,
              check=neutralised(raw=True, expect=(text,))))
    add(A(kind, "predict --article --format csv neutralises", ["predict", "--article", "formula.txt", "--model", "m",
                                                               "--format", "csv"], code=0,
          check=neutralised(expect=tuple(FORMULAS))))
    add(A(kind, "predict --format jsonl keeps the text", ["predict", FORMULAS[0], "--model", "m", "--format", "jsonl"],
          code=0, check=lambda w, r: [] if json.loads(r.stdout)["text"] == FORMULAS[0] else ["jsonl text changed"]))
    add(A(kind, "predict reads a neutralised file as the text", "stance extract formula.txt --out x.csv && "
          "stance predict --file x.csv --model m --format jsonl", code=0, changes=("x.csv",),
          check=lambda w, r: [] if [json.loads(line)["text"] for line in r.stdout.splitlines()] == FORMULAS
          else ["texts read back differ from the article's"]))

    # header names
    kind = "duplicate header names"
    for name, argv, setup, names in [
        ("predict --file text,text", ["predict", "--file", "d.csv", "--model", "m"], write("d.csv", "text,text\na b c,d e\n"),
         ("d.csv line 1", "twice")),
        ("predict --file 'text, text '", ["predict", "--file", "d.csv", "--model", "m"],
         write("d.csv", "text, text \na b c,d e\n"), ("d.csv line 1", "twice")),
        ("predict --file id,text,id", ["predict", "--file", "d.csv", "--model", "m"],
         write("d.csv", "id,text,id\n1,a b c,2\n"), ("d.csv line 1", "twice")),
        ("train --labels text,label,label", ["train", "--labels", "d.csv", "--model", "m"],
         write("d.csv", csv_text(toy_rows()).replace("text,label,source,note", "text,label,label,note", 1)),
         ("d.csv line 1", "twice")),
        ("validate text,label,text", ["validate", "d.csv"],
         write("d.csv", csv_text(toy_rows()).replace("text,label,source,note", "text,label,text,note", 1)),
         ("d.csv line 1", "twice")),
        ("evaluate --test with label twice", ["evaluate", "--test", "d.csv", "--model", "m"],
         write("d.csv", csv_text(toy_rows()).replace("text,label,source,note", "text,label,source,label", 1)),
         ("d.csv line 1", "twice")),
        ("suggest source,source", ["suggest", "d.csv", "--model", "m"],
         write("d.csv", "text,source,source\nThe jail will hold inmates for ICE.,a,b\n"), ("d.csv line 1", "twice")),
        ("extract --skip-labelled text,text", ["extract", "art.txt", "--skip-labelled", "d.csv"],
         write("d.csv", "text,text\na,b\n"), ("d.csv line 1", "twice")),
    ]:
        add(A(kind, name, argv, names=names, setup=setup))

    kind = "JSONL"
    J = ["predict", "--file", "j.jsonl", "--model", "m"]
    for name, content, names in [
        ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000 + "\n", ("j.jsonl line 1",)),
        ("text nested 100,000 deep", '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n", ("j.jsonl line 1",)),
        ("a 5,000-digit number", '{"text": "The jail.", "n": ' + "9" * 5000 + "}\n", ("j.jsonl line 1",)),
        ("text a 5,000-digit number", '{"text": ' + "9" * 5000 + "}\n", ("j.jsonl line 1",)),
        ("text a number", '{"text": 5}\n', ("j.jsonl line 1", "not a string")),
        ("text an object", '{"text": {"a": 1}}\n', ("j.jsonl line 1", "not a string")),
        ("text null", '{"text": null}\n', ("j.jsonl line 1",)),
        ("text NaN", '{"text": NaN}\n', ("j.jsonl line 1",)),
        ("text empty", '{"text": "  "}\n', ("j.jsonl line 1", "empty")),
        ("text a lone surrogate", '{"text": "The jail \\ud800 will hold."}\n', ("j.jsonl line 1",)),
        ("a list line", '{"text": "The jail."}\n[1, 2]\n', ("j.jsonl line 2", "object")),
        ("a string line", '"The jail."\n', ("j.jsonl line 1", "object")),
        ("a null line", "null\n", ("j.jsonl line 1", "object")),
        ("a number line", "42\n", ("j.jsonl line 1", "object")),
        ("no text field", '{"body": "x"}\n', ("j.jsonl line 1", "text")),
        ("two objects on a line", '{"text": "a"} {"text": "b"}\n', ("j.jsonl line 1", "JSON")),
        ("truncated object", '{"text": "The jail will\n', ("j.jsonl line 1", "JSON")),
        ("invalid UTF-8 on line 3", b'{"text": "a b"}\n{"text": "c d"}\n{"text": "\xff"}\n', ("j.jsonl line 3", "UTF-8")),
    ]:
        add(A(kind, name, J, names=names, setup=write("j.jsonl", content)))
    for name, content in [("a huge float is a number", '{"text": "The jail will hold.", "n": 1e999}\n'),
                          ("CRLF line ends", '{"text": "The jail will hold."}\r\n{"text": "Police will not."}\r\n'),
                          ("a byte-order mark", '\ufeff{"text": "The jail will hold."}\n'),
                          ("a 1,000,000-character text", json.dumps({"text": "word " * 200_000}) + "\n")]:
        add(A(kind, name, J, code=0, setup=write("j.jsonl", content)))

    # option values
    kind = "folds"
    add(A(kind, "train --folds 1000 (rarest label has 32 rows)", ["train", "--labels", "labels.csv", "--model", "m",
                                                                  "--folds", "1000", "--jobs", "1"], code=0,
          progress=True, changes=("m", "m/*"), timeout=180,
          check=lambda w, r: [] if read_meta(w)["cv"]["folds"] <= 32 else ["more folds than the rarest label has rows"]))
    add(A(kind, "train --folds 6 on 5 rows a label", ["train", "--labels", "five.csv", "--model", "new", "--folds", "6",
                                                      "--jobs", "1"], code=0, progress=True, changes=("new", "new/*"),
          setup=write("five.csv", csv_text([r for r in toy_rows() if r["source"] in ("article_0.txt", "article_1.txt")]
                                           [:-3])), timeout=180))
    add(A(kind, "evaluate --folds 1000 (nested)", ["evaluate", "--labels", "labels.csv", "--folds", "1000"],
          names=("labels.csv", "1000")))
    add(A(kind, "learning-curve --folds 1000", ["learning-curve", "--labels", "labels.csv", "--model", "m", "--folds",
                                                "1000"], code=0, progress=True, timeout=180))
    for value in ("1", "0", "-3", "x"):
        add(A(kind, f"train --folds {value}", ["train", "--folds", value], code=2, names=("--folds",)))

    kind = "numeric options"
    E = ["evaluate", "--test", "labels.csv", "--model", "m"]
    for value in ("-1", str(10**20), str(2**32), "1.5", "abc", ""):
        for command in (["train"], E, ["learning-curve"]) if value in ("-1", str(10**20)) else (["train"],):
            add(A(kind, f"{command[0]} --seed {value[:12]}", [*command, "--seed", value], code=2, names=("--seed",)))
    add(A(kind, "evaluate --seed 4294967295", [*E, "--seed", str(2**32 - 1)], code=0))
    for value in ("nan", "inf", "-inf", "-0.1", "1.01", "NaN"):
        add(A(kind, f"suggest --rare-share {value}", ["suggest", "cand.csv", "--model", "m", "--rare-share", value],
              code=2, names=("--rare-share",)))
        add(A(kind, f"predict --min-prob {value}", [*S, "--min-prob", value], code=2, names=("--min-prob",)))
    add(A(kind, "suggest --rare-share 1", ["suggest", "cand.csv", "--model", "m", "--rare-share", "1"], code=0))
    add(A(kind, "predict --min-prob 1", [*S, "--min-prob", "1"], code=0, check=stdout_has("uncertain")))
    for argv, option in [(["suggest", "cand.csv", "--model", "m", "--n", "0"], "--n"),
                         (["explain", TEXT, "--model", "m", "--top", "0"], "--top"),
                         ([*S, "--explain", "-1"], "--explain"), ([*E, "--errors", "-1"], "--errors"),
                         (["train", "--jobs", "0"], "--jobs"), (["serve", "--port", "70000"], "--port"),
                         (["serve", "--max-texts", "0"], "--max-texts"), ([*S, "--format", "xml"], "--format")]:
        add(A(kind, " ".join(argv[:1] + argv[-2:]), argv, code=1 if option == "--format" else 2, names=(option,)))
    for argv in (["suggest", "cand.csv", "--model", "m", "--n", str(10**30)], ["explain", TEXT, "--model", "m", "--top",
                                                                                str(10**30)],
                 ["explain", "--global", "--model", "m", "--top", str(10**30)], [*S, "--explain", str(10**30)],
                 [*E, "--errors", str(10**30)]):
        add(A(kind, f"{argv[0]} {argv[-2]} 10**30", argv, code=0))
    add(A(kind, "train --jobs 1000 (capped, not 1000 processes)", ["train", "--labels", "labels.csv", "--model", "new",
                                                                   "--jobs", "1000"], code=0, progress=True,
          changes=("new", "new/*"), timeout=180))
    add(A(kind, "predict --text-column ''", ["predict", "--file", "in.csv", "--model", "m", "--text-column", ""],
          names=("in.csv line 1",)))
    add(A(kind, "train --classes ',,,'", ["train", "--classes", ",,,"], names=("--classes",)))
    add(A(kind, "predict an argument not UTF-8", ["predict", os.fsdecode(b"The jail \xff will hold."), "--model", "m"],
          names=("argument 1", "UTF-8")))
    add(A(kind, "extract a file name not UTF-8 --out", ["extract", os.fsdecode(b"a\xff.txt"), "--out", "x.csv"],
          names=("UTF-8",), setup=lambda w: (w.path / os.fsdecode(b"a\xff.txt")).write_text(ARTICLE)))
    add(A(kind, "serve --host that does not resolve", ["serve", "--model", "m", "--host", "no.such.host.invalid",
                                                       "--port", "0"], names=("no.such.host.invalid",)))
    add(A(kind, "serve on a port in use", scenario=serve_port_in_use))
    add(A(kind, "serve on a privileged port as nobody", ["serve", "--model", "m", "--port", "1"], names=(":1",),
          user="nobody"))

    kind = "drop-conflicts"
    everything = write("c.csv", csv_text(toy_rows() + [dict(r, label="neutral" if r["label"] != "neutral" else
                                                                  "decline") for r in toy_rows()]))
    add(A(kind, "train --drop-conflicts dropping every row", ["train", "--labels", "c.csv", "--model", "m",
                                                              "--drop-conflicts"], names=("c.csv", "0 rows"),
          setup=everything))
    add(A(kind, "train without --drop-conflicts", ["train", "--labels", "c.csv", "--model", "m"],
          names=("c.csv line", "--drop-conflicts"), setup=everything))
    add(A(kind, "evaluate --drop-conflicts dropping every row (nested)", ["evaluate", "--labels", "c.csv",
                                                                          "--drop-conflicts"], names=("c.csv",),
          setup=everything))
    add(A(kind, "evaluate --test --drop-conflicts dropping every row", ["evaluate", "--test", "c.csv", "--model", "m",
                                                                        "--drop-conflicts"],
          names=("c.csv", "no rows"), setup=everything))
    add(A(kind, "train --drop-conflicts leaving a label short", ["train", "--labels", "c.csv", "--model", "m",
                                                                 "--drop-conflicts"], names=("c.csv", "'cooperate'"),
          setup=write("c.csv", csv_text(toy_rows() + [dict(r, label="neutral") for r in toy_rows()
                                                      if r["label"] == "cooperate"][:29]))))

    kind = "unreadable files"
    for name, argv, target in [
        ("train --labels", ["train", "--labels", "labels.csv", "--model", "m"], "labels.csv"),
        ("validate", ["validate", "labels.csv"], "labels.csv"),
        ("evaluate --test", ["evaluate", "--test", "labels.csv", "--model", "m"], "labels.csv"),
        ("evaluate nested --labels", ["evaluate", "--labels", "labels.csv"], "labels.csv"),
        ("learning-curve --labels", ["learning-curve", "--labels", "labels.csv", "--model", "m"], "labels.csv"),
        ("predict --file", ["predict", "--file", "in.txt", "--model", "m"], "in.txt"),
        ("predict --file csv", ["predict", "--file", "in.csv", "--model", "m"], "in.csv"),
        ("predict --article", ["predict", "--article", "art.txt", "--model", "m"], "art.txt"),
        ("extract", ["extract", "art.txt"], "art.txt"),
        ("extract --skip-labelled", ["extract", "art.txt", "--skip-labelled", "labels.csv"], "labels.csv"),
        ("suggest", ["suggest", "cand.csv", "--model", "m"], "cand.csv"),
    ]:
        add(A(kind, f"{name} unreadable", argv, names=(target, "Permission denied"), setup=chmod(target, 0),
              user="nobody"))
    add(A(kind, "predict --file in a folder nobody may enter", ["predict", "--file", "locked/in.txt", "--model", "m"],
          names=("locked/in.txt", "Permission denied"), user="nobody",
          setup=both(mkdir("locked", 0o755, 0), lambda w: shutil.copy(w / "in.txt", w / "locked"), chmod("locked", 0o700))))
    add(A(kind, "train --model in a folder nobody may write", ["train", "--labels", "labels.csv", "--model", "ro/m"],
          names=("ro/m", "Permission denied"), user="nobody", setup=mkdir("ro", 0o755, 0), check=quick(4)))
    add(A(kind, "train --model that nobody may write", ["train", "--labels", "labels.csv", "--model", "rom"],
          names=("rom", "Permission denied"), user="nobody",
          setup=both(lambda w: shutil.copytree(w / "m", w / "rom"), lambda w: [os.chown(p, 0, 0) for p in
                                                                               [w / "rom", *(w / "rom").iterdir()]]),
          check=quick(4)))
    add(A(kind, "evaluate --plot in a folder nobody may write", ["evaluate", "--labels", "labels.csv", "--plot",
                                                                 "ro/p.png"], names=("ro/p.png",), user="nobody",
          setup=mkdir("ro", 0o755, 0), check=quick(4)))
    add(A(kind, "train inside a folder whose parent nobody may enter", scenario=gated_train, user="nobody"))
    add(A(kind, "--file a directory", ["predict", "--file", "sub", "--model", "m"], names=("sub", "directory"),
          setup=mkdir("sub")))
    add(A(kind, "--labels a directory", ["train", "--labels", "sub", "--model", "m"], names=("sub", "directory"),
          setup=mkdir("sub")))
    add(A(kind, "extract a directory", ["extract", "sub"], names=("sub", "directory"), setup=mkdir("sub")))

    kind = "--plot checked first"
    for name, argv, setup, names in [
        ("evaluate --plot p.csv", ["evaluate", "--labels", "labels.csv", "--plot", "p.csv"], None, ("p.csv", ".png")),
        ("learning-curve --plot p.csv", ["learning-curve", "--labels", "labels.csv", "--model", "m", "--plot", "p.csv"],
         None, ("p.csv", ".png")),
        ("evaluate --plot under a file", ["evaluate", "--labels", "labels.csv", "--plot", "in.txt/p.png"], None,
         ("in.txt/p.png",)),
        ("evaluate --plot a directory", ["evaluate", "--labels", "labels.csv", "--plot", "sub.png"], mkdir("sub.png"),
         ("sub.png", "directory")),
        ("evaluate --plot a fifo", ["evaluate", "--labels", "labels.csv", "--plot", "f.png"], mkfifo("f.png"),
         ("f.png",)),
        ("evaluate --plot /dev/null", ["evaluate", "--labels", "labels.csv", "--plot", "/dev/null"], None,
         ("/dev/null",)),
        ("learning-curve --plot under a file", ["learning-curve", "--labels", "labels.csv", "--model", "m", "--plot",
                                                "in.txt/c.png"], None, ("in.txt/c.png",)),
    ]:
        add(A(kind, name, argv, names=names, setup=setup, check=quick(4), timeout=60))

    kind = "train --model"
    add(A(kind, "train --model a file", ["train", "--labels", "labels.csv", "--model", "in.txt"],
          names=("in.txt", "not a directory"), check=quick(4)))
    add(A(kind, "train --model the labels file", ["train", "--labels", "labels.csv", "--model", "labels.csv"],
          names=("labels.csv",), check=quick(4)))
    add(A(kind, "train --model /dev/null", ["train", "--labels", "labels.csv", "--model", "/dev/null"],
          names=("/dev/null",), check=quick(4)))
    add(A(kind, "train --model under a file", ["train", "--labels", "labels.csv", "--model", "in.txt/m"],
          names=("in.txt/m",), check=quick(4)))

    # sizes and encodings
    kind = "huge fields"
    long_field = "word " * (CSV_LIMIT // 5) + "x" * (CSV_LIMIT % 5 + 1)  # one character over the limit
    at_limit = long_field[:-1]
    for name, argv, target, content, line in [
        ("predict --file csv", ["predict", "--file", "h.csv", "--model", "m"], "h.csv",
         f"text\nA short one here.\n{long_field}\n", 3),
        ("train --labels", ["train", "--labels", "h.csv", "--model", "m"], "h.csv",
         csv_text(toy_rows() + [{"text": long_field, "label": "neutral"}]), 98),
        ("validate", ["validate", "h.csv"], "h.csv", csv_text(toy_rows() + [{"text": long_field, "label": "neutral"}]),
         98),
        ("evaluate --test", ["evaluate", "--test", "h.csv", "--model", "m"], "h.csv",
         csv_text(toy_rows()[:3] + [{"text": long_field, "label": "neutral"}]), 5),
        ("suggest", ["suggest", "h.csv", "--model", "m"], "h.csv", f"text\n{long_field}\n", 2),
        ("extract --skip-labelled", ["extract", "art.txt", "--skip-labelled", "h.csv"], "h.csv",
         f"text,label\n{long_field},neutral\n", 2),
    ]:
        add(A(kind, f"{name}: a field of {CSV_LIMIT + 1:,} characters", argv, names=(f"{target} line {line}", "131,072"),
              setup=write(target, content)))
    add(A(kind, "predict --file csv: an unclosed quote", ["predict", "--file", "h.csv", "--model", "m"],
          names=("h.csv line",), setup=write("h.csv", 'text\nfine one\n"unclosed ' + "word " * 30_000 + "\n")))
    add(A(kind, f"predict --file csv: a field of {CSV_LIMIT:,} characters", ["predict", "--file", "h.csv", "--model",
                                                                              "m", "--format", "csv"], code=0,
          setup=write("h.csv", f"text\n{at_limit}\n")))
    add(A(kind, "predict --file txt: a 200,000-character line", ["predict", "--file", "h.txt", "--model", "m"], code=0,
          setup=write("h.txt", "word " * 40_000 + "\n")))
    add(A(kind, "extract: a 200,000-character paragraph", ["extract", "h.txt"], code=0,
          setup=write("h.txt", "The sheriff said the jail will hold people for ICE. " * 4000 + "\n")))

    kind = "encodings"
    utf16 = {"UTF-16 with BOM": lambda s: s.encode("utf-16"), "UTF-16LE without BOM": lambda s: s.encode("utf-16-le"),
             "UTF-16BE without BOM": lambda s: s.encode("utf-16-be"), "UTF-32": lambda s: s.encode("utf-32")}
    for label, encode in utf16.items():
        for n, (name, argv, target, content) in enumerate([
            ("predict --file txt", ["predict", "--file", "e.txt", "--model", "m"], "e.txt", "\n".join(SENTENCES) + "\n"),
            ("predict --file csv", ["predict", "--file", "e.csv", "--model", "m"], "e.csv", "text\n" + SENTENCES[0]),
            ("predict --file jsonl", ["predict", "--file", "e.jsonl", "--model", "m"], "e.jsonl",
             json.dumps({"text": SENTENCES[0]}) + "\n"),
            ("train --labels", ["train", "--labels", "e.csv", "--model", "m"], "e.csv", csv_text(toy_rows())),
            ("validate", ["validate", "e.csv"], "e.csv", csv_text(toy_rows())),
            ("suggest", ["suggest", "e.csv", "--model", "m"], "e.csv", "text\n" + SENTENCES[0] + "\n"),
            ("extract", ["extract", "e.txt"], "e.txt", ARTICLE),
            ("predict --article", ["predict", "--article", "e.txt", "--model", "m"], "e.txt", ARTICLE),
        ]):
            if n < 4 or label == "UTF-16LE without BOM":  # every reader once, the streaming ones in each encoding
                add(A(kind, f"{name}: {label}", argv, names=(target, "UTF-16"), setup=write(target, encode(content))))
    add(A(kind, "predict --file txt: Latin-1 on line 3", ["predict", "--file", "e.txt", "--model", "m"],
          names=("e.txt line 3", "UTF-8"), setup=write("e.txt", "One sentence.\nTwo sentence.\nCaf\xe9 ICE.\n".encode(
              "latin-1"))))
    add(A(kind, "train --labels: Latin-1 on line 4", ["train", "--labels", "e.csv", "--model", "m"],
          names=("e.csv line 4", "UTF-8"), setup=write("e.csv", csv_text(toy_rows()[:2] + [{"text": "Caf\xe9 del ICE",
                                                                                            "label": "neutral"}])
                                                         .encode("latin-1"))))
    for name, argv, target, content in [
        ("predict --file csv", ["predict", "--file", "e.csv", "--model", "m", "--format", "csv"], "e.csv",
         "text\n" + SENTENCES[0] + "\n"),
        ("validate", ["validate", "e.csv"], "e.csv", csv_text(toy_rows())),
    ]:
        add(A(kind, f"{name}: UTF-8 with BOM", argv, code=0, setup=write(target, "\ufeff" + content)))
    odd = [dict(r, text=r["text"].replace(" ", sep, 1)) for r, sep in zip(toy_rows(), ["\u2028", "\x85", "\x0c", "\u2029"])]
    for name, argv in [("validate", ["validate", "e.csv"]), ("evaluate --test", ["evaluate", "--test", "e.csv", "--model",
                                                                                  "m"])]:
        add(A(kind, f"{name}: U+2028, U+0085 and form feeds inside cells", argv, code=0,
              setup=write("e.csv", csv_text(odd + toy_rows()[4:]))))
        add(A(kind, f"{name}: a carriage return inside a quoted cell", argv, code=0,
              setup=write("e.csv", csv_text([dict(toy_rows()[0], text="The jail\rwill hold.")] + toy_rows()[1:]))))

    kind = "empty inputs"
    for label, content in (("empty", ""), ("header only", "text,label,source,note\n"), ("blank lines", "\n\n  \n\n")):
        for name, argv, names in [
            ("train --labels", ["train", "--labels", "e.csv", "--model", "m"], ("e.csv",)),
            ("evaluate --test", ["evaluate", "--test", "e.csv", "--model", "m"], ("e.csv",)),
            ("evaluate nested", ["evaluate", "--labels", "e.csv"], ("e.csv",)),
            ("suggest", ["suggest", "e.csv", "--model", "m"], ("e.csv",)),
            ("extract --skip-labelled", ["extract", "art.txt", "--skip-labelled", "e.csv"],
             ("e.csv",) if label != "header only" else None),
        ]:
            if names is None:
                add(A(kind, f"{name}: {label}", argv, code=0, setup=write("e.csv", content)))
            else:
                add(A(kind, f"{name}: {label}", argv, names=names, setup=write("e.csv", content)))
        if label == "header only":  # a file that can be read: validate's report, on stdout
            add(A(kind, f"validate: {label}", ["validate", "e.csv"], setup=write("e.csv", content), quiet=True,
                  check=lambda w, r: [] if "0 rows checked: 3 errors" in r.stdout else ["no report on stdout"]))
        else:
            add(A(kind, f"validate: {label}", ["validate", "e.csv"], setup=write("e.csv", content), names=("e.csv",)))
        for suffix in ("txt", "jsonl"):
            add(A(kind, f"predict --file .{suffix}: {label}", ["predict", "--file", f"e.{suffix}", "--model", "m",
                                                                "--format", "csv"], code=0,
                  setup=write(f"e.{suffix}", content if label != "header only" else ""),
                  check=lambda w, r: [] if r.stdout.strip() == "text,label,p_cooperate,p_decline,p_neutral"
                  else ["not a header-only table"]))
        for suffix in ("txt",):
            add(A(kind, f"extract: {label} article", ["extract", f"e.{suffix}"], names=(f"e.{suffix}", "empty"),
                  setup=write(f"e.{suffix}", content if label != "header only" else "")))
            add(A(kind, f"predict --article: {label} article", ["predict", "--article", f"e.{suffix}", "--model", "m"],
                  names=(f"e.{suffix}", "empty"), setup=write(f"e.{suffix}", content if label != "header only" else "")))
    add(A(kind, "predict --file csv: empty", ["predict", "--file", "e.csv", "--model", "m"], names=("e.csv", "empty"),
          setup=write("e.csv", "")))
    add(A(kind, "predict --file csv: header only", ["predict", "--file", "e.csv", "--model", "m", "--format", "csv"],
          code=0, setup=write("e.csv", "text\n")))
    add(A(kind, "predict --file csv: blank lines", ["predict", "--file", "e.csv", "--model", "m"],
          names=("e.csv", "empty"), setup=write("e.csv", "\n\n\n")))
    add(A(kind, "predict --file -: nothing on stdin", ["predict", "--file", "-", "--model", "m"], code=0, stdin=b""))
    return table


API_SAVE = """
import csv, stance
rows = list(csv.DictReader(open("labels.csv")))
model = stance.StanceClassifier(calibrate=False).fit([r["text"] for r in rows], [r["label"] for r in rows])
model.save("api")
assert list(stance.load("api").predict(["The jail will honor detainers."])) == list(model.predict(
    ["The jail will honor detainers."]))
"""


def lines_out(n: int):
    def check(w: Work, r: Result) -> list[str]:
        found = len(r.stdout.splitlines())
        return [] if found == n else [f"{found} lines on stdout, expected {n}"]
    return check


def _sample_metadata() -> dict:
    """The fields a model's metadata.json has (the shipped model's, which `stance train` wrote)."""
    return json.loads((ROOT / "models" / "default" / "metadata.json").read_text())


REQUIRED = {"format_version", "classes", "versions", "compiled", "compiled.classes", "compiled.blocks",
            "compiled.temperature", "files", "files.weights", "files.pipeline", "files.weights.name",
            "files.weights.sha256", "files.pipeline.name", "files.pipeline.sha256",
            "compiled.blocks[0].analyzer", "compiled.blocks[0].ngram_range", "compiled.blocks[0].sublinear_tf",
            "compiled.blocks[0].features", "compiled.blocks[0].scope_version"}
# covered by their own rows, or read by the same code as a field that is swept (files.weights)
SKIP_FIELDS = {"classes", "compiled.classes", "compiled.blocks", "compiled.blocks[1]", "files.pipeline",
               "files.pipeline.name", "files.pipeline.bytes", "files.pipeline.sha256"}


def _metadata_fields(meta: dict, prefix: str = ""):
    """(dotted path, value, required) for every field, depth first (lists: their first item only)."""
    for key, value in meta.items():
        dotted = f"{prefix}{key}"
        if dotted not in SKIP_FIELDS:
            yield dotted, value, dotted in REQUIRED
        if isinstance(value, dict) and key not in ("label_counts", "versions") and dotted not in SKIP_FIELDS:
            yield from _metadata_fields(value, dotted + ".")
        elif key == "label_counts" or key == "versions":
            first = next(iter(value))
            yield f"{dotted}.{first}", value[first], key == "label_counts"  # a count for each class
        elif key == "blocks":
            yield from _metadata_fields(value[0], f"{dotted}[0].")


def _wrong_values(dotted: str, value):
    """Values of the wrong type or out of range for a field holding `value`."""
    if isinstance(value, bool):
        return [("null", None), ("1", 1)]
    if isinstance(value, int):
        out = [("null", None), ("'5'", "5"), ("true", True), ("-1", -1)]
        if dotted == "seed":
            out.append(("2**32", 2**32))
        return out
    if isinstance(value, float):
        return [("null", None), ("'0.5'", "0.5"), ("-1.0", -1.0)]
    if isinstance(value, str):
        out = [("null", None), ("5", 5)][1 if dotted == "cv.grouped_by" else 0:]
        if dotted.endswith(("sha256", ".name")):
            out.append(("'../labels.csv'", "../labels.csv"))
        return out
    if isinstance(value, list):
        return [("null", None), ("'x'", "x")]
    return [("null", None), ("[]", [])]


# --- scenarios: attempts of several steps ---------------------------------------------------


def _model_whole(w: Work, model: str = "m") -> list[str]:
    """A model directory holds metadata.json and the two files it names, with their hashes."""
    problems = []
    directory = w / model
    try:
        meta = read_meta(w, model)
    except (OSError, ValueError) as err:
        return [f"{model}/metadata.json unreadable after the run: {err}"]
    names = {"metadata.json"}
    for entry in meta["files"].values():
        names.add(entry["name"])
        path = directory / entry["name"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            problems.append(f"{model}/{entry['name']} missing or not the file metadata.json records")
    extra = sorted({p.name for p in directory.iterdir()} - names)
    if extra:
        problems.append(f"{model} holds files of no model: {', '.join(extra)}")
    return problems


def _lock_held(w: Work, lock: str, pid: int) -> bool:
    try:
        return f"pid {pid}" in (w / lock).read_text()
    except OSError:
        return False


def concurrent_trains(spelling: str):
    def scenario(w: Work, fx: Fixtures) -> list[str]:
        first = w.start(["train", "--labels", "labels.csv", "--model", "m", "--jobs", "1"])
        if not first.wait_for(lambda: _lock_held(w, ".m.lock", first.pid), 60):
            w.finish(first, 120)
            return ["the first train never held the lock (.m.lock)"]
        second = w.run(["train", "--labels", "labels.csv", "--model", spelling, "--jobs", "1"], timeout=120)
        problems = [f"second train: {p}" for p in promise(second, 1, ("another stance train",))]
        if second.seconds > 10:
            problems.append(f"second train took {second.seconds:.0f} s to fail")
        done = w.finish(first, 150)
        problems += [f"first train: {p}" for p in promise(done, 0, progress=True)]
        problems += _model_whole(w)
        check = w.run(["predict", "--file", "in.txt", "--model", "m", "--format", "csv"])
        if check.code != 0 or check.stdout != fx.ref["m"]:
            problems.append("the model trained again predicts differently")
        return problems
    return scenario


def predict_during_train(w: Work, fx: Fixtures) -> list[str]:
    train = w.start(["train", "--labels", "l2.csv", "--model", "m", "--jobs", "1", "--seed", "3"])
    outputs = []
    while train.popen.poll() is None:
        outputs.append(w.run(["predict", "--file", "in.txt", "--model", "m", "--format", "csv"]))
    done = w.finish(train, 150)
    problems = [f"train: {p}" for p in promise(done, 0, progress=True)]
    after = w.run(["predict", "--file", "in.txt", "--model", "m", "--format", "csv"]).stdout
    for r in outputs:
        if r.code != 0:
            problems.append(f"a predict during the train failed: {r.lines[-1:]}")
        elif r.stdout not in (fx.ref["m"], after):
            problems.append("a predict during the train gave neither the old model's answer nor the new one's")
    problems += _model_whole(w)
    return problems + ([] if outputs else ["no predict ran during the train"])


SWAPPER = """
import sys, stance
from stance.artifacts import save_model
models = [stance.load(name, backend="sklearn") for name in ("other", "m")]
for i in range(int(sys.argv[1])):
    model = models[i % 2]
    kept = {k: v for k, v in model.metadata.items() if k not in ("format_version", "versions", "compiled", "files")}
    save_model("m", model.pipeline_, model.compiled_, kept)
"""


# A reader that loads the model as fast as it can (the CLI's predicts start too slowly to meet many
# swaps): every load must succeed and give the probabilities of one of the two models, whole.
LOADER = """
import json, os, shutil, sys, stance
from stance.errors import ModelError
texts = open("in.txt").read().splitlines()
refs = [stance.load(name).probabilities(texts).tolist() for name in ("m", "other")]
open("loader.ready", "w").close()
loads = failed = mixed = 0
while not os.path.exists("swaps.done") or loads < 20:
    try:
        found = stance.load("m").probabilities(texts).tolist()
    except ModelError as err:
        failed += 1
        print(err, file=sys.stderr)
        continue
    finally:
        loads += 1
    mixed += found not in refs
print(json.dumps({"loads": loads, "failed": failed, "mixed": mixed}))
"""


def predict_during_swaps(w: Work, fx: Fixtures) -> list[str]:
    loader = w.start(["python", "-c", LOADER])
    loader.wait_for(lambda: (w / "loader.ready").exists(), 60)
    swapper = w.start(["python", "-c", SWAPPER + "\nopen('swaps.done', 'w').close()\n", "120"])
    outputs = []
    while swapper.popen.poll() is None:
        outputs.append(w.run(["predict", "--file", "in.txt", "--model", "m", "--format", "csv"]))
    done = w.finish(swapper, 120)
    read = w.finish(loader, 120)
    for name in ("loader.ready", "swaps.done"):
        (w / name).unlink(missing_ok=True)
    problems = [f"the writer: {p}" for p in promise(done, 0)]
    try:
        counts = json.loads(read.stdout)
    except ValueError:
        counts = {"loads": 0, "failed": "?", "mixed": "?"}
        problems.append(f"the loader: {read.stderr.strip()[-200:]}")
    if counts["failed"] or counts["mixed"]:
        problems.append(f"of {counts['loads']} loads during the swaps, {counts['failed']} failed and {counts['mixed']} "
                        f"mixed the models: {read.lines[-1:]}")
    for r in outputs:
        if r.code != 0:
            problems.append(f"a predict during the swaps failed: {r.lines[-1:]}")
        elif r.stdout not in (fx.ref["m"], fx.ref["other"]):
            problems.append("a predict during the swaps mixed the two models")
    problems += _model_whole(w)
    return problems + ([] if len(outputs) > 2 else ["too few predicts ran during the swaps"])


def _staging(w: Work, name: str) -> bool:
    return any(p.name.startswith(f".{name}.") for p in w.path.iterdir())


def stop_streaming_predict(signum: int, existing: bool):
    def scenario(w: Work, fx: Fixtures) -> list[str]:
        proc = w.start(["predict", "--file", "-", "--model", "m", "--output", "out.csv"], stdin=subprocess.PIPE)
        proc.popen.stdin.write(b"The jail will honor detainers.\nPolice will not.\n")
        proc.popen.stdin.flush()
        if not proc.wait_for(lambda: _staging(w, "out.csv"), 30):
            w.finish(proc)
            return ["predict never opened its staging file"]
        time.sleep(0.3)
        proc.signal(signum)
        r = w.finish(proc, 30)
        proc.popen.stdin.close()
        problems = [] if r.code == 128 + signum else [f"exit {r.code}, promised {128 + signum}"]
        if existing and (w / "out.csv").read_text() != "previous results\n":
            problems.append("out.csv changed")
        return problems
    return scenario


def stop_file_predict(w: Work, fx: Fixtures) -> list[str]:
    (w / "long.txt").write_text("".join(f"Deputies will hold inmate {i} for ICE agents.\n" for i in range(150_000)))
    proc = w.start(["predict", "--file", "long.txt", "--model", "m", "--output", "out.csv"])
    if not proc.wait_for(lambda: _staging(w, "out.csv"), 30):
        w.finish(proc)
        return ["predict never opened its staging file (or finished first)"]
    time.sleep(0.5)
    proc.signal(signal.SIGTERM)
    r = w.finish(proc, 30)
    (w / "long.txt").unlink()
    return [] if r.code == 143 else [f"exit {r.code}, promised 143"]


def stop_train(signum: int, group: bool, model: str):
    def scenario(w: Work, fx: Fixtures) -> list[str]:
        proc = w.start(["train", "--labels", "labels.csv", "--model", model, "--jobs", "2"])
        if not proc.wait_for(lambda: "model selection: " in proc.stderr_text(), 90):
            w.finish(proc)
            return ["train never reached model selection"]
        proc.signal(signum, group)
        r = w.finish(proc, 60)
        problems = [] if r.code == 128 + signum else [f"exit {r.code}, promised {128 + signum}"]
        if model == "m":
            problems += _model_whole(w)
        return problems
    return scenario


def kill_train(w: Work, fx: Fixtures) -> list[str]:
    proc = w.start(["train", "--labels", "labels.csv", "--model", "m", "--jobs", "2"])
    if not proc.wait_for(lambda: "model selection: " in proc.stderr_text(), 90):
        w.finish(proc)
        return ["train never reached model selection"]
    proc.signal(signal.SIGKILL)
    r = w.finish(proc, 60)
    r.orphans = []  # after SIGKILL the workers notice their parent is gone; their exit is checked below
    problems = [] if r.code == -9 else [f"exit {r.code} after SIGKILL"]
    problems += _model_whole(w)
    after = w.run(["predict", "--file", "in.txt", "--model", "m", "--format", "csv"])
    if after.stdout != fx.ref["m"]:
        problems.append("the old model predicts differently after the killed train")
    again = w.run(["train", "--labels", "labels.csv", "--model", "m", "--jobs", "1"], timeout=150)
    problems += [f"the next train: {p}" for p in promise(again, 0, progress=True)]
    return problems


def stop_evaluate(w: Work, fx: Fixtures) -> list[str]:
    proc = w.start(["evaluate", "--labels", "labels.csv", "--plot", "new/p.png", "--jobs", "2"])
    if not proc.wait_for(lambda: "model selection: " in proc.stderr_text(), 90):
        w.finish(proc)
        return ["evaluate never reached model selection"]
    proc.signal(signal.SIGTERM)
    r = w.finish(proc, 60)
    return [] if r.code == 143 else [f"exit {r.code}, promised 143"]


def gated_train(w: Work, fx: Fixtures) -> list[str]:
    """nobody's working directory is reachable (the run starts in it), its absolute path is not."""
    gate, inner = w / "gate", w / "gate" / "inner"
    inner.mkdir(parents=True)
    shutil.copy(w / "labels.csv", inner)
    os.chown(inner, NOBODY, NOBODY)
    os.chown(gate, 0, 0)
    os.chmod(gate, 0o700)
    try:
        r = w.run(["train", "--labels", "labels.csv", "--model", "m"], cwd=inner)
        problems = promise(r, 1, ("m", "Permission denied"))
        left = sorted(p.name for p in inner.iterdir())
        return problems + ([f"stray files: {left}"] if left != ["labels.csv"] else [])
    finally:
        shutil.rmtree(gate)


def serve_once(w: Work, fx: Fixtures) -> list[str]:
    proc = w.start(["serve", "--model", "m", "--port", "0"])
    if not proc.wait_for(lambda: "serving" in proc.stderr_text(), 60):
        r = w.finish(proc, 5)
        return [f"serve did not start: {r.lines[-1:]}"]
    proc.signal(signal.SIGTERM)
    r = w.finish(proc, 30)
    return [] if r.code == 143 else [f"serve exit {r.code} on SIGTERM, promised 143"]


def serve_port_in_use(w: Work, fx: Fixtures) -> list[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        r = w.run(["serve", "--model", "m", "--port", str(port)], timeout=30)
    return promise(r, 1, (str(port),))


# --- the table ------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--kind", help="only the kinds whose name contains this")
    parser.add_argument("--name", help="only the attempts whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the attempts and exit")
    parser.add_argument("--keep", action="store_true", help="keep the work directories (printed at the end)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each attempt as it runs")
    parser.add_argument("--jobs", type=int, default=2, help="attempts run side by side (those that train, time "
                        "themselves or send signals always run alone); default 2")
    args = parser.parse_args(argv)
    table = [a for a in attempts() if (not args.kind or args.kind.lower() in a.kind.lower())
             and (not args.name or args.name.lower() in a.name.lower())]
    if args.list:
        for a in table:
            print(a.id)
        return 0
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="stance-bad-input-"))
    try:
        fixtures = Fixtures(base)
        FIXTURES_REF.update(fixtures.ref)
        can_drop = IS_ROOT and bool(nobody_python())
        done: dict[int, list[str] | None] = {}

        def one(index: int) -> None:
            attempt = table[index]
            started = time.monotonic()
            done[index] = run_attempt(attempt, fixtures, args.keep)
            if args.verbose:
                print(f"{'held  ' if not done[index] else 'BROKEN'} {time.monotonic() - started:5.1f} s  {attempt.id}"
                      + "".join(f"\n         {p}" for p in done[index]), flush=True)

        runnable = [i for i, a in enumerate(table) if not a.user or can_drop]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(one, [i for i in runnable if not table[i].alone]))
        for index in runnable:
            if table[index].alone:
                one(index)
        results: dict[str, list[tuple[Attempt, list[str] | None]]] = {}
        for index, attempt in enumerate(table):
            results.setdefault(attempt.kind, []).append((attempt, done.get(index)))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return report(results, time.monotonic() - started, base if args.keep else None)


def report(results: dict, seconds: float, kept: Path | None) -> int:
    rows = []
    broken = []
    for kind, done in results.items():
        ran = [(a, p) for a, p in done if p is not None]
        bad = [(a, p) for a, p in ran if p]
        rows.append((kind, len(ran), len(ran) - len(bad), len(bad), len(done) - len(ran)))
        broken += bad
    total = tuple(sum(r[i] for r in rows) for i in range(1, 5))
    skipped = total[3]
    width = max(len(r[0]) for r in rows + [("total",)])
    header = f"| {'kind':{width}} | attempts | held | broken |" + (" skipped |" if skipped else "")
    print(header)
    print("|" + "-" * (width + 2) + "|---------:|-----:|-------:|" + ("--------:|" if skipped else ""))
    for kind, n, held, bad, skip in rows + [("total", *total)]:
        print(f"| {kind:{width}} | {n:8} | {held:4} | {bad:6} |" + (f" {skip:7} |" if skipped else ""))
    print(f"\n{total[0]} attempts in {seconds:.0f} s: {total[1]} held, {total[2]} broken"
          + (f", {skipped} skipped (they run as nobody, which needs root)" if skipped else ""))
    if broken:
        print("\nbroken:")
        for attempt, problems in broken:
            print(f"- {attempt.id}")
            for problem in problems:
                print(f"    {problem}")
    if kept:
        print(f"\nwork directories kept in {kept}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
