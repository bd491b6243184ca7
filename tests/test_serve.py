"""`stance serve`: the real server in a subprocess on a free port, spoken to over HTTP.

One server, with small limits, serves the module; it is stopped with SIGTERM at the end and must
exit by itself. The failures that need a planted bug or a missing package are tested in process.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SEEDS, toy_rows

HOST = "127.0.0.1"
LIMITS = {"--max-texts": 100, "--max-chars": 300, "--max-article-chars": 6000, "--max-body-bytes": 20000}
COOPERATE = "The Harris County sheriff signed a 287(g) agreement with ICE this week."
DECLINE = "The Denver police will not honor ICE detainers without a judicial warrant."
NEUTRAL = "The Austin police held a public meeting about its budget on Tuesday."
# Sentences unlike the toy labels, about which the toy model is unsure.
UNSEEN = ["The sheriff met federal officials on Monday.", "Police said they would review the detainer policy.",
          "The jail is run by the county.", "ICE agents were seen downtown.", "The mayor spoke about the budget.",
          "The county will decide next month whether to sign."]
ARTICLE = SEEDS / "002_273fea6c5273bda8.txt"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def json(self):
        return json.loads(self.raw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def connect(port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.connect()
    # http.client writes headers and body in two calls; without this each waits on a delayed ACK.
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def request(port: int, method: str, path: str, body=None, content_type: str | None = "application/json",
            headers: dict | None = None) -> Answer:
    """One request on a new connection; a dict or list body is sent as JSON, bytes as they are."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    headers = dict(headers or {})
    if content_type is not None and body is not None:
        headers["Content-Type"] = content_type
    connection = connect(port)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def wait_for_health(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"stance serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if request(port, "GET", "/health").status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer on GET /health within 60 s:\n{log.read_text()}")


