"""`stance serve`: the model as a JSON HTTP API, on Starlette and uvicorn.

POST /predict labels a list of sentences, POST /article cuts an article into sentences (as
`stance extract` does) and labels them, GET /health and GET /model say that it runs and with
which model. The model is read once, at start-up.

A request the API refuses gets a 4xx status and one line of JSON, `{"error": "..."}`, that names
the problem (and for one text of a list, its position). A 500 means a bug: its traceback goes to
the log. Predictions run in Starlette's thread pool, so the event loop keeps answering, health
checks included, while a large batch is scored.

Only `stance serve` imports this module: the CLI's other commands never load Starlette.
"""

from __future__ import annotations

import copy
import json
import socket
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stance import __version__
from stance.errors import RequestError, UsageError
from stance.extract import extract_statements
from stance.inputs import check_encodable
from stance.predict import Item, classify, summarise_article

# A JSON string can escape half of a surrogate pair ("\\ud800") on its own: no character.
JSON_SURROGATE_ADVICE = "A \\u escape of a surrogate needs its other half (\\ud83d\\ude00 is one character)."

ENDPOINTS = "POST /predict, POST /article, GET /health, GET /model"
PREDICT_EXAMPLE = '{"texts": ["The sheriff signed a 287(g) agreement with ICE."]}'
ARTICLE_EXAMPLE = '{"text": "The whole article, one paragraph a line.", "url": "...", "date": "..."}'


@dataclass(frozen=True)
class Limits:
    """What one request may hold. Past a limit the request is answered 413, naming the limit."""

    max_texts: int  # texts in one POST /predict
    max_chars: int  # characters in one text of POST /predict
    max_article_chars: int  # characters in the text of one POST /article
    max_body_bytes: int  # bytes in one request body, whatever the endpoint


class SharedModel:
    """The one model that every request uses, with what the API says about it. Requests run in
    Starlette's thread pool, so the event loop stays free; the model lets their batches take
    turns itself (`CompiledModel.decision_function`)."""

    def __init__(self, model, metadata: dict, name: str):
        self._model = model
        self.classes: tuple[str, ...] = tuple(model.classes_)
        self.classes_ = model.classes_
        self.metadata = metadata
        self.identity = {"name": name, "classes": list(self.classes), "trained_at": metadata.get("trained_at"),
                         "labels_sha256": metadata.get("labels_sha256")}

    def probabilities(self, texts: list[str]):
        """Probabilities in `classes` order, one row per text (the interface `classify` needs)."""
        return self._model.probabilities(texts)


def load_model(directory: Path) -> SharedModel:
    """Read a model directory for serving; raise ModelError naming the fix when it is unusable.

    `directory` None is stance.load's default (the shipped model, $STANCE_MODEL or ./models/default)."""
    from stance.api import load

    model = load(directory)
    return SharedModel(model, model.metadata, Path(model.path_).resolve().name)


def serving_versions() -> dict[str, str]:
    """Versions of the code answering requests (the model's metadata has those that trained it)."""
    versions = {"stance": __version__}
    for name in ("numpy", "starlette", "uvicorn"):
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# --- reading a request ------------------------------------------------------------------------


def _kind(value) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "an array", dict: "an object"}[type(value)]


def _reject_constant(name: str):
    raise RequestError(f"malformed JSON: {name} is not a JSON number", 400)


async def read_json(request: Request, limits: Limits):
    """The request body parsed as JSON. The declared Content-Length is checked before anything is
    read, and the bytes are counted as they arrive, so a chunked body cannot pass the limit either."""
    content_type = request.headers.get("content-type", "")
    media, _, parameters = content_type.partition(";")
    if media.strip().lower() != "application/json":
        shown = f"content type {content_type[:100]!r}" if content_type else "no Content-Type header"
        raise RequestError(f"{shown}: send the body as JSON with the header Content-Type: application/json", 415)
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestError(f"charset {value.strip()[:40]!r}: send JSON encoded as UTF-8", 415)
    limit = limits.max_body_bytes
    too_large = f"over the limit of {limit:,} bytes a request (--max-body-bytes); send fewer or shorter texts"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"body of {int(declared):,} bytes is {too_large}", 413)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestError(f"body is {too_large}", 413)
    except ClientDisconnect:
        raise RequestError("the client closed the connection before the body was complete", 400) from None
    return parse_json(bytes(body))


