"""data/producteurs.lock.json: the producer files pinned for the build, one entry per mapping.

Each entry records what `oc sources --update` resolved and verified: producer, dataset,
resource title, address, size, SHA-256, vintage, retrieval date and the file's name in the cache.
`oc sources` downloads the entries missing from the cache and checks them against these figures;
`oc build` loads only files that match them. The file is written sorted, so that a diff shows what changed.

One `oc sources` at a time changes the lock and the cache (`held`): two updates at once each rewrote the
lock from what they had read, and one run's new entry disappeared. A cached file's name is a plain name
inside the cache (`cached_name`): a lock that says `fichier: ../victim.txt` is refused, never followed.
"""

import contextlib
import json
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..common.atomic import exclusive_lock
from ..common.errors import SourceError

ROOT = Path(__file__).resolve().parents[2]
NOTE = ("Fichiers des producteurs épinglés pour `oc build` : écrit par `oc sources --update`, "
        "vérifié par `oc sources`. Ne pas modifier à la main.")


def default_path() -> Path:
    return Path(os.environ.get("OC_PRODUCTEURS_LOCK") or ROOT / "data" / "producteurs.lock.json")


def cache_dir() -> Path:
    return Path(os.environ.get("OC_PRODUCTEURS_DIR") or ROOT / ".cache" / "producteurs")


@dataclass(frozen=True)
class Entry:
    mapping: str  # the mapping's name (data/mappings/<mapping>.yml)
    producteur: str
    jeu_de_donnees: str
    ressource: str  # the resource's title at the producer
    url: str
    taille: int
    sha256: str
    millesime: str
    date_recuperation: str  # UTC, ISO 8601
    fichier: str  # name in the cache

    def path(self, directory: Path | None = None) -> Path:
        return (directory or cache_dir()) / cached_name(self.fichier, self.mapping)


# what `sync` names a cached file: <mapping>-<12 hex digits of its SHA-256>.<extension>
CACHED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


def cached_name(name, mapping: str) -> str:
    """`name` if it names a file inside the cache folder itself (no folder, no `..`, no hidden file)."""
    if not isinstance(name, str) or not CACHED_NAME.fullmatch(name) or ".." in name:
        raise SourceError(f"verrou des producteurs : l'entrée {mapping} nomme un fichier hors du cache "
                          f"(« {str(name)[:100]} ») ; seul un nom de fichier simple est admis")
    return name


def read(path: Path | None = None) -> dict[str, Entry]:
    """The lock's entries by mapping name; an absent lock has none."""
    path = Path(path or default_path())
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = {f.name for f in fields(Entry)}
        entries = {name: Entry(mapping=name, **{k: v for k, v in entry.items() if k in names and k != "mapping"})
                   for name, entry in data.get("fichiers", {}).items()}
    except (OSError, ValueError, TypeError, AttributeError) as e:
        raise SourceError(f"fichier de verrouillage illisible ({e})", path) from e
    for entry in entries.values():
        cached_name(entry.fichier, entry.mapping)
    return entries


@contextlib.contextmanager
def held(path: Path | None = None, purpose: str = "oc sources"):
    """The right to change the lock `path` and the cache, for one run; SourceError when another run has it."""
    with exclusive_lock(Path(path or default_path()), purpose,
                        "un autre `oc sources` met à jour le verrou des producteurs"):
        yield


def write(entries: dict[str, Entry], path: Path | None = None):
    """Rewrite the lock atomically (a temporary file renamed)."""
    path = Path(path or default_path())
    body = {"note": NOTE, "fichiers": {
        name: {k: v for k, v in asdict(entry).items() if k != "mapping"} for name, entry in sorted(entries.items())
    }}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(body, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