def start(model: Path, log: Path, *options: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with open(log, "wb") as handle:
        process = subprocess.Popen([sys.executable, "-m", "stance", "serve", "--model", str(model),
                                    "--port", str(port), *options], stdout=subprocess.DEVNULL, stderr=handle)
    try:
        wait_for_health(process, port, log)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, port


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, then wait: the server finishes what is in flight and exits by itself."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError("stance serve did not stop within 20 s of SIGTERM") from None


@dataclass
class Server:
    port: int
    log: Path

    def get(self, path: str) -> Answer:
        return request(self.port, "GET", path)

    def post(self, path: str, body, **kwargs) -> Answer:
        return request(self.port, "POST", path, body, **kwargs)


@pytest.fixture(scope="module")
def server(trained_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    process, port = start(trained_model_dir, log, *(str(x) for item in LIMITS.items() for x in item))
    try:
        yield Server(port, log)
    finally:
        status = stop(process)
    # uvicorn re-raises the SIGTERM it caught once it has shut down, so the status says so.
    assert status in (0, -signal.SIGTERM, 128 + signal.SIGTERM), log.read_text()


@pytest.fixture(scope="module")
def model(trained_model_dir):
    from stance.artifacts import load_compiled

    return load_compiled(trained_model_dir)[0]


def probabilities(result: dict, classes) -> list[float]:
    assert list(result["probabilities"]) == list(classes)
    return [result["probabilities"][c] for c in classes]


# --- what it answers ------------------------------------------------------------------------------


def test_health(server):
    answer = server.get("/health")
    assert (answer.status, answer.json) == (200, {"status": "ok"})
    assert answer.headers["Content-Type"] == "application/json"


def test_model_gives_classes_metadata_and_versions(server, trained_model_dir):
    answer = server.get("/model")
    assert answer.status == 200
    body = answer.json
    assert body["classes"] == ["cooperate", "decline", "neutral"]
    assert body["metadata"] == json.loads((trained_model_dir / "metadata.json").read_text())
    assert {"stance", "numpy", "starlette", "uvicorn"} <= set(body["versions"])
    assert body["limits"] == {key[2:].replace("-", "_"): value for key, value in LIMITS.items()}


def test_predict_answers_each_text_in_order_with_the_model_probabilities(server, model):
    texts = [NEUTRAL, COOPERATE, DECLINE, COOPERATE]
    answer = server.post("/predict", {"texts": texts})
    assert answer.status == 200, answer.raw
    results = answer.json["results"]
    assert [r["label"] for r in results] == ["neutral", "cooperate", "decline", "cooperate"]
    expected = model.predict_proba(texts)
    for result, row in zip(results, expected):
        assert probabilities(result, model.classes) == pytest.approx(list(row), abs=1e-12)
        assert sum(result["probabilities"].values()) == pytest.approx(1.0)
    assert answer.json["model"]["classes"] == list(model.classes)


def test_predict_a_batch_long_enough_for_the_numpy_batch_path(server, model):
    from stance.compiled import BATCH_MIN

    texts = [row["text"] for row in toy_rows()][: max(BATCH_MIN + 6, 70)]
    answer = server.post("/predict", {"texts": texts})
    assert answer.status == 200, answer.raw
    got = [probabilities(r, model.classes) for r in answer.json["results"]]
    np.testing.assert_allclose(got, model.predict_proba(texts), rtol=0, atol=1e-12)


def test_min_prob_gives_uncertain_as_predict_min_prob_does(server, model, invoke, model_dir):
    texts = [NEUTRAL, COOPERATE, DECLINE, *UNSEEN]
    tops = sorted(model.predict_proba(texts).max(axis=1))
    threshold = round(float(tops[len(tops) // 2]), 3)  # about half of them fall below
    answer = server.post("/predict", {"texts": texts, "min_prob": threshold})
    assert answer.status == 200, answer.raw
    labels = [r["label"] for r in answer.json["results"]]
    cli = invoke("predict", *texts, "--format", "jsonl", "--min-prob", threshold)
    assert labels == [json.loads(line)["label"] for line in cli.stdout.splitlines()]
    assert 0 < labels.count("uncertain") < len(labels)


def test_article_gives_the_sentences_labels_and_summary_of_predict_article(server, invoke, model_dir):
    from stance.extract import extract_article

    answer = server.post("/article", {"text": ARTICLE.read_text(encoding="utf-8"), "url": "https://example.org/a",
                                      "date": "2025-02-03"})
    assert answer.status == 200, answer.raw
    body = answer.json
    assert (body["url"], body["date"]) == ("https://example.org/a", "2025-02-03")
    sentences = extract_article(ARTICLE)
    assert [(s["sentence"], s["text"], s["speaker"]) for s in body["sentences"]] == \
        [(s.sentence, s.text, s.speaker) for s in sentences]
    cli = invoke("predict", "--article", ARTICLE, "--format", "jsonl")
    assert [s["label"] for s in body["sentences"]] == [json.loads(line)["label"] for line in cli.stdout.splitlines()]
    summary = body["summary"]
    lines = [f"{ARTICLE}: {summary['sentences']} sentences: "
             + ", ".join(f"{n} {label}" for label, n in summary["counts"].items())]
    for label, best in summary["most_confident"].items():
        assert best is None or body["sentences"][best["sentence"] - 1]["text"] == best["text"]
        lines.append(f"  most confident {label} ({best['probability']:.2f}): {best['text']}" if best
                     else f"  no sentence labelled {label}")
    assert cli.stderr.strip() == "\n".join(lines)


def test_article_without_statements_is_an_empty_answer(server):
    answer = server.post("/article", {"text": "Breaking News\nSubscribe to our newsletter"})
    assert answer.status == 200, answer.raw
    body = answer.json
    assert (body["url"], body["date"], body["sentences"]) == (None, None, [])
    assert body["summary"] == {"sentences": 0, "counts": {"cooperate": 0, "decline": 0, "neutral": 0},
                               "most_confident": {"cooperate": None, "decline": None}}


def test_article_min_prob_counts_uncertain(server):
    answer = server.post("/article", {"text": ARTICLE.read_text(encoding="utf-8"), "min_prob": 1.0, "url": None})
    assert answer.status == 200, answer.raw
    summary = answer.json["summary"]
    assert summary["counts"]["uncertain"] == summary["sentences"] > 0
    assert summary["most_confident"] == {"cooperate": None, "decline": None}


def test_concurrent_requests_each_get_their_own_results_in_order(server, model):
    """Batches from eight threads at once, long enough for the batch path, whose piece cache
    breaks when two batches share it unguarded."""
    texts = [row["text"] for row in toy_rows()]
    batches = [texts[k:] + texts[:k] for k in range(0, 96, 3)] + [[texts[k]] for k in range(8)]
    expected = [model.predict_proba(batch) for batch in batches]
    answers: dict[int, list] = {}
    errors = []

    def work(worker: int) -> None:
        try:
            for i in range(worker, len(batches), 8):
                answer = server.post("/predict", {"texts": batches[i]})
                assert answer.status == 200, answer.raw
                answers[i] = [probabilities(r, model.classes) for r in answer.json["results"]]
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(answers) == len(batches)
    for i, batch in enumerate(expected):
        np.testing.assert_allclose(answers[i], batch, rtol=0, atol=1e-12, err_msg=f"batch {i}")


def test_keep_alive_connection_serves_several_requests(server):
    connection = connect(server.port)
    try:
        for text in (COOPERATE, DECLINE, NEUTRAL):
            connection.request("POST", "/predict", json.dumps({"texts": [text]}), {"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200
            response.read()
    finally:
        connection.close()


def test_a_chunked_body_within_the_limit_is_read(server):
    body = json.dumps({"texts": [COOPERATE] * 50}).encode()
    chunks = (body[i : i + 500] for i in range(0, len(body), 500))  # no length: http.client sends it chunked
    answer = server.post("/predict", chunks)
    assert answer.status == 200, answer.raw
    assert len(answer.json["results"]) == 50


def test_a_chunked_body_is_counted_while_it_arrives(server):
    limit = LIMITS["--max-body-bytes"]
    chunks = (b'{"texts": ["' + b"x" * 1000 for _ in range(limit // 1000 + 5))
    answer = server.post("/predict", chunks)
    assert answer.status == 413
    assert answer.json == {"error": f"body is over the limit of {limit:,} bytes a request (--max-body-bytes); "
                                    "send fewer or shorter texts"}


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(server):
    connection = connect(server.port)
    try:
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(10**9))
        connection.endheaders()  # and no body: the answer must not wait for one
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"].startswith("body of 1,000,000,000 bytes is over the limit")
    finally:
        connection.close()


# --- what it refuses ------------------------------------------------------------------------------

LONG = "x" * (LIMITS["--max-chars"] + 1)
DEEP = b"[" * 19_000  # within the body limit, far past the parser's recursion limit

BAD_REQUESTS = [
    # (method, path, content type, body, status, error)
    ("POST", "/predict", "application/json", b'{"texts": [', 400, "malformed JSON at line 1 column 12: Expecting value"),
    ("POST", "/predict", "application/json", b"", 400, "empty body: send a JSON object"),
    ("POST", "/predict", "application/json", b"\xff{}", 400,
     "body is not valid UTF-8 (byte 0): send JSON encoded as UTF-8"),
    ("POST", "/predict", "application/json", b'{"texts": ["a"], "min_prob": NaN}', 400,
     "malformed JSON: NaN is not a JSON number"),
    ("POST", "/predict", "application/json", DEEP, 400, "malformed JSON: nested too deeply"),
    ("POST", "/predict", "application/json", b'["a sentence"]', 422,
     'the body is an array; send a JSON object: {"texts": ["The sheriff signed a 287(g) agreement with ICE."]}'),
    ("POST", "/predict", "application/json", {}, 422,
     'texts: missing; send a JSON object such as {"texts": ["The sheriff signed a 287(g) agreement with ICE."]}'),
    ("POST", "/predict", "application/json", {"texts": COOPERATE}, 422,
     "texts: expected an array of strings, got a string"),
    ("POST", "/predict", "application/json", {"texts": None}, 422, "texts: expected an array of strings, got null"),
    ("POST", "/predict", "application/json", {"texts": {"0": COOPERATE}}, 422,
     "texts: expected an array of strings, got an object"),
    ("POST", "/predict", "application/json", {"texts": []}, 422, "texts: empty array; give at least one text"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE, 7]}, 422, "texts[1]: expected a string, got a number"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE, DECLINE, None]}, 422,
     "texts[2]: expected a string, got null"),
    ("POST", "/predict", "application/json", {"texts": [[COOPERATE]]}, 422, "texts[0]: expected a string, got an array"),
    ("POST", "/predict", "application/json", {"texts": [""]}, 422, "texts[0]: empty; give the text to label"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE, " \t\n"]}, 422,
     "texts[1]: only white space; give the text to label"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE, LONG]}, 413,
     f"texts[1]: {len(LONG)} characters, over the limit of {LIMITS['--max-chars']} "
     "(--max-chars; send a whole article to POST /article)"),
    ("POST", "/predict", "application/json", {"texts": ["a b c"] * (LIMITS["--max-texts"] + 1)}, 413,
     f"texts: {LIMITS['--max-texts'] + 1} texts, over the limit of {LIMITS['--max-texts']} a request (--max-texts); "
     "send them in several requests"),
    ("POST", "/predict", "application/json", b'{"texts": ["ok", "\\ud800 lone"]}', 422,
     "texts[1]: not valid UTF-8 ('\\ud800' at character 1 is not a character). A \\u escape of a surrogate "
     "needs its other half (\\ud83d\\ude00 is one character)."),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE], "text": COOPERATE}, 422,
     "unknown field 'text'; the fields are texts, min_prob"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE], "min_prob": 1.5}, 422,
     "min_prob: expected a number from 0 to 1, got 1.5"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE], "min_prob": "0.5"}, 422,
     "min_prob: expected a number from 0 to 1, got a string"),
    ("POST", "/predict", "application/json", {"texts": [COOPERATE], "min_prob": True}, 422,
     "min_prob: expected a number from 0 to 1, got a boolean"),
    ("POST", "/predict", "text/plain", {"texts": [COOPERATE]}, 415,
     "content type 'text/plain': send the body as JSON with the header Content-Type: application/json"),
    ("POST", "/predict", None, b'{"texts": ["a"]}', 415,
     "no Content-Type header: send the body as JSON with the header Content-Type: application/json"),
    ("POST", "/predict", "application/x-www-form-urlencoded", b"texts=a", 415,
     "content type 'application/x-www-form-urlencoded': send the body as JSON with the header "
     "Content-Type: application/json"),
    ("POST", "/predict", "application/json; charset=latin-1", {"texts": [COOPERATE]}, 415,
     "charset 'latin-1': send JSON encoded as UTF-8"),
    ("POST", "/predict", "application/json", b'{"texts": ["' + b"x" * LIMITS["--max-body-bytes"] + b'"]}', 413,
     f"body of {LIMITS['--max-body-bytes'] + 15:,} bytes is over the limit of {LIMITS['--max-body-bytes']:,} bytes "
     "a request (--max-body-bytes); send fewer or shorter texts"),
    ("POST", "/article", "application/json", {"url": "https://example.org/a"}, 422,
     'text: missing; send a JSON object such as {"text": "The whole article, one paragraph a line.", '
     '"url": "...", "date": "..."}'),
    ("POST", "/article", "application/json", {"text": None}, 422, "text: expected a string, got null"),
    ("POST", "/article", "application/json", {"text": ["a", "b"]}, 422, "text: expected a string, got an array"),
    ("POST", "/article", "application/json", {"text": "\n\n"}, 422, "text: only white space; give the text to label"),
    ("POST", "/article", "application/json", {"text": "x" * (LIMITS["--max-article-chars"] + 1)}, 413,
     f"text: {LIMITS['--max-article-chars'] + 1:,} characters, over the limit of {LIMITS['--max-article-chars']:,} "
     "(--max-article-chars)"),
    ("POST", "/article", "application/json", {"text": NEUTRAL, "url": 5}, 422,
     "url: expected a string or null, got a number"),
    ("POST", "/article", "application/json", {"text": NEUTRAL, "date": ["2025"]}, 422,
     "date: expected a string or null, got an array"),
    ("POST", "/article", "application/json", {"text": NEUTRAL, "title": "T"}, 422,
     "unknown field 'title'; the fields are text, url, date, min_prob"),
    ("POST", "/article", "application/json", {"text": NEUTRAL, "min_prob": -0.1}, 422,
     "min_prob: expected a number from 0 to 1, got -0.1"),
    ("GET", "/predict", None, None, 405, "method GET is not allowed on /predict; use POST"),
    ("PUT", "/article", "application/json", {"text": NEUTRAL}, 405, "method PUT is not allowed on /article; use POST"),
    ("POST", "/health", "application/json", {}, 405, "method POST is not allowed on /health; use GET, HEAD"),
    ("DELETE", "/model", None, None, 405, "method DELETE is not allowed on /model; use GET, HEAD"),
    ("GET", "/", None, None, 404,
     "no such path '/'; the API has POST /predict, POST /article, GET /health, GET /model"),
    ("POST", "/predict/", "application/json", {"texts": [COOPERATE]}, 404,
     "no such path '/predict/'; the API has POST /predict, POST /article, GET /health, GET /model"),
    ("GET", "/v1/predict", None, None, 404,
     "no such path '/v1/predict'; the API has POST /predict, POST /article, GET /health, GET /model"),
]


