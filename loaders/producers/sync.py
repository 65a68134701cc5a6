"""`oc sources`: bring the producer files named by the lock into the cache, verified; or update the lock.

- `fetch_pinned`: a lock entry whose file is missing from the cache is downloaded from its address and
  must match the lock's size and SHA-256 (otherwise the producer changed or withdrew the file: the
  message says so and how to update);
- `update`: the mapping's rule is resolved again through the producer's API, the file downloaded,
  checked against what the producer announces (size, checksum) and against the mapping (every
  column it names must be in the header), then cached and pinned.
Nothing here touches oc.db; a failure leaves the cache and the lock as they were.

What a hostile or broken producer can do is bounded, and reported in French for that mapping alone (the
others go on): each mapping has a deadline for all of its requests (`--total-timeout`: a server dripping one
byte every 2 s no longer holds a run), an address its API names must be on the API's server or a public one,
an archive's members may not inflate past the caps (`check_archive`), an announced checksum is verified
whatever its algorithm or the file refused, and any unexpected answer is one error line. One run at a time
holds the lock file (`lock.held`); the lock is rewritten as soon as a file is pinned, and only then is the
file it replaces removed: a run that stops midway leaves a lock and a cache that agree. A run interrupted
(Ctrl-C, SIGTERM) removes its partial downloads; after a SIGKILL, the next run does.
"""

import datetime
import email.utils
import hashlib
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ..common import http
from ..common.errors import SourceError
from ..common.numbers import grouped
from ..common.pins import sha256_of
from . import datagouv, files, lock, opendatasoft
from .resolved import Resolved


@dataclass
class Outcome:
    mapping: str
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'' if self.ok else 'ERREUR '}{self.mapping} : {self.message}"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def version(last_modified: str | None) -> str:
    """A file without a year in its name is dated: by the producer's Last-Modified, else by its retrieval."""
    try:
        day = email.utils.parsedate_to_datetime(last_modified).date().isoformat()
        return f"version du {day}"
    except (TypeError, ValueError):
        return f"récupéré le {now()[:10]}"


def max_bytes(mapping) -> int:
    megabytes = mapping.rule.taille_max_mo if mapping.rule else None
    return megabytes * 1024 * 1024 if megabytes else http.DEFAULT_MAX_FILE_BYTES


def indicator_values(mapping) -> list[str]:
    """The values of a long file's indicator column that the mapping reads (an export filter)."""
    values = []
    for indicator in mapping.indicateurs:
        value = indicator.get("valeur_indicateur")
        if value is not None and str(value) not in values:
            values.append(str(value))
    return values


def resolve(mapping, client, options: dict) -> Resolved:
    rule = mapping.rule
    try:
        if rule.type == "datagouv":
            return datagouv.resolve(rule, client, **options)
        if rule.type == "opendatasoft":
            return opendatasoft.resolve(rule, indicator_values(mapping), client, **options)
        return files.resolve(rule, mapping.millesime)
    except ValueError as e:
        raise SourceError(str(e)) from None


def suffix(mapping, resolved: Resolved) -> str:
    name_suffix = PurePosixPath(urlparse(resolved.url).path).suffix.lower()
    if mapping.rule.type == "opendatasoft":
        return ".csv"
    if mapping.rule.format:
        return f".{mapping.rule.format}"
    return name_suffix if 1 < len(name_suffix) <= 6 else ".bin"


# hashlib's algorithms by their name without separators (a producer writes "sha512", "SHA-512", "sha3-256");
# the SHAKE functions need a length that no checksum field gives
HASHES = {name.replace("_", ""): name for name in hashlib.algorithms_guaranteed if not name.startswith("shake")}


