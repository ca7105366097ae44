"""Bulk import of volunteers: a 10,000-row file end to end, its rows/s and the service's memory.

    python -m bench.volunteer_import [--rows 10000] [--kind csv|xlsx] [--database postgresql|sqlite]

Starts, on a RabbitMQ vhost of its own and fresh databases (the volunteers service on a new
PostgreSQL database by default, centers on SQLite; all deleted afterwards), the centers and
volunteers services, each as its own `nameko run` process with the project's config; creates
an institute and a station; writes `--rows` rows of made-up but valid people (ID numbers with a
correct check character, mobile numbers, Chinese categories and times, all under the station)
as a CSV (gzip-compressed, as a client sends a large file within an upload's 2 MiB) or an
xlsx; uploads it with `volunteers.start_import` over RPC; polls `get_import` until the run is
done. Printed: the file's sizes, the upload call, the run's rows/s end to end (from the upload
call to the run seen finished) and while working (the run's own started_at → finished_at), the
counts, how long the progress calls took meanwhile (the service answers while it imports),
and the volunteers process's resident memory before the upload and at its peak
(VmHWM of /proc/<pid>/status), with the issue's target (≥ 1,000 rows/s on PostgreSQL) beside
the figure, never asserted. Everything started is stopped by PID. Not a test: the services share
the machine's cores with this script and the broker.
"""

import argparse
import base64
import csv
import gzip
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ClusterRpcClient

from deploy.local.launcher import ROOT, http_status, stop_process
from services.registry import CONFIG_FILE
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from tests.support.broker import private_vhost
from tests.support.net import free_port
from tests.support.people import id_number, phone
from tests.support.postgres import create_database, drop_database

RESULTS_DIR = ROOT / "bench" / "results"
TARGET_ROWS_PER_SECOND = 1000  # the issue's, on PostgreSQL
READY_TIMEOUT = 60
RUN_TIMEOUT = 600
POLL_SECONDS = 0.2
SERVICES = {
    "centers": "services.centers.service:CentersService",
    "volunteers": "services.volunteers.service:VolunteersService",
}
HEADER = ["姓名", "身份证号", "手机号", "所属阵地ID", "技能", "服务类别", "可服务时间"]
CATEGORIES = ["理论宣讲", "教育服务、文化服务", "科技与科普服务", "健康与体育服务、理论宣讲", "文化服务"]
TIMES = ["周末", "工作日晚上、周末", "节假日", "时间灵活"]
SKILLS = ["书法", "急救、摄影", "", "舞蹈、英语", "驾驶"]


def say(message):
    print(message, flush=True)


