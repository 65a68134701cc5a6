"""`oc sources`: bring the producer files named by the lock into the cache, verified; or update the lock.

- `fetch_pinned`: a lock entry whose file is missing from the cache is downloaded from its address and
  must match the lock's size and SHA-256 (otherwise the producer changed or withdrew the file: the
  message says so and how to update);
- `update`: the mapping's rule is resolved again through the producer's API, the file downloaded,
  checked against what the producer announces (size, checksum) and against the mapping (every
  column it names must be in the header), then cached and pinned.
Nothing here touches oc.db; a failure leaves the cache and the lock as they were.
"""

import datetime
import email.utils
import hashlib
import os
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


def check_announced(resolved: Resolved, downloaded: http.Downloaded):
    """The file received must be the one the producer describes (else it was cut, or replaced meanwhile)."""
    if resolved.size is not None and downloaded.size != resolved.size:
        raise SourceError(f"fichier incomplet ou différent de celui annoncé par le producteur : "
                          f"{downloaded.size} octets reçus, {resolved.size} annoncés ({resolved.url})")
    if resolved.checksum:
        algorithm, expected = resolved.checksum
        if algorithm.lower() == "sha256":
            actual = downloaded.sha256
        elif algorithm.lower() in ("sha1", "md5"):
            digest = hashlib.new(algorithm.lower())
            with open(downloaded.path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            actual = digest.hexdigest()
        else:
            return
        if actual.lower() != str(expected).lower():
            raise SourceError(f"somme de contrôle {algorithm} différente de celle annoncée par le producteur "
                              f"({actual[:12]}… au lieu de {str(expected)[:12]}…) : fichier incomplet ou "
                              f"remplacé pendant le téléchargement ({resolved.url})")


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


def update(mapping, old: lock.Entry | None, directory: Path, client, options: dict, check_file) -> lock.Entry:
    """Resolve the mapping's rule, download, check (producer's figures, mapping's columns), cache: the new entry."""
    name = mapping.path.stem
    resolved = resolve(mapping, client, options)
    directory.mkdir(parents=True, exist_ok=True)
    incoming = directory / f".{name}.telechargement"
    try:
        downloaded = _download(resolved.url, incoming, mapping, client, options)
        check_announced(resolved, downloaded)
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
    if old is not None and old.fichier != entry.fichier:
        old.path(directory).unlink(missing_ok=True)
    return entry


def run(mapping_list, *, check_file, update_lock: bool = False, lock_path: Path | None = None,
        directory: Path | None = None, echo=print, **options) -> list[Outcome]:
    """`oc sources` for the producer files of `mapping_list` (mappings with a `ressource`).

    `check_file(mapping, path, vintage=…)` raises SourceError when a downloaded file does not fit its
    mapping (indicators/mappings/extract.py; given by the caller: this package does not import the
    mappings, which import it). `options`: timeout, retries, backoff of every request (defaults of
    loaders/common/http.py)."""
    options = {k: v for k, v in options.items() if v is not None}
    directory = Path(directory or lock.cache_dir())
    directory.mkdir(parents=True, exist_ok=True)
    entries = lock.read(lock_path)
    outcomes = []
    changed = False
    with http.new_client() as client:
        for mapping in mapping_list:
            name = mapping.path.stem
            try:
                if update_lock:
                    old = entries.get(name)
                    entry = update(mapping, old, directory, client, options, check_file)
                    same = old is not None and old.sha256 == entry.sha256
                    entries[name] = old if same else entry
                    changed = changed or not same
                    message = ("inchangé" if same else "épinglé") + (
                        f" : « {entry.ressource} », {entry.millesime}, {grouped(entry.taille)} octets, "
                        f"SHA-256 {entry.sha256[:12]}…")
                elif name not in entries:
                    message = ("pas encore épinglé dans le verrou : `oc sources --update "
                               f"{name}` résout et télécharge le fichier actuel du producteur")
                else:
                    message = fetch_pinned(entries[name], mapping, directory, client, options)
                outcomes.append(Outcome(name, True, message))
            except SourceError as e:
                outcomes.append(Outcome(name, False, str(e)))
            echo(outcomes[-1].line())
    if changed:
        lock.write(entries, lock_path)
    return outcomes
