"""Load on `stance serve`, measured on localhost: requests/s and latency at 1, 8 and 32 clients.

Usage (the server stack is in the `serve` extra):
    python bench/serve.py                      # 6 cells of 5 s each, about 40 s in all
    python bench/serve.py --seconds 2 --clients 1,8 --batch 1

Starts `stance serve` on a free port of 127.0.0.1, waits for GET /health, then for each number
of clients and each batch size runs that many threads for a fixed time, each thread on its own
keep-alive connection sending POST /predict with `batch` sentences of labels.csv and waiting for
the answer before sending the next. Prints a Markdown table: requests, requests/s, sentences/s,
p50 and p99 latency, and any answer that was not 200. The server is stopped with SIGTERM.

Clients and server share this machine's cores, so the figures are a floor for the server alone.
Traffic goes to 127.0.0.1 only, and every loop stops by itself when its time is up.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(model: Path, port: int, log) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "stance", "serve", "--model", str(model), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"stance serve exited with status {process.returncode}; see {log.name}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("stance serve did not answer GET /health within 60 s")


def connect(port: int) -> http.client.HTTPConnection:
    """A connection that sends each request at once: http.client writes the headers and the body
    in two calls, and Nagle's algorithm would hold the body back for the server's delayed ACK
    (40 ms on Linux), a wait that is the client's, not the server's."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def client(port: int, bodies: list[bytes], stop_at: float, latencies: list[float], failures: list[str]) -> None:
    """One client: a keep-alive connection, one request at a time, until `stop_at`."""
    connection = connect(port)
    headers = {"Content-Type": "application/json"}
    i = 0
    while time.monotonic() < stop_at:
        body = bodies[i % len(bodies)]
        i += 1
        started = time.perf_counter()
        try:
            connection.request("POST", "/predict", body, headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as err:
            failures.append(type(err).__name__)
            connection.close()
            connection = connect(port)
            continue
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            failures.append(str(response.status))
    connection.close()


def measure(port: int, texts: list[str], clients: int, batch: int, seconds: float) -> dict:
    rng = random.Random(clients * 1000 + batch)
    bodies = [json.dumps({"texts": rng.sample(texts, batch)}).encode() for _ in range(500)]
    per_client = [[] for _ in range(clients)]
    failures: list[str] = []
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(port, bodies[k::clients] or bodies, stop_at, per_client[k],
                                                     failures)) for k in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for xs in per_client for x in xs)
    n = len(latencies)
    return {"clients": clients, "batch": batch, "requests": n, "requests_per_s": n / elapsed,
            "sentences_per_s": n * batch / elapsed,
            "p50_ms": 1000 * statistics.median(latencies) if n else float("nan"),
            "p99_ms": 1000 * latencies[min(n - 1, int(0.99 * n))] if n else float("nan"),
            "failures": len(failures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--seconds", type=float, default=5.0, help="Length of each cell.")
    parser.add_argument("--clients", default="1,8,32", help="Concurrent clients, comma-separated.")
    parser.add_argument("--batch", default="1,32", help="Sentences per request, comma-separated.")
    args = parser.parse_args()
    with open(ROOT / "labels.csv", encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    port = free_port()
    with tempfile.NamedTemporaryFile("w", prefix="stance-serve-", suffix=".log", delete=False) as log:
        server = start_server(args.model, port, log)
        try:
            measure(port, texts, 2, 32, min(args.seconds, 1.0))  # warm the piece cache and the connections
            rows = [measure(port, texts, int(c), int(b), args.seconds)
                    for b in args.batch.split(",") for c in args.clients.split(",")]
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    os.unlink(log.name)
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("starlette", "uvicorn"))
    print(f"stance serve on {HOST}, {os.cpu_count()} cores shared with the clients, Python "
          f"{platform.python_version()}, {versions}; {args.seconds:g} s a cell\n")
    print("| clients | sentences a request | requests | requests/s | sentences/s | p50 ms | p99 ms | not 200 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['clients']} | {r['batch']} | {r['requests']:,} | {r['requests_per_s']:,.0f} | "
              f"{r['sentences_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['failures']} |")


if __name__ == "__main__":
    main()