def people(count, station_id):
    """`count` rows of distinct made-up people: 1,000 ID numbers per birth date, one date after another."""
    for serial in range(count):
        born = date(1970, 1, 1) + timedelta(days=serial // 1000)
        yield [
            f"志愿者{serial}",
            id_number(serial % 1000, born=born),
            phone(serial),
            station_id,
            SKILLS[serial % len(SKILLS)],
            CATEGORIES[serial % len(CATEGORIES)],
            TIMES[serial % len(TIMES)],
        ]


def csv_file(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_file(rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def service_env(name, amqp_uri, database_url, metrics_port):
    """What deploy/config/service.yml leaves to whoever starts a service, plus the volunteers' keys."""
    certificate_key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        **os.environ,
        "SERVICE_NAME": name,
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": database_url,
        "METRICS_PORT": str(metrics_port),
        "METRICS_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "RPC_TIMEOUT": "30",
        "VOLUNTEERS_DATA_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "VOLUNTEERS_LOOKUP_KEY": base64.b64encode(os.urandom(32)).decode(),
        "VOLUNTEERS_CERTIFICATE_KEY": certificate_key.decode(),
        "PYTHONUNBUFFERED": "1",
    }


def start(name, env, log_dir, processes):
    """`nameko run` of service `name`, put in `processes` at once; waits for its /readyz."""
    subprocess.run(
        [sys.executable, "-m", f"services.{name}.migrate", env["DATABASE_URL"]], cwd=ROOT, env=env, check=True
    )
    with open(log_dir / f"{name}.log", "ab") as log:
        processes[name] = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", CONFIG_FILE, SERVICES[name]],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ready = f"http://127.0.0.1:{env['METRICS_PORT']}/readyz"
    deadline = time.monotonic() + READY_TIMEOUT
    while http_status(ready) != 200:
        if processes[name].poll() is not None or time.monotonic() > deadline:
            tail = (log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} did not become ready:\n{tail}")
        time.sleep(0.3)
    say(f"Started {name} (pid {processes[name].pid}).")


def memory_kib(pid):
    """(resident now, resident at its peak) of process `pid`, in KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def call_until_bound(call):
    """`call()`, retried while the service's RPC queue is not bound yet (ready a moment before)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            return call()
        except UnknownService:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def center(level, parent_id):
    return {"code": f"bench-{level}", "name": f"压测{level}", "level": level, "parent_id": parent_id}


def bench(args, amqp_uri, data_dir, volunteers_url, processes):
    county = {"account_id": "bench", "role": "county_admin", "scope_center_id": None}
    start(
        "centers",
        service_env("centers", amqp_uri, f"sqlite:///{data_dir / 'centers.db'}", free_port()),
        data_dir,
        processes,
    )
    start("volunteers", service_env("volunteers", amqp_uri, volunteers_url, free_port()), data_dir, processes)
    with ClusterRpcClient(uri=amqp_uri, timeout=120) as client:
        county_center = call_until_bound(lambda: client.centers.create_center(center("center", None), county))
        institute = client.centers.create_center(center("institute", county_center["id"]), county)
        station = client.centers.create_center(center("station", institute["id"]), county)
        rows = list(people(args.rows, station["id"]))
        raw = xlsx_file(rows) if args.kind == "xlsx" else csv_file(rows)
        sent = raw if args.kind == "xlsx" else gzip.compress(raw)
        content = base64.b64encode(sent).decode()
        say(
            f"File: {args.rows} rows, {args.kind}, {len(raw):,} bytes"
            + ("" if args.kind == "xlsx" else f", gzip {len(sent):,}")
            + f", base64 {len(content):,} characters."
        )
        pid = processes["volunteers"].pid
        rss_before, _ = memory_kib(pid)
        body = {
            "center_id": institute["id"],
            "file_name": f"bench.{args.kind}",
            "content": content,
            "compression": None if args.kind == "xlsx" else "gzip",
            "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION, "attested": True},
        }
        started = time.monotonic()
        run = call_until_bound(lambda: client.volunteers.start_import(body, county))
        uploaded = time.monotonic() - started
        peak_rss, latencies = 0, []
        while run["status"] not in ("completed", "failed"):
            if time.monotonic() - started > RUN_TIMEOUT:
                raise RuntimeError(f"the run did not finish within {RUN_TIMEOUT} s: {run}")
            time.sleep(POLL_SECONDS)
            asked = time.monotonic()
            run = client.volunteers.get_import(run["id"], county)
            latencies.append(time.monotonic() - asked)
            peak_rss = max(peak_rss, memory_kib(pid)[1])
        elapsed = time.monotonic() - started
    working = (_moment(run["finished_at"]) - _moment(run["started_at"])).total_seconds()
    return {
        "rows": args.rows,
        "kind": args.kind,
        "database": args.database,
        "status": run["status"],
        "imported": run["imported"],
        "skipped_duplicates": run["skipped_duplicates"],
        "refused": run["refused"],
        "upload_call_seconds": round(uploaded, 3),
        "end_to_end_seconds": round(elapsed, 3),
        "rows_per_second": round(run["processed_rows"] / elapsed, 1),
        "working_seconds": round(working, 3),
        "working_rows_per_second": round(run["processed_rows"] / working, 1) if working else None,
        "progress_call_median_ms": round(statistics.median(latencies) * 1000, 1),
        "progress_call_max_ms": round(max(latencies) * 1000, 1),
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak_rss,
    }


def _moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def report(result):
    say("")
    say(
        f"Run: {result['status']}: {result['imported']} imported, {result['skipped_duplicates']} duplicates, "
        f"{result['refused']} refused."
    )
    say(f"Upload call: {result['upload_call_seconds']:.2f} s (decode, check and count the rows, store the file).")
    verdict = "PASS" if result["rows_per_second"] >= TARGET_ROWS_PER_SECOND else "BELOW"
    target = f"target ≥ {TARGET_ROWS_PER_SECOND} rows/s on PostgreSQL: {verdict}"
    say(
        f"End to end: {result['rows']} rows in {result['end_to_end_seconds']:.2f} s = "
        f"{result['rows_per_second']:.0f} rows/s ({target if result['database'] == 'postgresql' else 'no target'})."
    )
    say(
        f"Working (started_at → finished_at): {result['working_seconds']:.2f} s = "
        f"{result['working_rows_per_second']:.0f} rows/s."
    )
    say(
        f"Progress calls (get_import) while it worked: median {result['progress_call_median_ms']:.0f} ms, "
        f"slowest {result['progress_call_max_ms']:.0f} ms."
    )
    say(
        f"Volunteers service memory: {result['rss_before_kib'] / 1024:.0f} MiB resident before the upload, "
        f"{result['peak_rss_kib'] / 1024:.0f} MiB at its peak (VmHWM)."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--kind", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="wenming-bench-import-"))
    volunteers_url = create_database("wenming_bench") if args.database == "postgresql" else None
    volunteers_url = volunteers_url or f"sqlite:///{data_dir / 'volunteers.db'}"
    processes = {}
    try:
        with private_vhost("wenming-bench-import") as amqp_uri:
            try:
                result = bench(args, amqp_uri, data_dir, volunteers_url, processes)
            finally:
                for name in reversed(list(processes)):
                    stop_process(name, processes[name], say)
        report(result)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"volunteer_import-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        say(f"Results: {out}")
    finally:
        if args.database == "postgresql":
            drop_database(volunteers_url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
