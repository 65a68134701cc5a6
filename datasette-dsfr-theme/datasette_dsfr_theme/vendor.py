"""Copy the DSFR files the theme needs from an npm ``dist`` folder.

Usage::

    python -m datasette_dsfr_theme.vendor node_modules/@gouvfr/dsfr/dist

The files land in ``datasette_dsfr_theme/static/dsfr/`` (not versioned) and are
served by Datasette under ``/-/static-plugins/datasette-dsfr-theme/dsfr/``.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

from .config import VENDORED_DSFR_DIR

EXPECTED_MAJOR_MINOR = "1.15"

FILES = [
    "dsfr.min.css",
    "dsfr.module.min.js",
    "dsfr.nomodule.min.js",
    "utility/icons/icons.min.css",
    "favicon/apple-touch-icon.png",
    "favicon/favicon.svg",
    "favicon/favicon.ico",
    "favicon/manifest.webmanifest",
    "favicon/android-chrome-192x192.png",
    "favicon/android-chrome-512x512.png",
    "artwork/pictograms/environment/sun.svg",
    "artwork/pictograms/environment/moon.svg",
    "artwork/pictograms/system/system.svg",
]
# Whole folders (referenced by relative url() in the CSS files above).
FOLDERS = {"fonts": (".woff2", ".woff"), "icons": (".svg",)}


def dsfr_version(dist: Path):
    package_json = dist.parent / "package.json"
    if package_json.exists():
        return json.loads(package_json.read_text(encoding="utf-8")).get("version")
    return None


def vendor(dist: Path, target: Path = VENDORED_DSFR_DIR) -> int:
    dist = Path(dist)
    missing = [name for name in FILES if not (dist / name).exists()]
    if missing:
        raise SystemExit(
            "Dossier dist du DSFR incomplet ({}) : manque {}".format(
                dist, ", ".join(missing)
            )
        )
    version = dsfr_version(dist)
    if version and not version.startswith(EXPECTED_MAJOR_MINOR + "."):
        print(
            "Attention : DSFR {} trouvé, le thème vise {}.x".format(
                version, EXPECTED_MAJOR_MINOR
            ),
            file=sys.stderr,
        )
    if target.exists():
        shutil.rmtree(target)
    copied = 0
    for name in FILES:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dist / name, destination)
        copied += 1
    for folder, suffixes in FOLDERS.items():
        for source in sorted((dist / folder).rglob("*")):
            if source.is_file() and source.suffix in suffixes:
                destination = target / source.relative_to(dist)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)
                copied += 1
    licence = dist.parent / "LICENSE.md"
    if licence.exists():
        shutil.copyfile(licence, target / "LICENSE.md")
    (target / "VERSION").write_text((version or "inconnue") + "\n", encoding="utf-8")
    return copied


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m datasette_dsfr_theme.vendor",
        description="Copie les fichiers nécessaires du DSFR (dossier dist du paquet npm "
        "@gouvfr/dsfr) dans le plugin.",
    )
    parser.add_argument("dist", help="chemin vers node_modules/@gouvfr/dsfr/dist")
    parser.add_argument(
        "--target",
        default=str(VENDORED_DSFR_DIR),
        help="dossier de destination (par défaut : static/dsfr du plugin)",
    )
    args = parser.parse_args(argv)
    count = vendor(Path(args.dist), Path(args.target))
    print("{} fichiers DSFR copiés dans {}".format(count, args.target))


if __name__ == "__main__":
    main()
