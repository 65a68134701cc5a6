"""Real servers and real load on 127.0.0.1, shared by the tests (tests/test_server.py) and `make bench`.

- `Server`: runs scripts/serve.sh (the command line of `make serve` and of the container image) or a
  bare `datasette serve` on a free loopback port, waits until it answers, stops it on exit.
- `run_wrk`: drives wrk (Debian package, installed by scripts/install-tools.sh) with scripts/wrk-mix.lua
  and returns its figures: requests, throughput, latency percentiles, non-2xx responses, socket errors.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = ROOT / "scripts" / "wrk-mix.lua"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 30) -> tuple[int, bytes, dict]:
    """GET a URL; returns (status, body, lower-cased headers) without raising on HTTP errors."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


def wait_until_ready(process: subprocess.Popen, url: str, timeout: float) -> int | None:
    """Poll `url` until it answers 200, `process` exits or `timeout` seconds pass; the last status seen."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            status = fetch(url, timeout=2)[0]
            if status == 200:
                return status
        except OSError:
            pass
        time.sleep(0.1)
    return status


def stop_process_group(process: subprocess.Popen | None):
    """SIGTERM to a process started with start_new_session, SIGKILL after 10 s."""
    if process and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Server:
    """A datasette server subprocess on 127.0.0.1. `command` None → scripts/serve.sh DB."""

    def __init__(self, db: Path | str, *extra: str, command: list[str] | None = None,
                 env: dict | None = None, ready_path: str = "/-/versions.json", startup_timeout: float = 60,
                 port_option: bool = True):
        self.port = free_port()
        self.db = str(db)
        self.extra = list(extra)
        self.command = command
        self.env = dict(env or {})
        self.ready_path = ready_path
        self.startup_timeout = startup_timeout
        self.port_option = port_option  # append --port to `command` (else PORT comes from the environment)
        self.process = None
        self.log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        # the pages' absolute links on this server's own address (oc_site/http/public_address.py)
        env = {**os.environ, "OC_URL_PUBLIQUE": self.url, **self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        if self.command is None:
            args = [str(ROOT / "scripts" / "serve.sh"), self.db, *self.extra]
        else:
            args = [*self.command, *(["--port", str(self.port)] if self.port_option else []), *self.extra]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        if wait_until_ready(self.process, self.url + self.ready_path, self.startup_timeout) == 200:
            return self
        if self.process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté au démarrage :\n{self.output()}")
        self.stop()
        raise RuntimeError(f"le serveur ne répond pas après {self.startup_timeout} s :\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-5000:]

    def stop(self):
        stop_process_group(self.process)

    def __exit__(self, *exc):
        self.stop()
        self.log.close()


# Datasette 0.65 loads every installed plugin (cluster map, theme…): the vanilla server starts the same
# datasette command line with setuptools plugin loading switched off, so it runs Datasette alone.
VANILLA_LAUNCHER = (
    "import sys, pluggy; "
    "pluggy.PluginManager.load_setuptools_entrypoints = lambda self, group, name=None: 0; "
    "from datasette.cli import cli; sys.exit(cli())"
)


def vanilla_command(db: Path | str, settings: dict | None = None) -> list[str]:
    """Datasette alone: no metadata, templates or plugins (installed or not); optional settings."""
    command = [sys.executable, "-c", VANILLA_LAUNCHER,
               "serve", "-i", str(db), "--host", "127.0.0.1"]
    for name, value in (settings or {}).items():
        value = ("on" if value else "off") if isinstance(value, bool) else value
        command += ["--setting", name, str(value)]
    return command


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        subprocess.run([str(ROOT / "scripts" / "install-tools.sh")], check=True)
        wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk introuvable après scripts/install-tools.sh")
    return wrk


def run_wrk(base_url: str, paths: list[str], *, connections: int, seconds: float, threads: int = 2,
            timeout: float = 10) -> dict:
    threads = max(1, min(threads, connections))
    seconds = max(1, round(seconds))  # wrk takes whole seconds
    command = [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", f"{timeout:g}s", "-s", str(WRK_SCRIPT), base_url, "--", *paths]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60)
    for line in result.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            figures = json.loads(line[len("WRK_JSON "):])
            seconds_run = figures["duration_us"] / 1e6
            figures["requests_per_s"] = figures["requests"] / seconds_run if seconds_run else 0.0
            figures["socket_errors"] = sum(figures["errors"][k] for k in ("connect", "read", "write", "timeout"))
            return figures
    raise RuntimeError(f"wrk n'a pas rendu de résultat :\n{result.stdout}\n{result.stderr}")


# Pages a visitor goes through, used by the load test (tests/test_server.py) and the 30 s gate of
# `make bench`. Fiches, search and comparison join the mix when the server answers them (200).
LOAD_MIX = [
    "/",
    "/oc",
    "/oc/regions",
    "/oc/communes",
    "/oc/communes/35238",
    "/oc/epci/243500139",
    "/oc/departements/35",
    "/oc/communes?departement=35&_sort_desc=population",
    "/oc/communes.json?departement=35&_size=20",
    "/oc/epci.json?_shape=array&_size=10",
    "/oc/communes.csv?departement=2A&_stream=on",
    "/oc/territoires?_search=rennes",
]
OPTIONAL_PAGES = [
    "/commune/35238",
    "/epci/243500139",
    "/departement/35",
    "/region/53",
    "/recherche?q=renn",
    "/recherche.json?q=renn",
    "/comparer?codes=35238,44109",
    "/comparer.json?codes=35238,44109",
]


def settle(base_url: str):
    """Wait until the server has worked off the requests of a finished load run: a query goes
    through Datasette's SQL thread pool queue (first in, first out), behind whatever is left."""
    fetch(base_url + "/oc.json?sql=select+1&_shape=array", timeout=300)


