"""Stress the served app the way a public Space meets it: several visitors at once, for a bounded time.

    python tests/scripts/stress.py --seconds 120 --clients 6

Starts `app.py` in a subprocess on 127.0.0.1 (a free port, its own temporary folder), then every client, one
`gradio_client` session each, loops over a random mix of tiny runs (64 or 96 px, width 32, m 16, 50-150 steps),
cancellations mid-run (as when a tab closes), Stop presses (sent as the page sends them), and mistakes: bad
numbers, garbage files, bad mapping specs, NaN in raw JSON, server paths. When the time is up it checks that a
cancelled or stopped run lets the server's CPU go idle, that the server still answers, what its memory did, and
that no run left files behind. It prints a table and a JSON report, and exits with 1 if anything was wrong
(the server died, a mistake got an unclear answer, a client got someone else's results, files were left).

Not collected by pytest (tests/scripts holds no tests). Every loop is bounded; the script always stops the
server.
"""

import argparse
import collections
import json
import os
import pathlib
import random
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

import numpy as np
import psutil
from gradio_client import Client, handle_file
from PIL import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # tests/: the tests' shared values
from conftest import PAGE, ROOT, free_port, press_stop, raw_call, raw_values  # noqa: E402

IMAGES = {name: ROOT / "assets" / f"{name}.png" for name in ("cat", "text", "pattern", "astronaut", "coffee")}
# (selected, sigma_log10, extra) -> the mappings metrics.json must list, at 64 and 96 px (posenc's S follows the size)
MAPPING_SETS = [
    ((["none", "custom"], 0.3, ""), {64: ["none", "gauss:2"], 96: ["none", "gauss:2"], 128: ["none", "gauss:2"]}),
    ((["basic"], 0.3, "gauss:4"), {64: ["basic", "gauss:4"], 96: ["basic", "gauss:4"], 128: ["basic", "gauss:4"]}),
    ((["none", "posenc"], 0.0, ""), {64: ["none", "posenc:3"], 96: ["none", "posenc:4"], 128: ["none", "posenc:4"]}),
    ((["gauss:1"], 0.0, "none@0.01"), {s: ["none@0.01", "gauss:1"] for s in (64, 96, 128)})  # the mappings' one order,
]
TINY = {name: value for name, value in {**PAGE, "iters": 100}.items() if name != "selected"}  # the tests' tiny run
LONG = dict(size=128, iters=5000)  # runs to cancel or Stop: the tiny net trains 64 px at ~3000 steps/s
BAD_NUMBERS = [  # (changes, words the refusal must contain)
    (dict(iters="abc"), "iters must be a whole number"),
    (dict(iters=10**9), "This server runs iters up to 5000"),
    (dict(seed=None), "seed must be a whole number"),
    (dict(seed=-5), "seed must be at least 0"),
    (dict(width="abc"), "width must be a whole number"),
    (dict(lr=5), "lr (learning rate) must be at most 1"),
    (dict(lr="fast"), "lr (learning rate) must be a finite number"),
    (dict(sigma_log10=[1]), "sigma_log10"),
    (dict(size=4096), "size (resolution) must be at most"),
    (dict(depth=2.5), "depth must be a whole number"),
    (dict(features=True), "features (mapping size m) must be a whole number"),
    (dict(selected=["bogus"]), "is not one of"),
    (dict(paper_lr="yes"), "paper_lr"),
    (dict(size=512, width=512, depth=8, features=512, selected=["none", "basic", "posenc", "gauss:1", "gauss:10"]),
     "GB of memory"),
]
BAD_SPECS = [("fourier", "Unknown mapping"), ("gauss:-1", "positive finite number"), ("posenc", "needs a scale"),
             ("gauss:1e9", "at most 10000"), ("none@0", "positive finite number"),
             (" ".join(f"gauss:{s}" for s in range(1, 26)), "At most 24 mappings")]
BAD_FILES = {"text": "not an image that can be read", "zero": "is empty (0 bytes)", "truncated": "cut short",
             "bomb": "decompression bomb", "tiny": "too small", "elongated": "too elongated"}
