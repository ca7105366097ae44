"""Gateway throughput against plain nameko and ASGI floors, in one run (`make bench`).

    python -m bench.gateway_read [--duration 6] [--warmup 2] [--rounds 2] [--concurrency 16,64]
                                 [--rpc-concurrency 16] [--python-load]

Starts, each as its own process and on a RabbitMQ vhost of its own (deleted afterwards):
- the real system (centers, identity, gateway, demo data) through the launcher's `System`;
- `bench.baselines`: a backend with one `@rpc` method, an `@http` edge calling it once per
  request, a bare `@http` edge answering by itself, and `CentersEdge` (`nameko-centers`): the
  gateway's RPC-backed routes on a plain nameko `@http` edge, making the same calls to the
  real centers service;
- `bench.asgi_baselines` on uvicorn (uvloop, httptools): an ASGI edge calling the same
  backend once per request with gateway/rpc_client.py, and a bare ASGI edge.

Then, every point being `--warmup` seconds of load followed by `--rounds` measurements of
`--duration` seconds, the best kept (wrk with one thread, or a Python load generator when wrk
is missing):
1. the four floors (`GET` of one center, with the gateway's Authorization header, which they
   ignore) and the gateway's read-model route `GET /api/v1/centers/{id}` (no RPC), at every
   `--concurrency` (default 16 and 64);
2. at `--rpc-concurrency` (default 16): the list page
   `GET /api/v1/centers?level=station&page_size=20`, served from the read model too, and an
   RPC-backed read, `GET /api/v1/centers/{id}/subtree`, on the gateway and on
   `nameko-centers`;
3. a second `python -m gateway` process, with the environment the launcher gives the first
   (`System._service_env`) but its own METRICS_PORT, sharing the first one's address
   (SO_REUSEPORT); once its /readyz answers, the read-model route and the list page again
   at `--rpc-concurrency`, with the share of requests each process served (from their
   `wenming_http_request_duration_seconds_count`); then it is stopped;
4. a write, `POST /api/v1/centers/{id}/venues` with a fixed JSON body and the admin token,
   without an Idempotency-Key, so that every request creates a venue (names need not be
   unique), at `--rpc-concurrency`, on `nameko-centers` and then on the one gateway process.
   Writes come last because the venue.added events they make, which no queue is bound for,
   keep the centers' outbox relay busy for a while afterwards: what is measured later pays
   for that (the gateway, measured second, does).

The defaults (2 s + 2 × 6 s per point, 18 points) keep the whole run around six minutes on a
2-core machine. Printed: every point (req/s, p50, p99, errors); per workload the gateway's
ratio to each floor at the same concurrency; the issue's targets beside them (PASS/BELOW,
figures, never assertions): read-model route and list page ≥ 0.6× the bare ASGI route and
≥ 3× the bare nameko `@http` route; subtree and write ≥ 2× `nameko-centers` (the same
calls through a plain nameko `@http` → RPC edge) and, as before, ≥ 2× the trivial nameko
`@http` → RPC route; one process against two. Results also go to bench/results/ as JSON. Only 127.0.0.1 is targeted;
everything started is stopped by PID. Not a test: the load generator shares the machine's
cores with the services, so figures are relative.
"""

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from deploy.local.launcher import DEMO_PASSWORD, DEMO_USERNAME, GATEWAY, ROOT, System, stop_process
from services.registry import SERVICES, by_name
from tests.support.broker import private_vhost
from tests.support.net import free_port