def available(base_url: str, paths: list[str]) -> list[str]:
    """The paths that answer 200 on this server."""
    return [path for path in paths if fetch(base_url + path)[0] == 200]


# Runaway SQL: a query that never ends, and a cross join of ~5·10^9 rows (fixture) or far more (full data).
RECURSIVE_CTE = "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n"
CROSS_JOIN = (
    "select a.nom, b.nom, c.nom, d.nom, e.nom from territoires a cross join territoires b "
    "cross join territoires c cross join territoires d cross join territoires e order by random() limit 5"
)
PROBE_PAGES = ["/oc/communes/35238", "/oc/regions", "/oc/communes.json?_size=5", "/"]


def runaway_attack(base_url: str, seconds: float) -> dict:
    """Two clients send runaway queries (HTML and JSON) in a loop while a third reads ordinary pages.

    Returns the attack responses (format, status, body, seconds), the ordinary pages' durations and
    their failures (path, status)."""
    attacks, probes, failures = [], [], []
    stop = time.monotonic() + seconds

    def attack(sql, fmt):
        while time.monotonic() < stop:
            started = time.monotonic()
            status, body, _ = fetch(f"{base_url}/oc{fmt}?" + urllib.parse.urlencode({"sql": sql}), timeout=120)
            attacks.append((fmt, status, body.decode(errors="replace"), time.monotonic() - started))

    def probe():
        i = 0
        while time.monotonic() < stop:
            path = PROBE_PAGES[i % len(PROBE_PAGES)]
            started = time.monotonic()
            status, _, _ = fetch(base_url + path, timeout=120)
            probes.append(time.monotonic() - started)
            if status != 200:
                failures.append((path, status))
            i += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=attack, args=(RECURSIVE_CTE, "")),
               threading.Thread(target=attack, args=(CROSS_JOIN, ".json")),
               threading.Thread(target=probe)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(probes)
    return {
        "attacks": attacks,
        "probes": probes,
        "failures": failures,
        "probe_p50_ms": statistics.median(ordered) * 1000 if ordered else None,
        "probe_p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else None,
        "attack_median_s": statistics.median(a[3] for a in attacks) if attacks else None,
    }


