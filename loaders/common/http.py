"""Fetching one source document over HTTP(S), or from a local file: THE one HTTP client of the loaders
(publication harvesters and producer files alike).

Conditional GET (ETag / Last-Modified → 304), a timeout per attempt, retries with exponential
backoff on timeouts, connection errors and 5xx/429 answers, redirects (bounded, and only to the same
server or to a public address: `check_address`), a size cap enforced while streaming (on the decoded
bytes), a cap on how much a compressed answer may inflate (`MAX_INFLATION`: a 4.7 MB gzip bomb is
refused after a few megabytes instead of writing 2 GB), and an overall deadline (`deadline`, a
time.monotonic() value) that a server sending one byte at a time cannot outlive. Every failure becomes
a FetchError with a French message; a body streamed to a file that fails is removed.
"""

import contextlib
import hashlib
import ipaddress
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx

USER_AGENT = "OpenCollectivites/0.1 (+https://github.com/; moissonneur de publications)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
RETRY_STATUSES = {429, 500, 502, 503, 504}
# decoded bytes per byte received, past INFLATION_FLOOR: real CSV and XML compress 3 to 20 times, a gzip bomb
# 1,000 times (gzip's ceiling)
MAX_INFLATION = 200
INFLATION_FLOOR = 8 * 1024 * 1024


class FetchError(Exception):
    """A document could not be fetched; the message is in French and names no secret."""


@dataclass
class Fetched:
    url: str  # final address, after redirects
    status: int  # 200, or 304 when the document has not changed
    content: bytes | None  # None for a 304, or when the body was written to `path`
    path: Path | None = None  # where the body was written, when fetch() was given a `target`
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def headers(self) -> dict:
        """The headers feedparser uses to pick the encoding."""
        return {"content-type": self.content_type} if self.content_type else {}


def new_client() -> httpx.Client:
    """An HTTP client to share between fetches (creating one costs tens of milliseconds). Redirects are
    followed by `fetch` itself, each one checked (`check_address`)."""
    return httpx.Client(follow_redirects=False)


def public_host(host: str) -> bool:
    """Whether every address of `host` is a public one: not loopback (127.0.0.1, ::1), private (10/8,
    192.168/16…), link-local (169.254.169.254, the cloud metadata service), shared, reserved or multicast.
    A name that does not resolve is left to the connection, which fails by itself."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(info[4][0].split("%")[0])
                         for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
        except (socket.gaierror, UnicodeError, ValueError):
            return True
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return False
    return True


def same_server(first: str, second: str) -> bool:
    a, b = urlparse(first), urlparse(second)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def check_address(origin: str, target: str):
    """`target`, an address that `origin` sent us to (a redirect, a file an API names), may be fetched: an
    http(s) address on the same server as `origin`, or on a public one. Never file://, never this machine
    or its network (a redirect to 127.0.0.1 harvested internal pages; one to 169.254.169.254 asked the
    cloud's metadata service). FetchError otherwise."""
    parsed = urlparse(target)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise FetchError(f"adresse refusée (seuls http et https sont acceptés) : {target[:200]}")
    if not same_server(origin, target) and not public_host(parsed.hostname):
        raise FetchError(f"adresse refusée : {parsed.hostname} n'est pas une adresse publique (réseau local, "
                         f"cette machine ou service interne) : {target[:200]}")


def json_object(content: bytes | None) -> dict:
    """An API's answer → the JSON object it must be; FetchError in French for anything else (empty, not
    JSON, nested deeper than the parser goes — 300,000 `[` —, a list or a number instead of an object)."""
    if not content or not content.strip():
        raise FetchError("réponse vide")
    try:
        document = json.loads(content)
    except RecursionError:
        raise FetchError("réponse JSON illisible (imbriquée trop profondément)") from None
    except ValueError as e:
        raise FetchError(f"réponse JSON illisible ({e})") from None
    if not isinstance(document, dict):
        raise FetchError(f"réponse JSON inattendue : un objet est attendu, pas {json_type(document)}")
    return document


def json_type(value) -> str:
    names = {list: "une liste", str: "un texte", int: "un nombre", float: "un nombre", bool: "un booléen"}
    return names.get(type(value), "une valeur nulle" if value is None else type(value).__name__)


def is_web_url(url) -> bool:
    return isinstance(url, str) and urlparse(url).scheme in ("http", "https")


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.4g} Mo".replace(".", ",")


def read_local(path: str, max_bytes: int) -> Fetched:
    file = Path(path[len("file://"):] if path.startswith("file://") else path)
    if not file.is_file():
        raise FetchError("fichier introuvable")  # the caller names the source
    if file.stat().st_size > max_bytes:
        raise FetchError(f"fichier trop volumineux : plus de {megabytes(max_bytes)}")
    return Fetched(url=str(file), status=200, content=file.read_bytes())


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    params: dict | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.Client | None = None,
    target: Path | None = None,
    deadline: float | None = None,
    origin: str | None = None,
) -> Fetched:
    """Fetch `url` (http, https, or a local path); raise FetchError with a French message.

    With `target`, an http(s) body is streamed to that file instead of memory (large producer files);
    the size cap applies all the same, to the decoded bytes. With `deadline`, no attempt, wait or
    chunk goes past it. With `origin` (the address whose answer named `url`: a producer's API), `url`
    must be on the same server or a public one (`check_address`), as every redirect must.
    """
    scheme = urlparse(url).scheme
    if origin is not None:
        check_address(origin, url)
    if scheme in ("", "file"):
        return read_local(url, max_bytes)
    if scheme not in ("http", "https"):
        raise FetchError(f"adresse refusée (seuls http et https sont acceptés) : {url}")
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own_client = client is None
    client = client or new_client()
    attempts = retries + 1
    try:
        for attempt in range(1, attempts + 1):
            try:
                check_deadline(deadline)
                return _get_once(client, url, params, headers, per_attempt(timeout, deadline), max_bytes, target,
                                 deadline)
            except _Retryable as e:
                if attempt == attempts:
                    plural = "s" if attempts > 1 else ""
                    raise FetchError(f"{e} ({attempts} tentative{plural})") from None
                time.sleep(min(backoff * 2 ** (attempt - 1), remaining(deadline)))
    except BaseException:
        if target:
            Path(target).unlink(missing_ok=True)
        raise
    finally:
        if own_client:
            client.close()
    raise AssertionError("unreachable")