RAW_NANS = [("iters", "iters must be a whole number"), ("seed", "seed must be a whole number"),
            ("lr", "lr (learning rate) must be a finite number"), ("sigma_log10", "sigma_log10")]
SERVER_PATHS = ["/etc/passwd", str(ROOT / "app.py"), str(ROOT / "README.md"), "../../../../etc/passwd"]
ACTIONS = {"run": 30, "cancel": 14, "stop": 14, "bad_number": 14, "bad_file": 10, "bad_spec": 8, "raw_nan": 5,
           "server_path": 5}


# --- The server -------------------------------------------------------------------------------------------------


class Server:
    """`python app.py` on 127.0.0.1 in a private temporary folder (its uploads, cache and run folders)."""

    def __init__(self, max_queue: int, concurrent: int):
        self.home = pathlib.Path(tempfile.mkdtemp(prefix="ffn-stress-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "TMPDIR": str(self.home), "GRADIO_TEMP_DIR": str(self.home / "gradio"),
               "FFN_MAX_QUEUE": str(max_queue), "FFN_CONCURRENT_RUNS": str(concurrent),
               "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1",
               "JAX_PLATFORMS": "cpu", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        self.log_path = self.home / "server.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port",
                                         str(self.port)], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.ps = psutil.Process(self.process.pid)

    def wait_ready(self, timeout=240.0) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{self.log_path.read_text()[-2000:]}")
            if self.answers():
                return time.monotonic() - start
            time.sleep(0.5)
        raise RuntimeError("the server did not answer in time")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=5) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        try:
            return self.ps.memory_info().rss / 2**20
        except psutil.Error:
            return float("nan")

    def cpu_percent(self, seconds: float) -> float:
        """The server's CPU use over the next `seconds` (100 = one core busy)."""
        try:
            return self.ps.cpu_percent(interval=seconds)
        except psutil.Error:
            return float("nan")

    def folder_size_mb(self, name: str) -> tuple[float, int]:
        files = [p for p in (self.home / name).rglob("*") if p.is_file()] if (self.home / name).exists() else []
        return sum(p.stat().st_size for p in files) / 2**20, len(files)

    def stop(self, keep: bool):
        if self.alive():
            self.process.send_signal(signal.SIGINT)  # the server lets its jobs end (up to 30 s), then exits
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        if not keep:
            shutil.rmtree(self.home, ignore_errors=True)


# --- What clients send ------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_garbage(folder: pathlib.Path) -> dict[str, str]:
    """One file of each bad kind; returns kind -> path."""
    rng = np.random.default_rng(0)
    paths = {kind: folder / f"{kind}.png" for kind in BAD_FILES}
    paths["text"].write_text("not a picture")
    paths["zero"].write_bytes(b"")
    whole = IMAGES["cat"].read_bytes()
    paths["truncated"].write_bytes(whole[: len(whole) // 2])
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    paths["bomb"].write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                              + _png_chunk(b"IDAT", zlib.compress(b"\0" * 400_004)) + _png_chunk(b"IEND", b""))
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), np.uint8)).save(paths["tiny"])
    Image.fromarray(rng.integers(0, 256, (20, 400, 3), np.uint8)).save(paths["elongated"])
    return {kind: str(path) for kind, path in paths.items()}


def fetch_metrics(result) -> dict:
    entry = next(f for f in result[5] if str(f["path"]).endswith("metrics.json"))
    with urllib.request.urlopen(entry["url"], timeout=30) as r:
        return json.loads(r.read())


def step_of(update) -> int:
    found = re.search(r"step (\d+) /", str(update[0]))
    return int(found.group(1)) if found else 0


# --- The visitors -----------------------------------------------------------------------------------------------


