"""The site's Datasette, configured exactly as scripts/serve.sh serves it (for tests and benchmarks).

The site's plugins are installed with the project (plugins/oc_site, entry points): every Datasette of
this environment has them."""

import json
from pathlib import Path

import yaml
from datasette.app import Datasette

ROOT = Path(__file__).resolve().parent.parent


def metadata() -> dict:
    return yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))


def settings(**overrides) -> dict:
    return {**json.loads((ROOT / "settings.json").read_text(encoding="utf-8")), **overrides}


def make_datasette(db_path: Path, **overrides) -> Datasette:
    """A Datasette serving `db_path` as the `oc` database, with the site's metadata, settings, templates
    and static files; `overrides` change settings."""
    return Datasette(
        [],
        immutables=[str(db_path)],
        metadata=metadata(),
        settings=settings(**overrides),
        template_dir=str(ROOT / "templates"),
        static_mounts=[("static", str(ROOT / "static"))],
        cors=True,
    )