class _Retryable(Exception):
    pass


def check_deadline(deadline: float | None):
    if deadline is not None and time.monotonic() > deadline:
        raise FetchError("délai total dépassé pour cette source (le serveur répond trop lentement)")


def remaining(deadline: float | None) -> float:
    return float("inf") if deadline is None else max(0.0, deadline - time.monotonic())


def per_attempt(timeout: float, deadline: float | None) -> float:
    """The timeout of one network wait: never beyond the overall deadline."""
    if deadline is None:
        return timeout
    return max(0.1, min(timeout, deadline - time.monotonic()))


def _get_once(client, url, params, headers, timeout, max_bytes, target=None, deadline=None) -> Fetched:
    """One attempt: the request, each redirect checked and followed, the body read within the caps."""
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", url, params=params, headers=headers, timeout=timeout) as response:
                if response.has_redirect_location:
                    following = urljoin(str(response.url), response.headers["location"])
                    check_address(str(response.url), following)
                    url, params = following, None  # the query string is in the new address
                    continue
                return _read(response, headers, max_bytes, target, deadline)
        raise FetchError(f"trop de redirections (plus de {MAX_REDIRECTS})")
    except httpx.TimeoutException:
        raise _Retryable(f"délai dépassé ({timeout:g} s)".replace(".", ",")) from None
    except httpx.DecodingError:
        raise FetchError("réponse compressée illisible") from None
    except httpx.ConnectError:
        raise _Retryable("connexion impossible (serveur injoignable, nom de domaine inconnu ou réseau absent)") from None
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        raise _Retryable("connexion interrompue par le serveur") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise FetchError(f"adresse invalide : {url[:200]}") from None


def _read(response, headers, max_bytes, target, deadline) -> Fetched:
    if response.status_code == 304:
        return Fetched(url=str(response.url), status=304, content=None,
                       etag=response.headers.get("etag") or headers.get("If-None-Match"),
                       last_modified=response.headers.get("last-modified") or headers.get("If-Modified-Since"))
    if response.status_code in RETRY_STATUSES:
        raise _Retryable(f"le serveur a répondu HTTP {response.status_code}")
    if response.status_code == 404:
        raise FetchError("adresse introuvable (HTTP 404)")
    if response.status_code >= 400:
        raise FetchError(f"le serveur a refusé la requête (HTTP {response.status_code})")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"réponse trop volumineuse : plus de {megabytes(max_bytes)}")
    chunks, size = [], 0
    with open(target, "wb") if target else contextlib.nullcontext() as out:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"réponse trop volumineuse : plus de {megabytes(max_bytes)}")
            if size > INFLATION_FLOOR and size > MAX_INFLATION * response.num_bytes_downloaded:
                raise FetchError(f"réponse compressée démesurée : {megabytes(response.num_bytes_downloaded)} reçus "
                                 f"donnent plus de {megabytes(size)} (plus de {MAX_INFLATION} fois leur taille)")
            check_deadline(deadline)
            if target:
                out.write(chunk)
            else:
                chunks.append(chunk)
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        content=None if target else b"".join(chunks),
        path=target,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        content_type=response.headers.get("content-type"),
    )


# --- producer files: streamed to disk, hashed, renamed once whole ---------------------------------

DEFAULT_FILE_TIMEOUT = 120.0
DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024  # the OFGL commune accounts run to hundreds of Mo


@dataclass
class Downloaded:
    url: str  # final address, after redirects
    path: Path
    size: int
    sha256: str
    last_modified: str | None = None


def download(url: str, target: Path, *, timeout: float = DEFAULT_FILE_TIMEOUT,
             max_bytes: int = DEFAULT_MAX_FILE_BYTES, **options) -> Downloaded:
    """`fetch` an http(s) file into `target` through a `.part` file renamed only once complete: a
    transfer cut short (fewer bytes than announced, connection closed) never leaves a file that looks
    whole. Returns its size and SHA-256, which the producers' lock records and checks."""
    if not is_web_url(url):
        raise FetchError(f"adresse refusée (seuls http et https sont acceptés) : {url}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        fetched = fetch(url, target=partial, timeout=timeout, max_bytes=max_bytes, **options)
        digest = hashlib.sha256()
        with open(partial, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        size = partial.stat().st_size
        os.replace(partial, target)
    except OSError as e:
        raise FetchError(f"écriture impossible de {target} ({e.strerror or e})") from None
    finally:
        partial.unlink(missing_ok=True)
    return Downloaded(url=fetched.url, path=target, size=size, sha256=digest.hexdigest(),
                      last_modified=fetched.last_modified)
