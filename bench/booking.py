"""Booking throughput through the API under gunicorn, against a trivial authenticated endpoint.

Eight concurrent clients (threads, keep-alive HTTP sessions) against gunicorn on a free
127.0.0.1 port, serving this benchmark's own throwaway PostgreSQL database. Each client books
`POST /api/v1/appointments/` for its own practitioner, slot after slot (every booking runs the
whole rule set: locks, clash checks, working hours, time off, change record). The baseline is
`GET /api/v1/me/` with the same token, clients and server. Goal: booking/me ratio ≥ 0.4.

The server runs as deployed: production settings (`jelly.settings`, DEBUG off), persistent
database connections (`DATABASE_CONN_MAX_AGE=60`, the default) and a real broker. Closing the
connection after every request (as the test settings do) adds the same few milliseconds to
both sides and so flatters the ratio; `BENCH_CONN_MAX_AGE=0` shows by how much.

It runs twice: as deployed (every booking also runs the listeners other apps register with
`diary.change_listeners`, e.g. the integrations outbox and patient email), and with those
listeners switched off in the workers, to show the diary's own share.
"""

import datetime
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import ROOT, percentile, report, setup_django, throwaway_database

CLIENTS = 8
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))  # per side, split over the rounds
# Short rounds, alternating: the machine's speed drifts over seconds (a shared virtual machine
# here), and alternating often keeps a drift from favouring one side.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "8"))
FIRST_DAY = datetime.date(2031, 1, 6)
SLOT_MINUTES = 15
SLOTS_PER_DAY = 95  # 00:00 to 23:45


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare():
    """A clinic with one practitioner per client, working every day, all day."""
    from core.choices import Role
    from core.services import api_token_create, location_create, organisation_create, staff_create
    from diary import services
    from patients.services import patient_create

    organisation = organisation_create(name="Bench Clinic", slug="bench-booking", require_two_factor=False)
    location = location_create(organisation=organisation, name="Main")
    service = services.service_create(organisation=organisation, name="Quick check", duration_minutes=SLOT_MINUTES)
    receptionist = staff_create(
        organisation=organisation, email="rita@bench.test", role=Role.RECEPTIONIST, password="Bench-password-2026!"
    )
    all_day = [
        {"weekday": day, "start_time": datetime.time(0), "end_time": datetime.time(23, 59), "location": location}
        for day in range(7)
    ]
    clients = []
    for n in range(CLIENTS):
        practitioner = staff_create(
            organisation=organisation, email=f"p{n}@bench.test", role=Role.PRACTITIONER, password="Bench-password-2026!"
        )
        services.working_hours_set(practitioner=practitioner, hours=all_day)
        patient = patient_create(
            organisation=organisation,
            given_name=f"Pat{n}",
            family_name="Bench",
            date_of_birth=datetime.date(1970, 1, 1) + datetime.timedelta(days=n),
        )
        clients.append({"practitioner": str(practitioner.pk), "patient": str(patient.pk)})
    _, key = api_token_create(staff=receptionist, name="bench")
    return key, {"service": str(service.pk), "location": str(location.pk)}, clients


WITHOUT_LISTENERS_CONFIG = """
def post_worker_init(worker):
    # Benchmark only: measure the diary's booking path without other apps' change listeners.
    from diary import change_listeners

    for listener in list(change_listeners._listeners):
        change_listeners.unregister(listener)
"""


class Server:
    """gunicorn serving jelly against `database_url`, stopped on exit."""

    def __init__(self, database_url: str, *, config: str | None = None):
        from django.conf import settings

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # As deployed: the production settings module, persistent database connections and a
        # real broker (tasks are queued, not run in the request). Only TLS is off, since the
        # benchmark speaks plain HTTP on 127.0.0.1.
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "jelly.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.url,
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": os.environ.get("BENCH_CONN_MAX_AGE", "60"),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, "jelly.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS)]
        if config is not None:
            command += ["--config", config]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def __enter__(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):  # not listening yet, or too slow to answer
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start in 30 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def hammer(call, seconds: float) -> tuple[int, int, list[float], float]:
    """Run `call(client_index, sequence)` in CLIENTS threads for `seconds`; count the 2xx."""
    import requests

    stop = threading.Event()
    start_gate = threading.Barrier(CLIENTS + 1)
    results = [(0, 0, []) for _ in range(CLIENTS)]

    def worker(index):
        session = requests.Session()
        ok = failed = 0
        latencies = []
        sequence = 0
        start_gate.wait()
        while not stop.is_set():
            began = time.perf_counter()
            status = call(session, index, sequence)
            latencies.append((time.perf_counter() - began) * 1000)
            sequence += 1
            if 200 <= status < 300:
                ok += 1
            else:
                failed += 1
        results[index] = (ok, failed, latencies)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    latencies = [ms for r in results for ms in r[2]]
    return ok, failed, latencies, elapsed


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(process: Path) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces): state, parent, …"""
    return (process / "stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used so far (0 if it has gone)."""
    try:
        fields = _stat_fields(Path(f"/proc/{pid}"))
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def _processes(*, parent: int | None = None, cmdline_has: str | None = None) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if parent is not None and int(_stat_fields(entry)[1]) != parent:
                continue
            if cmdline_has is not None and cmdline_has not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
        except OSError:
            continue
        found.append(int(entry.name))
    return found