# Hostile load (issue 17): memory bombs and 20,000-code comparisons fired while the 64-connection mix runs.
MEMORY_BOMBS = [
    "select length(printf('%.*c', 900000000, 'x'))",
    "select randomblob(900000000)",
    "select hex(randomblob(400000000))",
]
HUGE_COMPARISON = "/comparer.json?codes=" + ",".join(f"{35000 + i:05d}" for i in range(20_000))


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakMemory:
    """Polls the resident memory of a process every 50 ms while in use; `peak_mb` at the end."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb, self._stop = pid, rss_kb(pid), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def hostile_load(base_url: str, pid: int, paths: list[str], *, seconds: float, connections: int = 64,
                 attackers: int = 3, timeout: float = 10) -> dict:
    """The same wrk mix twice: calm, then with `attackers` clients looping over the memory bombs and the
    20,000-code comparison. Returns each run's wrk figures and the server's peak resident memory, and
    the attacks' statuses."""
    runs = {}
    for name in ("calme", "hostile"):
        settle(base_url)
        stop, attacks = threading.Event(), []

        def attack(offset):
            targets = [f"{base_url}/oc.json?" + urllib.parse.urlencode({"sql": sql}) for sql in MEMORY_BOMBS]
            targets.append(base_url + HUGE_COMPARISON)
            i = offset
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status = fetch(targets[i % len(targets)], timeout=120)[0]
                except OSError as error:
                    status = type(error).__name__
                attacks.append((i % len(targets), status, time.monotonic() - started))
                i += 1

        threads = [threading.Thread(target=attack, args=(k,)) for k in range(attackers if name == "hostile" else 0)]
        with PeakMemory(pid) as memory:
            for thread in threads:
                thread.start()
            figures = run_wrk(base_url, paths, connections=connections, seconds=seconds, threads=2, timeout=timeout)
            stop.set()
            for thread in threads:
                thread.join()
        statuses = {}
        for _, status, _ in attacks:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        runs[name] = {**figures, "peak_rss_mb": memory.peak_mb, "attacks": len(attacks),
                      "attack_statuses": statuses,
                      "attack_median_s": statistics.median(a[2] for a in attacks) if attacks else None}
    calm, hostile = runs["calme"]["latency_us"]["p99"], runs["hostile"]["latency_us"]["p99"]
    runs["p99_ratio"] = hostile / calm if calm else None
    return runs


# Hostile requests of issue 24: each fired by many clients at once while ordinary pages are measured. An
# attack is a function of (base_url, stop event) that loops until stop is set and returns what it saw.
ATTACK_CONNECTIONS = 16


def runaway_where(base_url: str) -> str:
    """A table page whose `_where` is a cross join (visitor SQL in a parameter that does not say `sql`)."""
    # five joins: the four of the first version took 4.7 s on the test database once it had 116 territories
    # (two queries of a table page each under the 3 s limit); 116^5 rows are out of reach of any time limit
    where = "(select count(*) from territoires a, territoires b, territoires c, territoires d, territoires e) > 0"
    return f"{base_url}/oc/communes.json?" + urllib.parse.urlencode({"_where": where})


def runaway_stream(base_url: str) -> str:
    """Runaway SQL asked as a CSV stream: `&_stream=1` once got it past every queue."""
    return f"{base_url}/oc.csv?" + urllib.parse.urlencode({"sql": CROSS_JOIN, "_stream": "1"})


def long_canned_list(base_url: str, repeats: int = 2000) -> str:
    """chiffres_cles of a région with `indicateurs=densite` repeated (json_each of the list; contours_communes,
    the first target, no longer takes a list since the maps read the wide table)."""
    return (f"{base_url}/oc/chiffres_cles.json?niveau=region&code=44&indicateurs="
            + ",".join(["densite"] * repeats))


def looping_get(url: str):
    def attack(base_url, stop):
        seen = []
        while not stop.is_set():
            started = time.monotonic()
            try:
                status = fetch(url if url.startswith("http") else base_url + url, timeout=60)[0]
            except OSError as error:
                status = type(error).__name__
            seen.append((status, time.monotonic() - started))
        return seen

    return attack


def raw_request(base_url: str, head: str) -> socket.socket:
    parsed = urllib.parse.urlsplit(base_url)
    sock = socket.create_connection((parsed.hostname, parsed.port), timeout=30)
    sock.sendall(head.encode("latin-1"))
    return sock