def parse_json(body: bytes):
    """Parse a body; RequestError (400) naming what is wrong with it."""
    if not body.strip():
        raise RequestError("empty body: send a JSON object", 400)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestError(f"body is not valid UTF-8 (byte {err.start}): send JSON encoded as UTF-8", 400) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise RequestError(f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}", 400) from None
    except RecursionError:
        raise RequestError("malformed JSON: nested too deeply", 400) from None


def _fields(body, required: tuple[str, ...], optional: tuple[str, ...], example: str) -> dict:
    """The body as an object with its required fields and no others."""
    if not isinstance(body, dict):
        raise RequestError(f"the body is {_kind(body)}; send a JSON object: {example}")
    known = required + optional
    for key in body:
        if key not in known:
            raise RequestError(f"unknown field {key[:40]!r}; the fields are {', '.join(known)}")
    for key in required:
        if key not in body:
            raise RequestError(f"{key}: missing; send a JSON object such as {example}")
    return body


def _check_text(where: str, text, limit: int, option: str) -> str:
    if not isinstance(text, str):
        raise RequestError(f"{where}: expected a string, got {_kind(text)}")
    if not text.strip():
        raise RequestError(f"{where}: {'empty' if not text else 'only white space'}; give the text to label")
    if len(text) > limit:
        raise RequestError(f"{where}: {len(text):,} characters, over the limit of {limit:,} ({option})", 413)
    return check_encodable(text, where, RequestError, JSON_SURROGATE_ADVICE)


def parse_texts(value, limits: Limits) -> list[str]:
    """The `texts` field: a non-empty list of non-blank strings within the limits."""
    if not isinstance(value, list):
        raise RequestError(f"texts: expected an array of strings, got {_kind(value)}")
    if not value:
        raise RequestError("texts: empty array; give at least one text")
    if len(value) > limits.max_texts:
        raise RequestError(f"texts: {len(value):,} texts, over the limit of {limits.max_texts:,} a request "
                           "(--max-texts); send them in several requests", 413)
    for i, text in enumerate(value):
        _check_text(f"texts[{i}]", text, limits.max_chars, "--max-chars; send a whole article to POST /article")
    return value


