"""How a source's location is written into oc.db: an address, never a path of the machine that built it.

oc.db is published (/oc.db, every table in the browser): `/home/…/data/ressources.yml` or
`/tmp/tmpx8/criteres.csv` would tell who built it, where and how. A web address stays as it is; a file
of the repository is written relative to it (data/ressources.yml), any other file by its name.
"""

import re
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]


def public_location(location) -> str | None:
    """`location` (a URL or a local path) as it may be published."""
    if location is None:
        return None
    text = str(location)
    if urlparse(text).scheme in ("http", "https"):
        return text
    path = Path(text[len("file://"):] if text.startswith("file://") else text)
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


# an absolute path in a message (not the path part of a URL: no letter, digit, ':' or '/' right before it)
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:[^\s()«»,;:]+/)*[^\s()«»,;:]+")


def hide_paths(text: str | None) -> str | None:
    """A message as it may be stored in oc.db: every absolute path in it made public (public_location)."""
    if text is None:
        return None
    return ABSOLUTE_PATH.sub(lambda m: public_location(m.group()), text)
