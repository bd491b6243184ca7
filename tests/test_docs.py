"""Docs that cannot drift: every example of docs/api.md runs and its output is compared."""

from __future__ import annotations

import doctest

import pytest

from tests.conftest import ROOT


def test_every_example_of_the_api_walk_through(monkeypatch):
    monkeypatch.chdir(ROOT)  # the walk-through runs from the repository's root
    monkeypatch.delenv("STANCE_MODEL", raising=False)
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of docs/api.md differ (see above)"


SERVER = "localhost:8000"  # where the README's curl examples talk to `stance serve`


def readme_examples() -> list[tuple[str, str]]:
    """Each ```sh block of README.md that is followed at once by a plain or ```json block: the
    commands and the output the README shows for them."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(re.finditer(r"```(\w*)\n(.*?)```", text, re.S))
    return [(block.group(2), after.group(2)) for block, after in zip(blocks, blocks[1:])
            if block.group(1) == "sh" and after.group(1) in ("", "json") and not text[block.end() : after.start()].strip()]


def _environment() -> dict:
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k != "STANCE_MODEL"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '')}"  # this environment's stance
    return env


@pytest.fixture(scope="module")
def server():
    """`stance serve` on the shipped model and a free port, for the README's curl examples."""
    yield from serving()


def serving():
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.test_serve import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "stance", "serve", "--port", str(port)], cwd=ROOT,
                               env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.1)
    yield f"localhost:{port}"
    process.terminate()
    process.wait(timeout=20)


def test_the_readme_shows_examples_with_output():
    assert len(readme_examples()) >= 3


def run_example(commands: str, address: str | None = None):
    import subprocess

    if address:
        commands = commands.replace(SERVER, address)
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", commands], cwd=ROOT, env=_environment(),
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("commands, shown", readme_examples(), ids=lambda v: v.splitlines()[0][:50])
def test_every_readme_example_prints_what_the_readme_shows(commands, shown, request):
    address = request.getfixturevalue("server") if SERVER in commands else None
    printed = run_example(commands, address)
    assert printed.returncode == 0, printed.stderr
    assert untimed(printed.stdout) == untimed(shown)


def untimed(text: str) -> str:
    """Output as compared: durations ("in 2.5 s") vary from run to run, and a code block ends
    its last line."""
    import re

    return re.sub(r"\b\d+(\.\d+)? s\b", "<seconds> s", text).rstrip("\n")


def update_walk_through(path) -> int:
    """Rewrite the outputs of a doctest file's examples that differ, from what they print now."""
    text = path.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, str(path), str(path), 0)
    got = {}

    class Recorder(doctest.DocTestRunner):
        def report_failure(self, out, test, example, printed):
            got[example.lineno] = printed

    Recorder(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS).run(test, out=lambda _: None)
    lines = text.split("\n")
    for example in sorted(test.examples, key=lambda e: -e.lineno):  # bottom up: line numbers hold
        if example.lineno in got:
            start = example.lineno + example.source.count("\n")
            new = got[example.lineno].rstrip("\n").split("\n")
            lines[start : start + example.want.count("\n")] = [" " * example.indent + line if line else line
                                                                 for line in new]
    path.write_text("\n".join(lines), encoding="utf-8")
    return len(got)


if __name__ == "__main__":
    import os

    # `python -m tests.test_docs`: after a change of model or output, rewrite the README's shown
    # outputs with what the commands print now (then read the diff before committing it).
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    running = serving()
    address = next(running)
    for commands, shown in readme_examples():
        printed = run_example(commands, address if SERVER in commands else None)
        printed.check_returncode()
        new = printed.stdout if printed.stdout.endswith("\n") else printed.stdout + "\n"
        for fence in ("```", "```json"):
            text = text.replace(f"```sh\n{commands}```\n{fence}\n{shown}```", f"```sh\n{commands}```\n{fence}\n{new}```")
    readme.write_text(text, encoding="utf-8")
    running.close()
    os.chdir(ROOT)
    update_walk_through(ROOT / "docs" / "api.md")