def status_of(sock: socket.socket, timeout: float = 30) -> int | str:
    """The status of the answer on `sock`, read within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        line = sock.recv(4096).split(b"\r\n", 1)[0]
        return int(line.split()[1]) if line.startswith(b"HTTP/") else "sans réponse"
    except (OSError, IndexError, ValueError) as error:
        return type(error).__name__


def slow_post(path: str = "/-/messages", length: int = 1000):
    """A POST whose body arrives one byte a second: its status once the server answers (or the run ends)."""
    def attack(base_url, stop):
        seen = []
        while not stop.is_set():
            started = time.monotonic()
            sock = raw_request(base_url, f"POST {path} HTTP/1.1\r\nHost: attaque\r\nContent-Length: {length}\r\n"
                                         "Content-Type: application/x-www-form-urlencoded\r\n\r\n")
            sock.setblocking(False)
            status, sent = None, 0
            while status is None and not stop.is_set() and sent < length:
                try:
                    data = sock.recv(4096)
                    status = int(data.split()[1]) if data.startswith(b"HTTP/") else "fermée"
                except BlockingIOError:
                    try:
                        sock.send(b"a")
                        sent += 1
                    except OSError:
                        status = "fermée"
                    stop.wait(1.0)
                except (OSError, IndexError, ValueError):
                    status = "fermée"
            sock.close()
            if status is not None or not stop.is_set():  # (not the one cut by the end of the run)
                seen.append((status or "sans réponse", time.monotonic() - started))
            stop.wait(1.0)  # then the next one, a second later
        return seen

    return attack


def post_body(base_url: str, path: str, size: int, stop=None) -> tuple[int | str, float, int]:
    """One POST of `size` bytes sent as fast as the server takes them: its status, seconds, bytes sent."""
    started, sent, chunk = time.monotonic(), 0, b"a" * 65536
    sock = raw_request(base_url, f"POST {path} HTTP/1.1\r\nHost: attaque\r\nContent-Length: {size}\r\n\r\n")
    try:
        while sent < size and not (stop and stop.is_set()):
            sent += sock.send(chunk[: size - sent])
    except OSError:
        pass
    status = status_of(sock, timeout=5)
    sock.close()
    return status, time.monotonic() - started, sent


def huge_post(path: str = "/oc/communes", size: int = 300 * 1024 * 1024):
    """POSTs of `size` bytes, one after the other."""
    def attack(base_url, stop):
        seen = []
        while not stop.is_set():
            seen.append(post_body(base_url, path, size, stop))
        return seen

    return attack


def leaving_stream(path: str = "/oc/communes.csv?_stream=on", read_seconds: float = 2.0):
    """A client that reads a CSV stream slowly for `read_seconds`, then leaves without a word."""
    def attack(base_url, stop):
        seen = []
        while not stop.is_set():
            started = time.monotonic()
            sock = raw_request(base_url, f"GET {path} HTTP/1.1\r\nHost: attaque\r\n\r\n")
            sock.settimeout(5)
            received = b""
            try:
                while time.monotonic() - started < read_seconds and not stop.is_set():
                    data = sock.recv(1024)
                    if not data:
                        break
                    received += data[:100] if len(received) < 100 else b""
                    time.sleep(0.01)
            except OSError:
                pass
            sock.close()
            line = received.split(b"\r\n", 1)[0]
            seen.append((int(line.split()[1]) if line.startswith(b"HTTP/") else "sans réponse",
                         time.monotonic() - started))
        return seen

    return attack


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe_pages(base_url: str, stop, paths=PROBE_PAGES) -> tuple[list[float], list]:
    """One visitor reading ordinary pages in turn until `stop`: their durations and failures (path, status)."""
    durations, failures, i = [], [], 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        started = time.monotonic()
        status = fetch(base_url + path, timeout=120)[0]
        durations.append(time.monotonic() - started)
        if status != 200:
            failures.append((path, status))
        i += 1
        time.sleep(0.02)
    return durations, failures


def under_attack(base_url: str, pid: int, attack, *, clients: int = ATTACK_CONNECTIONS, seconds: float = 20,
                 measure=None, after_seconds: float = 0) -> dict:
    """`clients` threads run `attack` for `seconds` while `measure(stop)` (default: `probe_pages`) measures
    the ordinary pages; then, `after_seconds` later, the CPU the server spent once the attackers were gone.
    Returns the attack's results, the measure's, the server's peak RSS and that CPU time."""
    stop = threading.Event()
    results: dict = {"attack": [], "measure": None}

    def attacker():
        results["attack"].extend(attack(base_url, stop))

    def measurer():
        results["measure"] = (measure or (lambda s: probe_pages(base_url, s)))(stop)

    threads = [threading.Thread(target=attacker) for _ in range(clients)]
    with PeakMemory(pid) as memory:
        for thread in threads:
            thread.start()
        watcher = threading.Thread(target=measurer)
        watcher.start()
        stop.wait(seconds)
        stop.set()
        watcher.join()
        for thread in threads:
            thread.join()
    results["peak_rss_mb"] = memory.peak_mb
    if after_seconds:
        started = cpu_seconds(pid)
        time.sleep(after_seconds)
        results["cpu_after_s"] = cpu_seconds(pid) - started
    return results