RESULTS_DIR = ROOT / "bench" / "results"
BASELINES = {  # target name -> nameko service class; the backend serves RPC only
    "bench_backend": "bench.baselines:Backend",
    "rpc-baseline": "bench.baselines:RpcEdge",
    "bare-baseline": "bench.baselines:BareEdge",
    "nameko-centers": "bench.baselines:CentersEdge",
}
ASGI_BASELINES = {  # target name -> ASGI app, each on its own uvicorn
    "rpc-asgi": "bench.asgi_baselines:rpc_edge",
    "bare-asgi": "bench.asgi_baselines:bare_edge",
}
FLOORS = ("rpc-baseline", "rpc-asgi", "bare-baseline", "bare-asgi")  # what the gateway's figures are divided by
READ_MODEL, LIST, SUBTREE, WRITE = "read-model", "list", "subtree", "write"
SAME_BACKEND = "nameko-centers"  # the nameko @http edge making the gateway's own RPC calls
LIST_QUERY = "?level=station&page_size=20"
VENUE = {"name": "压测场所", "kind": "other"}  # the body of every write
TARGETS = {  # the issue's: workload -> (floor, the least gateway/floor ratio), printed, never asserted
    READ_MODEL: (("bare-asgi", 0.6), ("bare-baseline", 3.0)),
    LIST: (("bare-asgi", 0.6), ("bare-baseline", 3.0)),
    SUBTREE: ((SAME_BACKEND, 2.0), ("rpc-baseline", 2.0)),
    WRITE: ((SAME_BACKEND, 2.0), ("rpc-baseline", 2.0)),
}
READY_TIMEOUT = 60


def say(message):
    print(message, flush=True)


@dataclass(frozen=True)
class Request:
    """What every connection of a load sends, again and again."""

    url: str
    headers: dict = field(default_factory=dict)
    method: str = "GET"
    body: bytes | None = None


def start_baselines(amqp_uri, log_dir, processes):
    """Start the baselines, each put in `processes` as soon as it runs (so that a failure
    leaves none unknown); returns the base URL of each HTTP one."""
    urls = {}
    for name, target in {**BASELINES, **ASGI_BASELINES}.items():
        port = free_port()
        if name in ASGI_BASELINES:
            command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
            command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
        else:
            command = [sys.executable, "-m", "nameko", "run", target, "--define", f"AMQP_URI={amqp_uri}"]
            command += ["--define", f"WEB_SERVER_ADDRESS=127.0.0.1:{port}"]
        with open(log_dir / f"{name}.log", "ab") as log:
            processes[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, "AMQP_URI": amqp_uri},  # where the ASGI RPC edge finds the broker
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if name != "bench_backend":
            urls[name] = f"http://127.0.0.1:{port}"
    return urls


def start_second_gateway(system):
    """Another `python -m gateway` on the first one's address (SO_REUSEPORT), with the
    environment the launcher gives the first except its metrics port; returns the process
    and its metrics base URL once its /readyz answers 200."""
    service = by_name(GATEWAY)
    metrics_port = free_port()
    env = {**system._service_env(service), "METRICS_PORT": str(metrics_port)}
    with open(system.log_dir / "gateway-2.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *service.module_args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    metrics_url = f"http://127.0.0.1:{metrics_port}"
    try:
        wait_for_200(Request(metrics_url + "/readyz"), {"gateway-2": process})
    except BaseException:
        stop_process("gateway-2", process, say)
        raise
    say(f"Started a second gateway (pid {process.pid}) on {env['WEB_SERVER_ADDRESS']}, metrics {metrics_url}.")
    return process, metrics_url


def bench_system(data_dir, amqp_uri, **options):
    """The whole system (the launcher's), on free ports and the given broker vhost; `options`
    go to `System` as they are (database_urls, env, seed)."""
    return System(
        data_dir,
        amqp_uri=amqp_uri,
        http_ports={service.name: free_port() for service in SERVICES if service.http_port},
        metrics_ports={service.name: free_port() for service in SERVICES},
        broker_autostart=False,
        say=say,
        **options,
    )


def edges(system, urls):
    """Base URL of each edge that makes the gateway's RPC calls: the gateway and its nameko twin."""
    return {"gateway": system.gateway_url, SAME_BACKEND: urls[SAME_BACKEND]}


def venue_post(url, headers):
    return Request(url, {**headers, "Content-Type": "application/json"}, "POST", json.dumps(VENUE).encode())


def wait_for_200(request, processes):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead} exited while starting (logs in the bench data folder)")
        try:
            if requests.get(request.url, headers=request.headers, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{request.url} did not answer 200 within {READY_TIMEOUT} s")


def requests_served(metrics_base_url):
    """How many API requests a gateway process has answered (its wenming_http_request_duration_seconds_count)."""
    text = requests.get(metrics_base_url + "/metrics", timeout=5).text
    counts = re.findall(r"^wenming_http_request_duration_seconds_count\{[^}]*\} (\S+)$", text, re.MULTILINE)
    return sum(float(n) for n in counts)


# --- load generators ---------------------------------------------------------------------

WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_seconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * WRK_UNITS[unit]


def lua_string(text):
    """`text` as a double-quoted Lua literal: printable ASCII as is, every other byte (and the
    quote and the backslash) as a decimal escape, so that any header or body survives."""
    escaped = "".join(
        chr(byte) if 32 <= byte < 127 and byte not in b'"\\' else f"\\{byte:03d}" for byte in text.encode()
    )
    return f'"{escaped}"'


def wrk_script(request):
    """A wrk Lua script sending `request`'s method, headers and body."""
    lines = [f"wrk.method = {lua_string(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body.decode())}")
    lines += [f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in request.headers.items()]
    return "\n".join(lines) + "\n"


def run_wrk(request, concurrency, seconds):
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    with tempfile.TemporaryDirectory(prefix="wenming-wrk-") as folder:
        script = Path(folder) / "request.lua"
        script.write_text(wrk_script(request), encoding="utf-8")
        command += ["-s", str(script), request.url]
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    # wrk pads some figures with a trailing space ("1.15s ")
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        # wrk prints no distribution when no request completed
        "p50": wrk_seconds(percentiles["50"]) if percentiles else float("nan"),
        "p99": wrk_seconds(percentiles["99"]) if percentiles else float("nan"),
        "errors": errors,
    }