def server_cpu(server: "Server", database: str) -> dict:
    """CPU seconds used so far by the gunicorn workers and by PostgreSQL's backends for the
    benchmark's database (Linux /proc; empty elsewhere)."""
    if not Path("/proc/self/stat").exists():
        return {}
    return {
        "workers": sum(_cpu_seconds(pid) for pid in _processes(parent=server.process.pid)),
        "postgres": sum(_cpu_seconds(pid) for pid in _processes(cmdline_has=database)),
    }


def measure(server: "Server", headers: dict, shared: dict, clients: list, next_slot: list, database: str) -> dict:
    """Interleaved rounds of /me/ and booking against one running server."""

    def me(session, index, sequence):
        return session.get(server.url + "/api/v1/me/", headers=headers, timeout=30).status_code

    def book(session, index, sequence):
        slot = next_slot[index]
        next_slot[index] += 1
        day = FIRST_DAY + datetime.timedelta(days=slot // SLOTS_PER_DAY)
        minutes = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        start = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60), datetime.UTC)
        body = {**shared, **clients[index], "start": start.isoformat()}
        return session.post(server.url + "/api/v1/appointments/", json=body, headers=headers, timeout=30).status_code

    hammer(me, 1.0)  # warm the workers up
    rounds = {"me": [], "book": []}
    cpu = {"me": {}, "book": {}}
    for _ in range(ROUNDS):
        for name, call in (("me", me), ("book", book)):
            before = server_cpu(server, database)
            rounds[name].append(hammer(call, SECONDS / ROUNDS))
            for process, seconds in server_cpu(server, database).items():
                cpu[name][process] = cpu[name].get(process, 0.0) + seconds - before[process]

    def totals(name):
        ok = sum(r[0] for r in rounds[name])
        return {
            "per_s": ok / sum(r[3] for r in rounds[name]),
            "ok": ok,
            "failed": sum(r[1] for r in rounds[name]),
            "latencies": [ms for r in rounds[name] for ms in r[2]],
            "cpu_ms": {process: seconds * 1000 / ok for process, seconds in cpu[name].items()},
        }

    return {"me": totals("me"), "book": totals("book")}


def main() -> None:
    setup_django()
    from django.db import connection

    with throwaway_database("booking"):
        key, shared, clients = prepare()
        settings = connection.settings_dict
        database_url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:{settings['PORT']}/"
            f"{settings['NAME']}"
        )
        connection.close()  # the server's workers are the only users of the database while timing
        headers = {"Authorization": f"Token {key}"}
        next_slot = [0] * CLIENTS  # each client's next free slot (its own practitioner)

        with Server(database_url) as server:
            deployed = measure(server, headers, shared, clients, next_slot, settings["NAME"])
        with tempfile.NamedTemporaryFile("w", suffix=".py") as config:
            config.write(WITHOUT_LISTENERS_CONFIG)
            config.flush()
            with Server(database_url, config=config.name) as server:
                diary_only = measure(server, headers, shared, clients, next_slot, settings["NAME"])

    report("booking_clients", CLIENTS)
    report("booking_gunicorn_workers", WORKERS)
    report("booking_me_requests_per_s", deployed["me"]["per_s"])
    report("booking_me_p50_ms", percentile(deployed["me"]["latencies"], 50))
    report("booking_requests_per_s", deployed["book"]["per_s"])
    report("booking_p50_ms", percentile(deployed["book"]["latencies"], 50))
    report("booking_p95_ms", percentile(deployed["book"]["latencies"], 95))
    report("booking_vs_me_ratio", deployed["book"]["per_s"] / deployed["me"]["per_s"])
    for process in deployed["book"]["cpu_ms"]:
        report(f"booking_cpu_ms_{process}", deployed["book"]["cpu_ms"][process])
        report(f"booking_me_cpu_ms_{process}", deployed["me"]["cpu_ms"][process])
    report("booking_without_listeners_me_requests_per_s", diary_only["me"]["per_s"])
    report("booking_without_listeners_requests_per_s", diary_only["book"]["per_s"])
    report("booking_without_listeners_vs_me_ratio", diary_only["book"]["per_s"] / diary_only["me"]["per_s"])
    booked = deployed["book"]["ok"] + diary_only["book"]["ok"]
    failed = sum(run[kind]["failed"] for run in (deployed, diary_only) for kind in ("me", "book"))
    report("booking_appointments_booked", booked)
    report("booking_failed_requests", failed)
    if failed:
        raise SystemExit(f"{failed} requests failed")


if __name__ == "__main__":
    main()