def parse_min_prob(value) -> float:
    """The optional `min_prob` field: a number from 0 to 1, 0 when left out or null."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        shown = json.dumps(value)[:40] if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else _kind(value)
        raise RequestError(f"min_prob: expected a number from 0 to 1, got {shown}")
    return float(value)


def _optional_string(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise RequestError(f"{key}: expected a string or null, got {_kind(value)}")
    return value if value is None else check_encodable(value, key, RequestError, JSON_SURROGATE_ADVICE)


# --- answering ------------------------------------------------------------------------------------


def _result(row: dict, classes) -> dict:
    return {"label": row["label"], "probabilities": {c: row[f"p_{c}"] for c in classes}}


def label_texts(model: SharedModel, texts: list[str], min_prob: float) -> list[dict]:
    """One result per text, in order: label (or `uncertain` below min_prob) and probabilities."""
    rows = classify(model, [Item(text, f"texts[{i}]") for i, text in enumerate(texts)], min_prob)
    return [_result(row, model.classes) for row in rows]


def label_article(model: SharedModel, text: str, min_prob: float) -> dict:
    """An article's statement sentences, each labelled, and the summary `stance predict --article`
    prints: the count of each label and the most confident cooperate and decline sentences."""
    statements = extract_statements(text)
    items = [Item(sentence, f"sentence {i}") for i, (sentence, _) in enumerate(statements, start=1)]
    rows = classify(model, items, min_prob) if items else []
    sentences = []
    for number, (row, (_, speaker)) in enumerate(zip(rows, statements), start=1):
        row["sentence"] = number
        sentences.append({"sentence": number, "text": row["text"], "speaker": speaker, **_result(row, model.classes)})
    summary = summarise_article(rows, model.classes)
    summary["most_confident"] = {
        label: None if best is None else
        {"sentence": best["sentence"], "text": best["text"], "probability": best[f"p_{label}"]}
        for label, best in summary["most_confident"].items()
    }
    return {"sentences": sentences, "summary": summary}


def _error(status: int, message: str, headers=None) -> Response:
    # ASCII escapes: an error may quote a field name or path that a UTF-8 answer cannot carry.
    return Response(json.dumps({"error": message}) + "\n", status, headers=headers, media_type="application/json")


def create_app(model: SharedModel, limits: Limits) -> Starlette:
    """The ASGI application answering the four endpoints with `model` under `limits`."""

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def describe_model(request: Request) -> Response:
        return JSONResponse({**model.identity, "metadata": model.metadata, "versions": serving_versions(),
                             "limits": vars(limits)})

    async def predict(request: Request) -> Response:
        body = _fields(await read_json(request, limits), ("texts",), ("min_prob",), PREDICT_EXAMPLE)
        texts = parse_texts(body["texts"], limits)
        min_prob = parse_min_prob(body.get("min_prob"))
        results = await run_in_threadpool(label_texts, model, texts, min_prob)
        return JSONResponse({"results": results, "model": model.identity})

    async def article(request: Request) -> Response:
        body = _fields(await read_json(request, limits), ("text",), ("url", "date", "min_prob"), ARTICLE_EXAMPLE)
        text = _check_text("text", body["text"], limits.max_article_chars, "--max-article-chars")
        url, date = _optional_string(body, "url"), _optional_string(body, "date")
        min_prob = parse_min_prob(body.get("min_prob"))
        labelled = await run_in_threadpool(label_article, model, text, min_prob)
        return JSONResponse({"url": url, "date": date, **labelled, "model": model.identity})

    async def refused(request: Request, exc: RequestError) -> Response:
        return _error(exc.status, str(exc))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path[:100]
        if exc.status_code == 404:
            message = f"no such path {path!r}; the API has {ENDPOINTS}"
        elif exc.status_code == 405:
            allowed = ", ".join(sorted((exc.headers or {}).get("Allow", "").split(", ")))
            message = f"method {request.method} is not allowed on {path}; use {allowed}"
        else:
            message = str(exc.detail)
        return _error(exc.status_code, message, exc.headers)

    async def internal_error(request: Request, exc: Exception) -> Response:
        # Starlette re-raises the exception after this answer, and uvicorn logs its traceback.
        return _error(500, "internal error; the traceback is in the server's log")

    app = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/article", article, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/model", describe_model, methods=["GET"]),
        ],
        exception_handlers={RequestError: refused, HTTPException: http_error, Exception: internal_error},
    )
    app.router.redirect_slashes = False  # /predict/ is an unknown path, not a redirect
    return app


# --- running ----------------------------------------------------------------------------------


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening; UsageError naming the address when it cannot be."""
    try:
        family, kind, proto, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                           proto=socket.IPPROTO_TCP)[0]
        # The protocol given explicitly, not left 0: asyncio turns Nagle's algorithm off only on
        # connections whose socket says IPPROTO_TCP, and with it on every answer after the first
        # on a keep-alive connection waited 40 ms for the client's delayed ACK.
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(where)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
        return sock
    except OSError as err:
        raise UsageError(f"cannot listen on {host}:{port} ({err.strerror or err}). "
                         "Choose another --port, or stop the program that holds it.") from None


def address(sock: socket.socket) -> str:
    """The URL a bound socket answers on."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def is_loopback(sock: socket.socket) -> bool:
    host = sock.getsockname()[0]
    return host.startswith("127.") or host == "::1"


def run(app: Starlette, sock: socket.socket) -> None:
    """Answer requests on `sock` until SIGINT or SIGTERM, then finish the requests in flight."""
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"  # stdout is for data
    config = uvicorn.Config(app, log_config=log_config, timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])