def run_python_load(request, concurrency, seconds):
    """Closed-loop load from `concurrency` threads, each with its own keep-alive session."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        session, mine, failed = requests.Session(), [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = session.request(
                    request.method, request.url, headers=request.headers, data=request.body, timeout=5
                )
                ok = 200 <= response.status_code < 300
            except requests.RequestException:
                ok = False
            mine.append(time.perf_counter() - started)
            failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(latencies) < 2:
        return {"rps": len(latencies) / seconds, "p50": float("nan"), "p99": float("nan"), "errors": errors[0]}
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / (time.monotonic() - started), "p50": cuts[49], "p99": cuts[98], "errors": errors[0]}


# --- the run -----------------------------------------------------------------------------


class Bench:
    """Runs points (warm-up, then the measured load, `rounds` times: the best is kept, since
    on a shared machine noise only ever slows a point down) and keeps their results."""

    def __init__(self, load, duration, warmup, rounds):
        self.load, self.duration, self.warmup, self.rounds = load, duration, warmup, rounds
        self.results = []

    def point(self, workload, target, request, concurrency, processes=1, before_measuring=None):
        self.load(request, concurrency, self.warmup)
        if before_measuring:
            before_measuring()
        measured = [self.load(request, concurrency, self.duration) for _ in range(self.rounds)]
        best = max(measured, key=lambda figures: figures["rps"])
        result = {
            "workload": workload,
            "target": target,
            "processes": processes,
            "concurrency": concurrency,
            "method": request.method,
            **best,
            "rounds_rps": [figures["rps"] for figures in measured],
        }
        self.results.append(result)
        rounds = " (rounds: " + ", ".join(f"{rps:.0f}" for rps in result["rounds_rps"]) + ")" if self.rounds > 1 else ""
        say(
            f"  {workload:<10} {target:<14} c={concurrency:<3} {result['rps']:>8.0f} req/s  "
            f"p50 {result['p50'] * 1e3:7.2f} ms  p99 {result['p99'] * 1e3:7.2f} ms  errors {result['errors']}{rounds}"
        )
        return result

    def rps(self, workload, target, concurrency, processes=1):
        key = (workload, target, concurrency, processes)
        found = (
            r["rps"] for r in self.results if (r["workload"], r["target"], r["concurrency"], r["processes"]) == key
        )
        return next(found, None)


def ratio(a, b):
    return a / b if a is not None and b else None


def times(value):
    return f"{value:.2f}x" if value is not None else "n/a"


def points_table(results):
    heading = f"{'workload':<10} {'target':<14} {'procs':>5} {'conc':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    lines = [heading + f" {'errors':>7}"]
    for r in results:
        lines.append(
            f"{r['workload']:<10} {r['target']:<14} {r['processes']:>5} {r['concurrency']:>5} {r['rps']:>8.0f} "
            f"{r['p50'] * 1e3:>8.2f} {r['p99'] * 1e3:>8.2f} {r['errors']:>7}"
        )
    return lines


def summary(bench, workloads, shares):
    """The printed report, and its figures for the JSON file."""
    lines = ["Every point:", *points_table(bench.results), ""]
    lines.append("The gateway against the floors (gateway req/s / floor req/s, same concurrency; floors are GETs):")
    lines.append(
        f"{'workload':<10} {'conc':>5} {'gateway req/s':>13} " + " ".join(f"{'gateway/' + f:>21}" for f in FLOORS)
    )
    figures = {"ratios": [], "targets": [], "two_processes": []}
    for workload, concurrency in workloads:
        rps = bench.rps(workload, "gateway", concurrency)
        ratios = {floor: ratio(rps, bench.rps("floor", floor, concurrency)) for floor in FLOORS}
        figures["ratios"].append({"workload": workload, "concurrency": concurrency, "gateway_rps": rps, **ratios})
        shown = " ".join(f"{times(ratios[f]):>21}" for f in FLOORS)
        lines.append(f"{workload:<10} {concurrency:>5} {rps:>13.0f} {shown}")
    lines += ["", "The issue's targets (printed, not asserted):"]
    for workload, concurrency in workloads:
        rps = bench.rps(workload, "gateway", concurrency)
        for floor, least in TARGETS[workload]:
            # the same-backend edge was measured on this very workload; the floors once for all
            value = ratio(rps, bench.rps(workload, floor, concurrency) or bench.rps("floor", floor, concurrency))
            verdict = "PASS" if value is not None and value >= least else "BELOW"
            figures["targets"].append(
                {"workload": workload, "concurrency": concurrency, "floor": floor, "least": least, "ratio": value}
            )
            lines.append(
                f"  {workload:<10} c={concurrency:<3} gateway/{floor:<13} {times(value):>7}  target ≥ {least:.1f}x  "
                f"{verdict}"
            )
    lines += ["", "One gateway process against two on the same address (SO_REUSEPORT):"]
    heading = f"{'workload':<10} {'conc':>5} {'1 process':>10} {'2 processes':>12} {'ratio':>7}"
    lines.append(heading + "  share served (first / second)")
    for (workload, concurrency), (first, second) in shares.items():
        one = bench.rps(workload, "gateway", concurrency)
        two = bench.rps(workload, "gateway", concurrency, processes=2)
        total = first + second
        share = f"{first / total:.0%} / {second / total:.0%}" if total else "n/a"
        figures["two_processes"].append(
            {"workload": workload, "concurrency": concurrency, "one": one, "two": two, "served": [first, second]}
        )
        lines.append(f"{workload:<10} {concurrency:>5} {one:>10.0f} {two:>12.0f} {times(ratio(two, one)):>7}  {share}")
    return "\n".join(lines), figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds measured per point")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements per point; the best is kept")
    parser.add_argument("--concurrency", default="16,64", help="connections for the read-model route and the floors")
    parser.add_argument(
        "--rpc-concurrency", default="16", help="connections for the list page, the write and two processes"
    )
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator")
    args = parser.parse_args()
    logging.getLogger("amqp").setLevel(logging.ERROR)  # as in the launcher's main()
    read_levels = [int(c) for c in args.concurrency.split(",")]
    rpc_levels = [int(c) for c in args.rpc_concurrency.split(",")]
    use_wrk = shutil.which("wrk") and not args.python_load
    bench = Bench(run_wrk if use_wrk else run_python_load, args.duration, args.warmup, args.rounds)
    say(
        f"load generator: {'wrk (1 thread)' if use_wrk else 'Python threads'}; "
        f"{args.warmup} s warm-up + the best of {args.rounds} × {args.duration} s measured per point"
    )

    data_dir = Path(tempfile.mkdtemp(prefix="wenming-bench-"))
    workloads = [(READ_MODEL, c) for c in read_levels] + [(LIST, c) for c in rpc_levels]
    workloads += [(SUBTREE, c) for c in rpc_levels] + [(WRITE, c) for c in rpc_levels]
    shares = {}
    with private_vhost("wenming-bench") as amqp_uri:
        system = bench_system(data_dir, amqp_uri)
        processes = {}
        try:
            system.start()
            token = requests.post(
                f"{system.gateway_url}/api/v1/auth/token",
                timeout=10,
                json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            api = system.gateway_url + "/api/v1/centers"
            institutes = requests.get(api, params={"level": "institute"}, headers=headers, timeout=10).json()["items"]
            path = f"/api/v1/centers/{institutes[0]['id']}"
            read = Request(system.gateway_url + path, headers)
            listing = Request(api + LIST_QUERY, headers)
            urls = start_baselines(amqp_uri, system.log_dir, processes)
            subtree = {edge: Request(base + path + "/subtree", headers) for edge, base in edges(system, urls).items()}
            write = {edge: venue_post(base + path + "/venues", headers) for edge, base in edges(system, urls).items()}
            floors = {name: Request(urls[name] + path, headers) for name in FLOORS}
            for request in (read, listing, *subtree.values(), *floors.values()):
                wait_for_200(request, processes)
            say(f"gateway: {read.url}, {listing.url}, {subtree['gateway'].url}, POST {write['gateway'].url}")
            say(f"floors: GET {path}; {SAME_BACKEND}: the subtree and the POST, calling centers as the gateway does")

            say("Read-model route and floors:")
            for concurrency in read_levels:
                bench.point(READ_MODEL, "gateway", read, concurrency)
                for name, request in floors.items():
                    bench.point("floor", name, request, concurrency)
            for concurrency in sorted(set(rpc_levels) - set(read_levels)):  # floors at these levels too
                for name, request in floors.items():
                    bench.point("floor", name, request, concurrency)
            say("List page (read model) and an RPC-backed read (a subtree), against the same call on nameko @http:")
            for concurrency in rpc_levels:
                bench.point(LIST, "gateway", listing, concurrency)
                for edge, request in subtree.items():
                    bench.point(SUBTREE, edge, request, concurrency)

            say("Two gateway processes on one address:")
            second, second_metrics = start_second_gateway(system)
            processes["gateway-2"] = second
            first_metrics = system.metrics_url(GATEWAY).removesuffix("/metrics")
            for workload, request in ((READ_MODEL, read), (LIST, listing)):
                for concurrency in rpc_levels:
                    counts = {}

                    def count(counts=counts):
                        counts["before"] = (requests_served(first_metrics), requests_served(second_metrics))

                    bench.point(workload, "gateway", request, concurrency, processes=2, before_measuring=count)
                    after = (requests_served(first_metrics), requests_served(second_metrics))
                    shares[workload, concurrency] = tuple(a - b for a, b in zip(after, counts["before"], strict=True))
            stop_process("gateway-2", processes.pop("gateway-2"), say)
            say("Stopped the second gateway.")

            say("Write (POST of a venue, one gateway process), the nameko edge first (the later pays for the backlog):")
            for concurrency in rpc_levels:
                for edge in (SAME_BACKEND, "gateway"):
                    bench.point(WRITE, edge, write[edge], concurrency)
        finally:
            for name, process in processes.items():
                stop_process(name, process, say)
            system.stop()
    if bench.results and all(r["rps"] and not r["errors"] for r in bench.results):
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        say(f"some target failed: its log is in {data_dir}/logs")

    report, figures = summary(bench, workloads, shares)
    print("\n" + report)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS_DIR / f"gateway_read-{stamp}.json").write_text(
        json.dumps(
            {
                "load_generator": "wrk" if use_wrk else "python",
                "duration": args.duration,
                "warmup": args.warmup,
                "results": bench.results,
                **figures,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
