"""A local caching proxy (nginx, scripts/nginx-cache.conf) in front of a server, for `make bench`.

`CachingProxy(upstream_url)` starts nginx (Debian's package, installed by `scripts/install-tools.sh nginx`)
on a free loopback port with its own temporary directory, waits until it answers, and stops it on
exit. It stands for the HTTP cache or CDN of the production setup (README, « Mise en production »).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.harness import ROOT, free_port, stop_process_group, wait_until_ready

TEMPLATE = ROOT / "scripts" / "nginx-cache.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        subprocess.run([str(ROOT / "scripts" / "install-tools.sh"), "nginx"], check=True)
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found


class CachingProxy:
    def __init__(self, upstream_url: str, workers: int = 1):
        self.upstream = upstream_url.split("://", 1)[1].rstrip("/")
        self.port = free_port()
        self.workers = workers
        self.directory = None
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "CachingProxy":
        self.directory = Path(tempfile.mkdtemp(prefix="oc-proxy-"))
        self.directory.chmod(0o755)  # run as root, nginx's workers run as another user
        config = (TEMPLATE.read_text()
                  .replace("@DIR@", str(self.directory))
                  .replace("@UPSTREAM@", self.upstream)
                  .replace("@LISTEN@", f"127.0.0.1:{self.port}")
                  .replace("@WORKERS@", str(self.workers)))
        (self.directory / "nginx.conf").write_text(config)
        self.process = subprocess.Popen([nginx_binary(), "-p", str(self.directory), "-c", "nginx.conf"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        status = wait_until_ready(self.process, self.url + "/-/versions.json", 20)
        if status == 200:
            return self
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx s'est arrêté au démarrage : {self.process.stderr.read().decode()}")
        log = (self.directory / "error.log").read_text()[-1000:] if (self.directory / "error.log").exists() else ""
        self.__exit__()
        raise RuntimeError(f"nginx ne répond pas (dernier statut : {status}) ; {log}")

    def __exit__(self, *exc):
        stop_process_group(self.process)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