def percentile_ms(durations: list[float], fraction: float) -> float | None:
    ordered = sorted(durations)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else None


def canned_at_the_bounds(base_url: str) -> str:
    """The costliest canned query the bounds let through: a région's key figures with 20 indicators."""
    from oc_site.http.request_limits import CANNED_LIST_ITEMS

    indicators = ["densite", "evolution_population_pct", "dgf_par_habitant", "population_municipale", "superficie"]
    chosen = (indicators * CANNED_LIST_ITEMS)[:CANNED_LIST_ITEMS]
    return f"{base_url}/oc/chiffres_cles.json?niveau=region&code=44&indicateurs=" + ",".join(chosen)


# The attacks of issue 24's red team, in its order: (name, the attack given the server's address, whether
# to measure the CPU spent after it).
ATTACKS = [
    ("SQL folle demandée en flux (`?sql=…&_stream=1`)", lambda url: looping_get(runaway_stream(url)), False),
    ("SQL folle dans `_where` (produit cartésien)", lambda url: looping_get(runaway_where(url)), False),
    ("requête prédéfinie, `indicateurs` répété 2 000 fois", lambda url: looping_get(long_canned_list(url)), False),
    ("requête prédéfinie au plafond (une région, 20 indicateurs)",
     lambda url: looping_get(canned_at_the_bounds(url)), False),
    ("POST vers /-/messages à 1 octet/s", lambda url: slow_post("/-/messages"), False),
    ("POST de 300 Mo", lambda url: huge_post("/oc/communes"), False),
    ("flux CSV abandonnés après 2 s (`_stream=on`)", lambda url: leaving_stream("/oc/communes.csv?_stream=on"), True),
]


def attack_runs(base_url: str, pid: int, paths: list[str], *, seconds: float, attacks=None,
                clients: int = ATTACK_CONNECTIONS, ordinary_connections: int = 4, after_seconds: float = 10) -> list[dict]:
    """The ordinary page mix (wrk, `ordinary_connections`) measured calm, then under each attack of ATTACKS fired
    by `clients` connections: one row per run with wrk's figures, the server's peak RSS, the attack's
    statuses and, for the streams, the CPU the server spent in the `after_seconds` after the clients left."""
    rows = []
    for name, make, cpu_after in [("au calme", None, False), *(ATTACKS if attacks is None else attacks)]:
        settle(base_url)
        measure = (lambda stop: run_wrk(base_url, paths, connections=ordinary_connections, seconds=seconds,
                                        threads=min(2, ordinary_connections), timeout=30))
        if make is None:
            with PeakMemory(pid) as memory:
                result = {"attack": [], "measure": measure(None), "peak_rss_mb": None}
            result["peak_rss_mb"] = memory.peak_mb
        else:
            result = under_attack(base_url, pid, make(base_url), clients=clients, seconds=seconds, measure=measure,
                                  after_seconds=after_seconds if cpu_after else 0)
        statuses: dict[str, int] = {}
        for seen in result["attack"]:
            statuses[str(seen[0])] = statuses.get(str(seen[0]), 0) + 1
        rows.append({"attaque": name, "wrk": result["measure"], "peak_rss_mb": result["peak_rss_mb"],
                     "attack_statuses": statuses, "attacks": len(result["attack"]),
                     "cpu_after_s": result.get("cpu_after_s")})
    return rows
