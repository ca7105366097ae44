"""Gateway read throughput against plain nameko and ASGI floors, in one run (`make bench`).

    python -m bench.gateway_read [--duration 10] [--warmup 3] [--concurrency 16,64]

Starts, each as its own process and on a RabbitMQ vhost of its own (deleted afterwards):
- the real system (centers + gateway, demo data) through the launcher's `System`;
- `bench.baselines`: a backend with one `@rpc` method, an `@http` edge calling it once per
  request, and a bare `@http` edge answering by itself;
- `bench.asgi_baselines` on uvicorn (uvloop, httptools): an ASGI edge calling the same
  backend once per request with gateway/rpc_client.py, and a bare ASGI edge.
Then loads each with authenticated `GET /api/v1/centers/{id}` (the baselines get the same
Authorization header) using wrk, or a Python load generator when wrk is missing, and prints
requests/s, p50 and p99 per target and concurrency, and the gateway's ratios to the floors.
Only 127.0.0.1 is targeted; everything started is stopped by PID. Not a test: the load
generator shares the machine's cores with the services, so figures are relative.
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
from pathlib import Path

import requests

from deploy.local.launcher import DEMO_PASSWORD, DEMO_USERNAME, ROOT, System, stop_process
from services.registry import SERVICES
from tests.support.broker import private_vhost
from tests.support.net import free_port

RESULTS_DIR = ROOT / "bench" / "results"
BASELINES = {  # target name -> nameko service class; the backend serves RPC only
    "bench_backend": "bench.baselines:Backend",
    "rpc-baseline": "bench.baselines:RpcEdge",
    "bare-baseline": "bench.baselines:BareEdge",
}
ASGI_BASELINES = {  # target name -> ASGI app, each on its own uvicorn
    "rpc-asgi": "bench.asgi_baselines:rpc_edge",
    "bare-asgi": "bench.asgi_baselines:bare_edge",
}
FLOORS = ("rpc-baseline", "bare-baseline", *ASGI_BASELINES)  # what the gateway's figures are divided by
READY_TIMEOUT = 60


def say(message):
    print(message, flush=True)


def start_baselines(amqp_uri, log_dir):
    """The baseline processes and the base URL of each HTTP one."""
    processes, urls = {}, {}
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
    return processes, urls


def wait_for_200(url, headers, processes):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead} exited while starting (logs in the bench data folder)")
        try:
            if requests.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {READY_TIMEOUT} s")


# --- load generators ---------------------------------------------------------------------

WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_seconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * WRK_UNITS[unit]


def run_wrk(url, headers, concurrency, seconds):
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        # wrk prints no distribution when no request completed
        "p50": wrk_seconds(percentiles["50"]) if percentiles else float("nan"),
        "p99": wrk_seconds(percentiles["99"]) if percentiles else float("nan"),
        "errors": errors,
    }


def run_python_load(url, headers, concurrency, seconds):
    """Closed-loop load from `concurrency` threads, each with its own keep-alive session."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        session, mine, failed = requests.Session(), [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = session.get(url, headers=headers, timeout=5).status_code == 200
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
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / (time.monotonic() - started), "p50": cuts[49], "p99": cuts[98], "errors": errors[0]}


# --- the run -----------------------------------------------------------------------------


def measure(targets, headers, concurrencies, duration, warmup, load):
    results = []
    for concurrency in concurrencies:
        for name, url in targets.items():
            load(url, headers, concurrency, warmup)
            result = load(url, headers, concurrency, duration)
            results.append({"target": name, "concurrency": concurrency, **result})
            say(
                f"  {name:<14} c={concurrency:<4} {result['rps']:>9.0f} req/s  "
                f"p50 {result['p50'] * 1e3:7.2f} ms  p99 {result['p99'] * 1e3:7.2f} ms  "
                f"errors {result['errors']}"
            )
    return results


def table(results, concurrencies):
    lines = [f"{'target':<14} {'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    for r in results:
        lines.append(
            f"{r['target']:<14} {r['concurrency']:>5} {r['rps']:>9.0f} {r['p50'] * 1e3:>8.2f} "
            f"{r['p99'] * 1e3:>8.2f} {r['errors']:>7}"
        )
    lines.append("")
    for concurrency in concurrencies:
        rps = {r["target"]: r["rps"] for r in results if r["concurrency"] == concurrency}
        ratios = ", ".join(f"gateway/{floor} = {ratio(rps['gateway'], rps[floor])}" for floor in FLOORS)
        lines.append(f"c={concurrency}: {ratios}")
    return "\n".join(lines)


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a (no request served)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per target and level")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each measurement")
    parser.add_argument("--concurrency", default="16,64", help="connections, comma-separated")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator")
    args = parser.parse_args()
    logging.getLogger("amqp").setLevel(logging.ERROR)  # as in the launcher's main()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    use_wrk = shutil.which("wrk") and not args.python_load
    load = run_wrk if use_wrk else run_python_load
    say(f"load generator: {'wrk (1 thread)' if use_wrk else 'Python threads'}")

    data_dir = Path(tempfile.mkdtemp(prefix="wenming-bench-"))
    with private_vhost("wenming-bench") as amqp_uri:
        system = System(
            data_dir,
            amqp_uri=amqp_uri,
            http_ports={service.name: free_port() for service in SERVICES if service.http_port},
            metrics_ports={service.name: free_port() for service in SERVICES},
            broker_autostart=False,
            say=say,
        )
        baselines = {}
        try:
            system.start()
            token = requests.post(
                f"{system.gateway_url}/api/v1/auth/token",
                timeout=10,
                json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            institutes = requests.get(
                f"{system.gateway_url}/api/v1/centers", params={"level": "institute"}, headers=headers, timeout=10
            ).json()["items"]
            path = f"/api/v1/centers/{institutes[0]['id']}"
            baselines, urls = start_baselines(amqp_uri, system.log_dir)
            targets = {"gateway": system.gateway_url + path, **{name: url + path for name, url in urls.items()}}
            for url in targets.values():
                wait_for_200(url, headers, baselines)
            say(f"targets ({path}): " + ", ".join(targets))
            results = measure(targets, headers, concurrencies, args.duration, args.warmup, load)
        finally:
            for name, process in baselines.items():
                stop_process(name, process, say)
            system.stop()
    if all(r["rps"] and not r["errors"] for r in results):
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        say(f"some target failed: its log is in {data_dir}/logs")

    report = table(results, concurrencies)
    print("\n" + report)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS_DIR / f"gateway_read-{stamp}.json").write_text(
        json.dumps(
            {"load_generator": "wrk" if use_wrk else "python", "duration": args.duration, "results": results}, indent=2
        )
    )


if __name__ == "__main__":
    sys.exit(main())