@pytest.mark.parametrize("method, path, content_type, body, status, error", BAD_REQUESTS,
                         ids=[f"{row[4]}-{row[5][:40]}" for row in BAD_REQUESTS])
def test_bad_request_is_a_4xx_with_one_line_of_json(server, method, path, content_type, body, status, error):
    answer = request(server.port, method, path, body, content_type)
    assert answer.status == status, answer.raw
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.raw.count(b"\n") == 1 and answer.raw.endswith(b"\n")
    assert answer.json == {"error": error}


def test_method_not_allowed_names_the_allowed_ones(server):
    assert request(server.port, "GET", "/predict").headers["Allow"] == "POST"


def test_the_server_is_still_well_after_every_refusal(server):
    assert "Traceback" not in server.log.read_text()
    assert " 500 " not in server.log.read_text()
    assert server.get("/health").status == 200


# --- starting and stopping ------------------------------------------------------------------------


def test_sigterm_lets_the_request_in_flight_finish_and_stops(trained_model_dir, tmp_path):
    log = tmp_path / "server.log"
    process, port = start(trained_model_dir, log)
    texts = [row["text"] for row in toy_rows()]
    body = json.dumps({"texts": texts}).encode()
    connection = connect(port)
    try:
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body[:100])
        time.sleep(0.3)  # the server has read the headers: the request is in flight
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        connection.send(body[100:])
        response = connection.getresponse()
        assert response.status == 200
        assert len(json.loads(response.read())["results"]) == len(texts)
    finally:
        connection.close()
    assert stop(process) in (0, -signal.SIGTERM, 128 + signal.SIGTERM), log.read_text()
    assert "Finished server process" in log.read_text()
    with pytest.raises(OSError):
        request(port, "GET", "/health")


