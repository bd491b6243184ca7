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


def readme_examples() -> list[tuple[str, str]]:
    """Each ```sh block of README.md that is followed at once by a plain ``` block: the commands
    and the output the README shows for them."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(re.finditer(r"```(\w*)\n(.*?)```", text, re.S))
    return [(block.group(2), after.group(2)) for block, after in zip(blocks, blocks[1:])
            if block.group(1) == "sh" and after.group(1) == "" and not text[block.end() : after.start()].strip()]


def test_the_readme_shows_examples_with_output():
    assert len(readme_examples()) >= 3


SERVER = "localhost:8000"  # where the README's curl examples talk to `stance serve`


@pytest.fixture(scope="module")
def server():
    """`stance serve` on the shipped model and a free port, for the README's curl examples."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.test_serve import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "STANCE_MODEL"}
    process = subprocess.Popen([sys.executable, "-m", "stance", "serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


@pytest.mark.parametrize("commands, shown", readme_examples(), ids=lambda v: v.splitlines()[0][:50])
def test_every_readme_example_prints_what_the_readme_shows(commands, shown, request):
    import os
    import subprocess

    import sys

    if SERVER in commands:
        commands = commands.replace(SERVER, request.getfixturevalue("server"))
    env = {k: v for k, v in os.environ.items() if k != "STANCE_MODEL"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '')}"  # this environment's stance
    printed = subprocess.run(["bash", "-e", "-c", commands], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=600)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == shown


if __name__ == "__main__":
    # `python -m tests.test_docs`: after a change of model or output, rewrite the README's shown
    # outputs with what the commands print now (then read the diff before committing it).
    import os
    import subprocess

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    for commands, shown in readme_examples():
        printed = subprocess.run(["bash", "-e", "-c", commands], cwd=ROOT, capture_output=True, text=True,
                                 check=True, env={k: v for k, v in os.environ.items() if k != "STANCE_MODEL"})
        text = text.replace(f"```sh\n{commands}```\n```\n{shown}```", f"```sh\n{commands}```\n```\n{printed.stdout}```")
    readme.write_text(text, encoding="utf-8")