class Report:
    """Everything the clients saw, counted under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.unexpected: list[str] = []
        self.crosstalk: list[str] = []
        self.cancel_seconds: list[float] = []
        self.stop_seconds: list[float] = []
        self.run_seconds: list[float] = []

    def count(self, key: str, n: int = 1):
        with self.lock:
            self.counts[key] += n

    def bad(self, where: str, what: str):
        with self.lock:
            self.counts["unexpected"] += 1
            if len(self.unexpected) < 30:
                self.unexpected.append(f"{where}: {what[:300]}")


def is_queue_full(error: BaseException) -> bool:
    return "Queue is full" in str(error)


class Visitor:
    def __init__(self, url: str, index: int, seed: int, deadline: float, garbage: dict, report: Report):
        self.url, self.index, self.deadline, self.garbage, self.report = url, index, deadline, garbage, report
        self.rng = random.Random(seed * 1000 + index)
        self.client = Client(url, verbose=False, download_files=False)

    def loop(self):
        names, weights = zip(*ACTIONS.items())
        while time.monotonic() < self.deadline:
            action = self.rng.choices(names, weights)[0]
            self.report.count(f"asked: {action}")
            try:
                getattr(self, action)()
            except Exception as e:  # noqa: BLE001: anything a visitor meets is counted, never fatal here
                if is_queue_full(e):
                    self.report.count("queue full (refused, expected)")
                    time.sleep(self.rng.uniform(0.2, 1.0))
                else:
                    self.report.bad(action, f"{type(e).__name__}: {e}")

    # A normal run, then the cross-talk check: metrics.json must describe exactly what this visitor asked for.
    def ask(self, iters, size=None):
        (selected, sigma_log10, extra), expected = self.rng.choice(MAPPING_SETS)
        size = size or self.rng.choice([64, 64, 96])
        image = self.rng.choice(list(IMAGES))
        settings = {**TINY, "selected": selected, "sigma_log10": sigma_log10, "extra": extra, "size": size,
                    "iters": iters, "seed": self.rng.randrange(1000)}
        return image, settings, expected[size]

    def check_own(self, result, image, settings, specs, stopped=False):
        got = fetch_metrics(result)
        mine = (got["image"] == image and list(got["mappings"]) == specs and got["config"]["size"] == settings["size"]
                and got["config"]["seed"] == settings["seed"] and got["config"]["iters"] == settings["iters"]
                and (got["steps_done"] < settings["iters"] if stopped else got["steps_done"] == settings["iters"]))
        if not mine:
            with self.report.lock:
                self.report.crosstalk.append(f"client {self.index} asked {image} {specs} {settings['size']} px seed "
                                             f"{settings['seed']}, got {got['image']} {list(got['mappings'])} "
                                             f"{got['config']['size']} px seed {got['config']['seed']}")
        self.report.count("cross-talk checks passed" if mine else "cross-talk checks FAILED")

    def run(self):
        image, settings, specs = self.ask(self.rng.choice([50, 100, 150]))
        start = time.monotonic()
        result = self.client.predict(handle_file(str(IMAGES[image])), **settings, api_name="/train")
        if "Done" not in result[0]:
            return self.report.bad("run", f"no 'Done' in {result[0][:200]!r}")
        self.report.run_seconds.append(time.monotonic() - start)
        self.report.count("runs completed")
        self.check_own(result, image, settings, specs)

    def _running_job(self):
        """Submits a long run and waits (bounded) until it trains; returns (job, started, what was asked)."""
        image, settings, specs = self.ask(**LONG)
        job = self.client.submit(handle_file(str(IMAGES[image])), **settings, api_name="/train")
        end = min(time.monotonic() + 60, self.deadline + 30)
        while time.monotonic() < end and not job.done():
            if any(step_of(u) > 0 for u in job.outputs()):
                return job, True, (image, settings, specs)
            time.sleep(0.1)
        return job, False, (image, settings, specs)

    def cancel(self):
        job, started, _ = self._running_job()
        if job.done():
            job.result(timeout=5)  # raises "Queue is full" if it was refused
            return self.report.count("cancel: run ended before the cancel")
        time.sleep(self.rng.uniform(0, 1.5) if started else 0)
        asked = time.monotonic()
        job.cancel()
        end = asked + 30
        while time.monotonic() < end and not job.done():
            time.sleep(0.05)
        if not job.done():
            return self.report.bad("cancel", "the job was not over 30 s after the cancel")
        self.report.cancel_seconds.append(time.monotonic() - asked)
        self.report.count("cancelled while running" if started else "cancelled while waiting")

    def stop(self):
        job, started, (image, settings, specs) = self._running_job()
        if job.done():
            job.result(timeout=5)  # raises "Queue is full" if it was refused
            return self.report.count("stop: run ended before the press")
        if not started:
            job.cancel()
            return self.report.count("stop: run had not started in time (cancelled instead)")
        time.sleep(self.rng.uniform(0, 1.0))
        asked = time.monotonic()
        press_stop(self.url, self.client.session_hash)
        result = job.result(timeout=60)
        self.report.stop_seconds.append(time.monotonic() - asked)
        if "Done." in result[0]:
            return self.report.count("stop: run ended before the press")
        if "Stopped at step" not in result[0] or len(result[5]) != 5:
            return self.report.bad("stop", f"a stopped run said {result[0][:200]!r} with {len(result[5] or [])} files")
        self.report.count("stops honoured (downloads offered)")
        self.check_own(result, image, settings, specs, stopped=True)

    def expect_refusal(self, action: str, call, words: str):
        try:
            call()
        except Exception as e:  # noqa: BLE001
            if is_queue_full(e):
                raise
            if words in str(e):
                return self.report.count(f"refused clearly: {action}")
            return self.report.bad(action, f"unclear refusal (wanted {words!r}): {e}")
        self.report.bad(action, f"accepted a value it should refuse (wanted {words!r})")

    def bad_number(self):
        changes, words = self.rng.choice(BAD_NUMBERS)
        settings = {**TINY, "selected": ["none"], **changes}
        self.expect_refusal("bad number", lambda: self.client.predict(handle_file(str(IMAGES["cat"])), **settings,
                                                                       api_name="/train"), words)

    def bad_spec(self):
        extra, words = self.rng.choice(BAD_SPECS)
        settings = {**TINY, "selected": ["none"], "extra": extra}
        self.expect_refusal("bad spec", lambda: self.client.predict(handle_file(str(IMAGES["cat"])), **settings,
                                                                     api_name="/train"), words)

    def bad_file(self):
        kind = self.rng.choice(list(BAD_FILES))
        settings = {**TINY, "selected": ["none"], "iters": 25}
        self.expect_refusal("garbage file", lambda: self.client.predict(handle_file(self.garbage[kind]), **settings,
                                                                         api_name="/train"), BAD_FILES[kind])

    def _raw(self, values, words, action):
        event, payload = raw_call(self.url, values, timeout=300)
        if event == "refused":
            message = f"HTTP {payload['status']}: {payload['error']}"
        else:
            message = (payload.get("error") or "") if event == "error" else ""
        if "Queue is full" in message:
            raise RuntimeError(message)
        if words in message:
            return self.report.count(f"refused clearly: {action}")
        self.report.bad(action, f"unclear answer (wanted {words!r}): {message[:200]!r}")

    def raw_nan(self):
        name, words = self.rng.choice(RAW_NANS)
        self._raw(raw_values(None, **{**TINY, "selected": ["none"], name: float("nan")}), words, "NaN in raw JSON")

    def server_path(self):
        path = self.rng.choice(SERVER_PATHS)
        self._raw(raw_values({"path": path}, **{**TINY, "selected": ["none"]}), "must be a file uploaded to this app",
                  "server path as the image")


# --- The probes after the load ----------------------------------------------------------------------------------


def seconds_until_idle(server: Server, limit=15.0, idle_percent=20.0) -> float | None:
    """Seconds until the server's CPU use over a quarter second falls below `idle_percent`, or None."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if server.cpu_percent(0.25) < idle_percent:
            return round(time.monotonic() - start, 2)
    return None