def test_serve_says_where_it_listens_and_keeps_stdout_for_data(trained_model_dir, tmp_path):
    log = tmp_path / "server.log"
    process, port = start(trained_model_dir, log)
    stop(process)
    first = log.read_text().splitlines()[0]
    assert first == (f"stance: serving {trained_model_dir} on http://127.0.0.1:{port} "
                     "(POST /predict, POST /article, GET /health, GET /model); Ctrl-C stops")


def test_serve_without_the_serve_extra_says_how_to_install_it(invoke, model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "starlette", None)  # `import starlette` now raises ImportError
    result = invoke("serve")
    assert result.exit_code == 1
    assert result.stderr == "stance: error: stance serve needs the serve extra: pip install 'stance[serve]'\n"


def test_serve_on_a_port_in_use_is_one_line(invoke, model_dir):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--port", port)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"stance: error: cannot listen on 127.0.0.1:{port} (Address already in use).")
    assert result.stderr.count("\n") == 1


def test_serve_without_a_model_is_one_line(invoke, tmp_path):
    result = invoke("serve", "--model", tmp_path / "nothing")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"stance: error: {tmp_path / 'nothing'}: no model directory there.")


def test_other_commands_never_import_the_server_stack():
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import stance.cli"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "typer" in imported
    assert not imported & {"starlette", "uvicorn", "anyio", "h11"}


def test_a_bug_is_a_500_whose_traceback_is_logged(caplog):
    """A planted bug in the model, behind the real application on a real socket."""
    import logging

    import uvicorn

    from stance.serve import Limits, SharedModel, create_app, listen

    class Broken:
        classes_ = ("cooperate", "decline", "neutral")

        def probabilities(self, texts):
            raise ZeroDivisionError("planted bug")

    app = create_app(SharedModel(Broken(), {}, "broken"), Limits(10, 100, 1000, 10_000))
    sock = listen(HOST, 0)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    with caplog.at_level(logging.ERROR):
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            answer = request(sock.getsockname()[1], "POST", "/predict", {"texts": [COOPERATE]})
            healthy = request(sock.getsockname()[1], "GET", "/health")
        finally:
            server.should_exit = True
            thread.join(timeout=20)
    assert answer.status == 500
    assert answer.json == {"error": "internal error; the traceback is in the server's log"}
    assert healthy.status == 200
    assert "ZeroDivisionError: planted bug" in caplog.text