def hash_of(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_announced(resolved: Resolved, downloaded: http.Downloaded):
    """The file received must be the one the producer describes (else it was cut, or replaced meanwhile).
    A checksum in an algorithm this program cannot compute refuses the file: unverified, it is not pinned."""
    if resolved.size is not None and downloaded.size != resolved.size:
        raise SourceError(f"fichier incomplet ou différent de celui annoncé par le producteur : "
                          f"{downloaded.size} octets reçus, {resolved.size} annoncés ({resolved.url})")
    if resolved.checksum:
        algorithm, expected = resolved.checksum
        name = HASHES.get(algorithm.lower().replace("-", "").replace("_", ""))
        if name is None:
            raise SourceError(f"somme de contrôle annoncée par le producteur dans un algorithme inconnu "
                              f"(« {algorithm[:30]} ») : le fichier ne peut pas être vérifié, il n'est pas épinglé "
                              f"({resolved.url})")
        actual = downloaded.sha256 if name == "sha256" else hash_of(downloaded.path, name)
        if actual.lower() != str(expected).strip().lower():
            raise SourceError(f"somme de contrôle {algorithm} différente de celle annoncée par le producteur "
                              f"({actual[:12]}… au lieu de {str(expected)[:12]}…) : fichier incomplet ou "
                              f"remplacé pendant le téléchargement ({resolved.url})")


def check_archive(path: Path, limit: int):
    """A ZIP archive (an XLSX file is one) whose members stay within the caps once decompressed: none larger
    than `limit` (the mapping's size cap), none inflating more than http.MAX_INFLATION times (a 600 MB member
    of a small archive is a bomb). Python's zipfile reads no more of a member than its declared size."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise SourceError(f"archive ZIP illisible ({e})", path) from None
    for member in members:
        inflated = member.file_size > http.INFLATION_FLOOR and \
            member.file_size > http.MAX_INFLATION * max(1, member.compress_size)
        if member.file_size > limit or inflated:
            raise SourceError(f"archive refusée : le fichier « {member.filename[:100]} » y occupe "
                              f"{http.megabytes(member.compress_size)} et en ferait {http.megabytes(member.file_size)} "
                              f"une fois décompressé (au plus {http.megabytes(limit)}, et {http.MAX_INFLATION} fois "
                              "sa taille compressée)", path)


def _download(url: str, target: Path, mapping, client, options: dict) -> http.Downloaded:
    try:
        return http.download(url, target, max_bytes=max_bytes(mapping), client=client, **options)
    except http.FetchError as e:
        if "HTTP 404" in str(e):
            raise SourceError(f"ressource disparue chez le producteur ({e}, {url}) ; `oc sources --update "
                              f"{mapping.path.stem}` cherchera la ressource actuelle") from None
        raise SourceError(f"téléchargement impossible : {e} ({url})") from None


def verify_cached(entry: lock.Entry, directory: Path) -> Path:
    """The cached file of a lock entry, checked (size, then SHA-256); SourceError when absent or altered."""
    path = entry.path(directory)
    if not path.exists():
        raise SourceError("fichier absent du cache", path)
    if path.stat().st_size != entry.taille or sha256_of(path) != entry.sha256:
        raise SourceError("fichier du cache altéré (taille ou SHA-256 différente du verrou) ; supprimez-le et "
                          "relancez `oc sources`", path)
    return path


def fetch_pinned(entry: lock.Entry, mapping, directory: Path, client, options: dict) -> str:
    """Make sure the pinned file is in the cache; download it when missing. Returns what was done."""
    path = entry.path(directory)
    if path.exists():
        verify_cached(entry, directory)
        return f"présent dans le cache, SHA-256 vérifiée ({entry.millesime})"
    incoming = directory / f".{entry.fichier}.telechargement"
    downloaded = _download(entry.url, incoming, mapping, client, options)
    try:
        if downloaded.size != entry.taille or downloaded.sha256 != entry.sha256:
            raise SourceError(
                f"le fichier publié à cette adresse a changé (SHA-256 {downloaded.sha256[:12]}…, {downloaded.size} "
                f"octets ; le verrou attend {entry.sha256[:12]}…, {entry.taille} octets) : le producteur l'a "
                f"remplacé ou le téléchargement est incomplet ; `oc sources --update {entry.mapping}` "
                f"épinglera la version actuelle ({entry.url})")
        os.replace(incoming, path)
    finally:
        incoming.unlink(missing_ok=True)
    return f"téléchargé et vérifié ({grouped(entry.taille)} octets, {entry.millesime})"


def update(mapping, directory: Path, client, options: dict, check_file) -> lock.Entry:
    """Resolve the mapping's rule, download, check (producer's figures, archive, mapping's columns), cache: the
    new entry. Its file is in the cache; the file of the entry it replaces is still there (see `run`)."""
    name = mapping.path.stem
    resolved = resolve(mapping, client, options)
    directory.mkdir(parents=True, exist_ok=True)
    incoming = directory / f".{name}.telechargement"
    try:
        downloaded = _download(resolved.url, incoming, mapping, client, {**options, "origin": mapping.rule.url})
        check_announced(resolved, downloaded)
        check_archive(incoming, max_bytes(mapping))
        vintage = resolved.vintage or mapping.millesime or version(downloaded.last_modified)
        check_file(mapping, incoming, vintage=vintage)
        entry = lock.Entry(
            mapping=name, producteur=mapping.producteur, jeu_de_donnees=mapping.rule.dataset_label,
            ressource=resolved.title, url=resolved.url, taille=downloaded.size, sha256=downloaded.sha256,
            millesime=vintage, date_recuperation=now(),
            fichier=f"{name}-{downloaded.sha256[:12]}{suffix(mapping, resolved)}",
        )
        os.replace(incoming, entry.path(directory))
    finally:
        incoming.unlink(missing_ok=True)
    return entry


DEFAULT_TOTAL_SECONDS = 900.0  # a mapping's requests, API and file together (`--total-timeout`)
DOWNLOAD_SUFFIXES = (".telechargement", ".telechargement.part")


def remove_partial_downloads(directory: Path):
    """The downloads a killed run left in the cache (the caller holds the lock: no other run is writing)."""
    for path in directory.glob(".*"):
        if path.name.endswith(DOWNLOAD_SUFFIXES) and path.is_file():
            path.unlink(missing_ok=True)


def sync_one(mapping, entries: dict, directory: Path, client, options: dict, check_file, update_lock: bool,
             lock_path: Path | None) -> Outcome:
    """`oc sources` for one mapping; any failure is this mapping's error line, never the run's end."""
    name = mapping.path.stem
    try:
        if not update_lock:
            if name not in entries:
                return Outcome(name, True, "pas encore épinglé dans le verrou : `oc sources --update "
                                           f"{name}` résout et télécharge le fichier actuel du producteur")
            return Outcome(name, True, fetch_pinned(entries[name], mapping, directory, client, options))
        old = entries.get(name)
        entry = update(mapping, directory, client, options, check_file)
        same = old is not None and old.sha256 == entry.sha256
        if not same:
            entries[name] = entry
            lock.write(entries, lock_path)  # the lock names the new file before the old one goes
            if old is not None and old.fichier != entry.fichier:
                old.path(directory).unlink(missing_ok=True)
        return Outcome(name, True, ("inchangé" if same else "épinglé") + (
            f" : « {entry.ressource} », {entry.millesime}, {grouped(entry.taille)} octets, "
            f"SHA-256 {entry.sha256[:12]}…"))
    except (SourceError, http.FetchError) as e:
        return Outcome(name, False, str(e))
    except Exception as e:  # noqa: BLE001 - an unexpected answer of one producer must not stop the others
        return Outcome(name, False, f"réponse inattendue du producteur, fichier non épinglé ({type(e).__name__} : "
                                    f"{str(e)[:300]})")


def run(mapping_list, *, check_file, update_lock: bool = False, lock_path: Path | None = None,
        directory: Path | None = None, echo=print, total_seconds: float | None = None, **options) -> list[Outcome]:
    """`oc sources` for the producer files of `mapping_list` (mappings with a `ressource`).

    `check_file(mapping, path, vintage=…)` raises SourceError when a downloaded file does not fit its
    mapping (indicators/mappings/extract.py; given by the caller: this package does not import the
    mappings, which import it). `options`: timeout, retries, backoff of every request (defaults of
    loaders/common/http.py); `total_seconds`: the deadline of each mapping's requests together. Raises
    SourceError when another run holds the lock file."""
    options = {k: v for k, v in options.items() if v is not None}
    total = total_seconds or DEFAULT_TOTAL_SECONDS
    directory = Path(directory or lock.cache_dir())
    directory.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with lock.held(lock_path), http.new_client() as client:
        remove_partial_downloads(directory)
        entries = lock.read(lock_path)
        for mapping in mapping_list:
            deadline = {"deadline": time.monotonic() + total}
            outcomes.append(sync_one(mapping, entries, directory, client, {**options, **deadline}, check_file,
                                     update_lock, lock_path))
            echo(outcomes[-1].line())
    return outcomes
