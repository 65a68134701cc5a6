"""Which file a mapping reads: its local file, or its producer's file pinned in the lock and verified in
the cache (`locate`), or a download; and how errors about a copied-out file name its origin."""

import contextlib
from dataclasses import dataclass
from pathlib import Path

from ...common import http
from ...common.errors import SourceError
from ...common.pins import sha256_of
from ...producers import lock as producer_lock
from .spec import Mapping


def download(url: str, directory: Path) -> Path:
    """A producer file into `directory`, through the loaders' one HTTP client (retries, size cap, cut transfers)."""
    target = directory / (Path(url.split("?")[0]).name or "telechargement")
    try:
        return http.download(url, target).path
    except http.FetchError as e:
        raise SourceError(f"téléchargement impossible : {e} ({url})") from e


@dataclass
class Located:
    """The file a build or a load reads for a mapping, and what is known of it."""

    path: Path
    origin: str  # shown and stored in sources_donnees.fichier
    vintage: str | None = None
    sha256: str | None = None
    entry: producer_lock.Entry | None = None


def locate(mapping: Mapping, entries: dict, cache: Path, verify: bool = True) -> Located | str:
    """The mapping's file for the build: its fichier_local, else its pinned file in the cache (verified;
    `verify=False` checks only its size, to list the mappings quickly). A string says, in French, why there is none."""
    local = mapping.local_file()
    if local is not None and local.exists():
        return Located(local, str(local))
    name = mapping.path.stem
    if mapping.rule is None:
        where = f" ({local})" if local else ""
        return f"fichier local absent{where} ; chargez-le avec `oc indicators load {name}`"
    entry = entries.get(name)
    if entry is None:
        return (f"fichier du producteur pas encore épinglé dans {producer_lock.default_path().name} "
                f"(en ligne : `oc sources --update {name}`)")
    path = entry.path(cache)
    if not path.exists():
        return f"fichier du producteur absent du cache ({path}) ; lancez `oc sources` en ligne"
    if path.stat().st_size != entry.taille:
        return f"fichier du cache altéré ({path} : taille différente du verrou) ; supprimez-le et lancez `oc sources`"
    digest = sha256_of(path) if verify else entry.sha256
    if digest != entry.sha256:
        return f"fichier du cache altéré ({path} : SHA-256 différente du verrou) ; supprimez-le et lancez `oc sources`"
    return Located(path, entry.url, vintage=entry.millesime, sha256=digest, entry=entry)


@contextlib.contextmanager
def named_as_origin(located: Located):
    """Errors about a member copied out of an archive name the archive and the member, not the copy."""
    try:
        yield
    except SourceError as e:
        if e.path is not None and Path(e.path) == Path(located.path):
            e.path = located.origin
        raise