def probe(server: Server, how: str) -> dict:
    """One long run alone, ended by `how` ('cancel' or 'stop'): how soon is the server's CPU idle again?"""
    client = Client(server.url, verbose=False, download_files=False)
    settings = {**TINY, "selected": ["none", "custom"], **LONG}
    job = client.submit(handle_file(str(IMAGES["cat"])), **settings, api_name="/train")
    end = time.monotonic() + 60
    while time.monotonic() < end and not any(step_of(u) > 0 for u in job.outputs()):
        time.sleep(0.1)
    busy = server.cpu_percent(0.5)
    asked = time.monotonic()
    if how == "cancel":
        job.cancel()
    else:
        press_stop(server.url, client.session_hash)
    returned = time.monotonic()
    profile = [round(server.cpu_percent(0.1)) for _ in range(30)]  # CPU % in each 0.1 s for 3 s
    idle = next((i for i in range(len(profile)) if all(c < 20 for c in profile[i:])), None)
    return {"cpu_percent_while_training": round(busy),
            "seconds_to_idle_after_" + how: None if idle is None else round(0.1 * idle + (returned - asked), 2),
            "seconds_until_the_call_returned": round(returned - asked, 2), "cpu_percent_each_0.1s_after": profile}


# --- Main --------------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Stress the served app with several concurrent visitors.")
    p.add_argument("--seconds", type=float, default=120, help="how long the clients keep starting actions")
    p.add_argument("--clients", type=int, default=6, help="concurrent visitors (gradio_client sessions)")
    p.add_argument("--max-queue", type=int, default=4, help="the server's queue length (FFN_MAX_QUEUE)")
    p.add_argument("--concurrent", type=int, default=1, help="runs at once on the server (FFN_CONCURRENT_RUNS)")
    p.add_argument("--seed", type=int, default=0, help="seeds every client's choices")
    p.add_argument("--json", type=pathlib.Path, help="also write the JSON report here")
    p.add_argument("--keep", action="store_true", help="keep the server's folder (log, cache) for inspection")
    args = p.parse_args(argv)

    server = Server(args.max_queue, args.concurrent)
    report, out = Report(), {}
    samples = []
    watching = threading.Event()
    try:
        out["startup_seconds"] = round(server.wait_ready(), 1)
        out["rss_mb_at_start"] = round(server.rss_mb())
        warm = Client(server.url, verbose=False, download_files=False)
        for size in (64, 96, 128):  # compile the common shapes once, as a warm server would have
            warm.predict(handle_file(str(IMAGES["cat"])), **{**TINY, "selected": ["none", "custom"], "iters": 25,
                                                             "size": size}, api_name="/train")
        out["rss_mb_after_warmup"] = round(server.rss_mb())

        def watch():
            while not watching.wait(1.0):
                samples.append(round(server.rss_mb()))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        with tempfile.TemporaryDirectory() as folder:
            garbage = write_garbage(pathlib.Path(folder))
            deadline = time.monotonic() + args.seconds
            visitors = [Visitor(server.url, i, args.seed, deadline, garbage, report) for i in range(args.clients)]
            threads = [threading.Thread(target=v.loop, daemon=True) for v in visitors]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=max(1.0, deadline - time.monotonic()) + 240)
            out["load_seconds"] = round(time.monotonic() - started, 1)
            out["clients_still_busy_at_the_end"] = sum(t.is_alive() for t in threads)
        out["seconds_to_idle_after_the_load"] = seconds_until_idle(server, limit=30)
        out["probe_cancel"] = probe(server, "cancel")
        out["probe_stop"] = probe(server, "stop")
        watching.set()
        final = Client(server.url, verbose=False, download_files=False)
        result = final.predict(handle_file(str(IMAGES["cat"])), **{**TINY, "selected": ["none"], "iters": 25},
                               api_name="/train")
        out["server_alive_at_end"] = server.alive() and server.answers() and "Done" in result[0]
        time.sleep(1.0)
        out["rss_mb_at_end"] = round(server.rss_mb())
        out["rss_mb_peak"] = round(max(samples + [out["rss_mb_at_end"]]))
        out["rss_mb_growth_after_warmup"] = out["rss_mb_at_end"] - out["rss_mb_after_warmup"]
        out["rss_mb_every_10s"] = samples[::10]
        runs_left = server.folder_size_mb("ffn-runs")
        cache = server.folder_size_mb("gradio")
        out["run_folders_left_files"] = runs_left[1]
        out["gradio_cache_mb_and_files"] = [round(cache[0], 1), cache[1]]
    except Exception as e:  # noqa: BLE001: the report says what broke
        out["driver_error"] = f"{type(e).__name__}: {e}"
        out.setdefault("server_alive_at_end", server.alive())
    finally:
        watching.set()
        log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        out["server_tracebacks"] = log.count("Traceback (most recent call last)")
        out["server_error_lines"] = sorted({line.strip()[:160] for line in log.splitlines()
                                            if re.match(r"^\w*(Error|Exception)\b", line.strip())})[:10]
        out["server_folder"] = str(server.home) if args.keep else None
        server.stop(args.keep)

    def median(values):
        return round(statistics.median(values), 2) if values else None

    out.update({
        "clients": args.clients, "seconds": args.seconds, "max_queue": args.max_queue, "concurrent": args.concurrent,
        "counts": dict(sorted(report.counts.items())),
        "unexpected_errors": report.unexpected,
        "crosstalk": report.crosstalk,
        "median_seconds": {"run": median(report.run_seconds), "cancel_to_done": median(report.cancel_seconds),
                           "stop_to_result": median(report.stop_seconds)},
        "max_seconds": {"cancel_to_done": max(report.cancel_seconds, default=None),
                        "stop_to_result": max(report.stop_seconds, default=None)},
    })
    ok = (out.get("server_alive_at_end") and not report.counts["unexpected"] and not report.crosstalk
          and out.get("run_folders_left_files") == 0 and "driver_error" not in out)
    out["verdict"] = "PASS" if ok else "FAIL"
    print_table(out)
    print(json.dumps(out, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0 if ok else 1


def print_table(out: dict):
    counts = out.get("counts", {})
    refused = {k.split(": ", 1)[1]: v for k, v in counts.items() if k.startswith("refused clearly")}
    rows = [
        ("clients × seconds", f"{out['clients']} × {out['seconds']:g} (queue {out['max_queue']}, "
                              f"{out['concurrent']} run(s) at once)"),
        ("runs completed (cross-talk checked)", counts.get("runs completed", 0)),
        ("stops honoured, downloads offered", counts.get("stops honoured (downloads offered)", 0)),
        ("cancelled while running / waiting", f"{counts.get('cancelled while running', 0)} / "
                                              f"{counts.get('cancelled while waiting', 0)}"),
        ("cross-talk checks passed / failed", f"{counts.get('cross-talk checks passed', 0)} / "
                                              f"{counts.get('cross-talk checks FAILED', 0)}"),
        ("expected refusals, clear message", sum(refused.values())),
        ("  by kind", ", ".join(f"{k} {v}" for k, v in sorted(refused.items())) or "-"),
        ("queue full (refused, expected)", counts.get("queue full (refused, expected)", 0)),
        ("unexpected errors", counts.get("unexpected", 0)),
        ("median s: run / cancel→done / stop→result", " / ".join(str(v) for v in out["median_seconds"].values())),
        ("CPU idle after the load (s)", out.get("seconds_to_idle_after_the_load")),
        ("CPU idle after a cancel / a Stop (s)", f"{out.get('probe_cancel', {}).get('seconds_to_idle_after_cancel')}"
                                                 f" / {out.get('probe_stop', {}).get('seconds_to_idle_after_stop')}"),
        ("server RSS MB: start / warm / peak / end", f"{out.get('rss_mb_at_start')} / {out.get('rss_mb_after_warmup')}"
                                                     f" / {out.get('rss_mb_peak')} / {out.get('rss_mb_at_end')}"),
        ("run folders left (files)", out.get("run_folders_left_files")),
        ("Gradio cache (MB, files)", out.get("gradio_cache_mb_and_files")),
        ("server tracebacks in its log", out.get("server_tracebacks")),
        ("server alive at the end", out.get("server_alive_at_end")),
        ("verdict", out["verdict"]),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print()


if __name__ == "__main__":
    sys.exit(main())
