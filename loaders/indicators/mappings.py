"""Declarative mappings: a YAML file per producer file says how to read it into `valeurs`.

A mapping (data/mappings/*.yml, documented in data/mappings/README.md) gives the format (CSV with
separator and encoding, or XLSX with a sheet-name pattern), the key column and its level, the year
(fixed, from a column, from the sheet name, or from the value columns' names), and the indicators
(code, libellé, unité, type, column). Long files — one row per indicator, as OFGL's — name the column
holding the indicator (`format_long`) and each indicator the value it takes there.

Parsing is pure (`open_table`, `extract`); `load` writes into an open SQLite connection, inside the
caller's transaction; `load_into_db` does it on a copy of oc.db swapped in atomically.
"""

import contextlib
import csv
import hashlib
import itertools
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from oc_site.levels import SMALLEST_FIRST

from ..common import http
from ..common.atomic import updating_copy
from ..common.errors import SourceError
from ..common.numbers import parse_number
from . import catalogue

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "data" / "mappings"
CODE_WIDTH = {"commune": 5, "epci": 9, "departement": 2, "region": 2}
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
HEADER_SEARCH_ROWS = 40
EXAMPLES = 10


class MappingError(SourceError):
    """A mapping is invalid or does not fit the file it reads; names the mapping (and the file)."""

    def __init__(self, mapping, message: str, path=None):
        self.mapping = mapping
        super().__init__(f"mapping {Path(mapping).name} : {message}", path)


@dataclass
class Mapping:
    path: Path
    titre: str
    producteur: str
    format: str
    niveau: str
    cle: list[str]
    indicateurs: list[dict]
    annee: dict | int | None = None
    url: str | None = None
    telechargement: str | None = None
    licence: str | None = None
    millesime: str | None = None
    fichier_local: str | None = None
    separateur: str = ";"
    encodage: str = "utf-8-sig"
    feuille: str | None = None
    ligne_entete: int | None = None
    colonne_indicateur: str | None = None
    filtres: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def local_file(self) -> Path | None:
        if not self.fichier_local:
            return None
        path = Path(self.fichier_local)
        return path if path.is_absolute() else ROOT / path


def _require(mapping_path, data: dict, key: str, kind=str, where="") -> object:
    value = data.get(key)
    if value is None or (kind is not None and not isinstance(value, kind)):
        expected = {str: "un texte", list: "une liste", dict: "un dictionnaire"}.get(kind, "une valeur")
        raise MappingError(mapping_path, f"clé « {where}{key} » manquante ou invalide ({expected} attendu)")
    return value


def parse_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every problem is a MappingError naming it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MappingError(path, f"fichier illisible ({e.strerror or e})", path) from e
    except yaml.YAMLError as e:
        raise MappingError(path, f"YAML invalide ({e})", path) from e
    if not isinstance(data, dict):
        raise MappingError(path, "un dictionnaire YAML est attendu")
    fmt = _require(path, data, "format")
    if fmt not in ("csv", "xlsx"):
        raise MappingError(path, f"format « {fmt} » inconnu (csv ou xlsx)")
    key = _require(path, data, "cle", dict)
    level = _require(path, key, "niveau", str, "cle.")
    if level not in SMALLEST_FIRST:
        raise MappingError(path, f"niveau « {level} » inconnu ({', '.join(SMALLEST_FIRST)})")
    columns = key.get("colonnes") or [_require(path, key, "colonne", str, "cle.")]
    csv_options, xlsx_options = data.get("csv") or {}, data.get("xlsx") or {}
    long_format = data.get("format_long") or {}
    indicators = _require(path, data, "indicateurs", list)
    if not indicators:
        raise MappingError(path, "la liste « indicateurs » est vide")
    year = data.get("annee")
    checked = []
    for position, indicator in enumerate(indicators, start=1):
        where = f"indicateurs[{position}]."
        if not isinstance(indicator, dict):
            raise MappingError(path, f"indicateurs[{position}] : un dictionnaire est attendu")
        code = _require(path, indicator, "code", str, where)
        if not CODE_PATTERN.match(code):
            raise MappingError(path, f"code d'indicateur « {code} » invalide (minuscules, chiffres et _)")
        _require(path, indicator, "libelle", str, where)
        if not indicator.get("colonne") and not indicator.get("colonnes"):
            raise MappingError(path, f"{where}colonne (ou colonnes) manquante pour l'indicateur {code}")
        if indicator.get("type", "nombre") not in ("nombre", "texte"):
            raise MappingError(path, f"{where}type doit valoir nombre ou texte ({code})")
        if long_format and "valeur_indicateur" not in indicator:
            raise MappingError(path, f"{where}valeur_indicateur manquante (format long) pour {code}")
        if year is None and not indicator.get("colonnes"):
            raise MappingError(path, f"clé « annee » manquante : donnez une année, une colonne ou une feuille "
                                     f"(ou des colonnes par année pour {code})")
        checked.append(indicator)
    if isinstance(year, dict) and not (year.get("colonne") or year.get("feuille")):
        raise MappingError(path, "annee : donnez « colonne » ou « feuille »")
    if year is not None and not isinstance(year, (int, dict)):
        raise MappingError(path, "annee : un entier, {colonne: …} ou {feuille: …} est attendu")
    return Mapping(
        path=path, titre=_require(path, data, "titre"), producteur=_require(path, data, "producteur"),
        format=fmt, niveau=level, cle=[str(c) for c in columns], indicateurs=checked, annee=year,
        url=data.get("url"), telechargement=data.get("telechargement"), licence=data.get("licence"), millesime=data.get("millesime"),
        fichier_local=data.get("fichier_local"),
        separateur=csv_options.get("separateur", ";"), encodage=csv_options.get("encodage", "utf-8-sig"),
        feuille=xlsx_options.get("feuille"), ligne_entete=(csv_options.get("ligne_entete")
                                                           or xlsx_options.get("ligne_entete")),
        colonne_indicateur=long_format.get("colonne_indicateur"), filtres=data.get("filtres") or {},
    )


def mapping_path(name_or_path: str, directory: Path = DEFAULT_DIR) -> Path:
    """A mapping given as a path, or by its name in data/mappings (with or without .yml)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    for candidate in (directory / name_or_path, directory / f"{name_or_path}.yml"):
        if candidate.exists():
            return candidate
    raise MappingError(path, f"mapping introuvable (ni fichier, ni nom dans {directory})", path)


# --- reading the producer file -----------------------------------------------------------------

def normalize_header(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list]]  # (line or row number in the file, cells), read as it goes
    sheet: str | None = None


def _find_header(mapping: Mapping, head: list[list], source: Path) -> int:
    if mapping.ligne_entete:
        if mapping.ligne_entete > len(head):
            raise MappingError(mapping.path, f"ligne d'en-tête {mapping.ligne_entete} absente", source)
        return mapping.ligne_entete - 1
    for index, row in enumerate(head):
        names = {normalize_header(v) for v in row}
        if all(c in names for c in mapping.cle):
            return index
    raise MappingError(
        mapping.path,
        f"colonne clé « {' + '.join(mapping.cle)} » introuvable dans les {HEADER_SEARCH_ROWS} premières lignes",
        source,
    )


def _table(mapping: Mapping, rows: Iterator, source: Path, sheet=None) -> Table:
    """The header (searched in the first rows), then the data rows numbered as in the file."""
    head = list(itertools.islice(rows, max(HEADER_SEARCH_ROWS, mapping.ligne_entete or 0)))
    at = _find_header(mapping, head, source)
    body = itertools.chain(head[at + 1:], rows)
    return Table(header=[normalize_header(v) for v in head[at]],
                 rows=((at + 2 + i, list(row)) for i, row in enumerate(body)), sheet=sheet)


def _csv_rows(mapping: Mapping, stream, source: Path):
    try:
        yield from csv.reader(stream, delimiter=mapping.separateur)
    except UnicodeDecodeError as e:
        raise MappingError(mapping.path, f"encodage {mapping.encodage} invalide ({e.reason})", source) from e
    except csv.Error as e:
        raise MappingError(mapping.path, f"CSV illisible ({e})", source) from e


@contextlib.contextmanager
def open_table(mapping: Mapping, source: Path):
    """The producer file as a Table whose rows are read while they are consumed (files of millions of rows)."""
    source = Path(source)
    if mapping.format == "csv":
        try:
            stream = open(source, encoding=mapping.encodage, newline="")
        except (OSError, LookupError) as e:
            raise MappingError(mapping.path, f"fichier illisible ({e})", source) from e
        with stream:
            yield _table(mapping, _csv_rows(mapping, stream, source), source)
        return
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise MappingError(mapping.path, f"classeur XLSX illisible ({e})", source) from e
    try:
        names = workbook.sheetnames
        if mapping.feuille:
            matching = [n for n in names if re.fullmatch(mapping.feuille, n)]
            if not matching:
                raise MappingError(mapping.path, f"aucune feuille ne correspond à « {mapping.feuille} » "
                                                 f"(feuilles : {', '.join(names)})", source)
            name = matching[0]
        else:
            name = names[0]
        yield _table(mapping, workbook[name].iter_rows(values_only=True), source, sheet=name)
    finally:
        workbook.close()


# --- extracting values -------------------------------------------------------------------------

def normalize_code(raw, level: str) -> str | None:
    """A territory code as TEXT: zeros restored (1001 → 01001), Corse kept (2A004), spaces removed."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = re.sub(r"[\s\u00a0\u202f]", "", str(raw)).upper()
    if not text:
        return None
    if text.isdigit():
        width = CODE_WIDTH[level]
        if level == "departement" and len(text) == 3:
            return text
        return text.zfill(width)
    return text


def compose_key(parts: list[str], level: str) -> str:
    """A key split over several columns: for a commune, département (2 or 3 characters, zeros restored)
    then commune number completed to 5 characters in all (« 1 » + « 1 » → 01001, « 974 » + « 11 » → 97411)."""
    if len(parts) == 1:
        return parts[0]
    if level == "commune" and len(parts) == 2 and all(parts):
        departement, number = (re.sub(r"\s", "", p).upper() for p in parts)
        if departement.isdigit():
            departement = departement.zfill(2)
        return departement + number.zfill(5 - len(departement)) if number.isdigit() else departement + number
    return "".join(parts)


@dataclass
class Extract:
    rows: list[tuple]  # (indicateur, niveau, code, annee, valeur, valeur_texte)
    unknown: dict  # code → number of rows
    years: set
    lines_read: int = 0
    lines_without_code: int = 0
    lines_filtered: int = 0
    duplicates: int = 0


def _columns(mapping: Mapping, table: Table, source: Path) -> dict:
    """Column positions for every column the mapping names; missing ones are errors."""
    position = {}
    for index, name in enumerate(table.header):
        position.setdefault(name, index)

    def need(name, role):
        name = normalize_header(name)
        if name not in position:
            available = ", ".join(f"« {h} »" for h in table.header if h)[:600]
            raise MappingError(mapping.path, f"colonne « {name} » ({role}) absente du fichier "
                                             f"(colonnes disponibles : {available})", source)
        return position[name]

    plan = {"key": [need(c, "clé") for c in mapping.cle], "filters": {}, "indicators": []}
    if isinstance(mapping.annee, dict) and mapping.annee.get("colonne"):
        plan["year"] = need(mapping.annee["colonne"], "année")
    if mapping.colonne_indicateur:
        plan["indicator_column"] = need(mapping.colonne_indicateur, "indicateur")
    for name, allowed in mapping.filtres.items():
        allowed = allowed if isinstance(allowed, list) else [allowed]
        plan["filters"][need(name, "filtre")] = {str(a) for a in allowed}
    for indicator in mapping.indicateurs:
        if indicator.get("colonnes"):
            pattern = re.compile(indicator["colonnes"])
            found = [(i, int(m.group(1))) for i, h in enumerate(table.header) if (m := pattern.fullmatch(h))]
            if not found:
                raise MappingError(mapping.path, f"aucune colonne ne correspond à « {indicator['colonnes']} » "
                                                 f"(indicateur {indicator['code']})", source)
            plan["indicators"].append((indicator, found))
        else:
            plan["indicators"].append((indicator, [(need(indicator["colonne"], f"indicateur {indicator['code']}"),
                                                    None)]))
    return plan


def _fixed_year(mapping: Mapping, table: Table, source: Path) -> int | None:
    if isinstance(mapping.annee, int):
        return mapping.annee
    if isinstance(mapping.annee, dict) and mapping.annee.get("feuille"):
        match = re.search(mapping.annee["feuille"], table.sheet or "")
        if not match:
            raise MappingError(mapping.path, f"année introuvable dans le nom de feuille « {table.sheet} » "
                                             f"(motif {mapping.annee['feuille']})", source)
        return int(match.group(1) if match.groups() else match.group(0))
    return None


def cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def extract(mapping: Mapping, table: Table, source: Path, known: set[str]) -> Extract:
    plan = _columns(mapping, table, source)
    fixed_year = _fixed_year(mapping, table, source)
    result = Extract(rows=[], unknown={}, years=set())
    seen = {}
    for line, row in table.rows:
        if not any(cell_text(v) for v in row):
            continue
        result.lines_read += 1
        cells = row + [None] * (len(table.header) - len(row))
        if any(cell_text(cells[i]) not in allowed for i, allowed in plan["filters"].items()):
            result.lines_filtered += 1
            continue
        code = normalize_code(compose_key([cell_text(cells[i]) for i in plan["key"]], mapping.niveau),
                              mapping.niveau)
        if not code:
            result.lines_without_code += 1
            continue
        year = fixed_year
        if "year" in plan:
            try:
                parsed = parse_number(cells[plan["year"]])
            except ValueError:
                parsed = None
            if parsed is None or int(parsed) != parsed:
                raise MappingError(mapping.path, f"ligne {line} : année illisible « {cell_text(cells[plan['year']])} » "
                                                 f"(colonne {mapping.annee['colonne']})", source)
            year = int(parsed)
        selected = plan["indicators"]
        if "indicator_column" in plan:
            label = cell_text(cells[plan["indicator_column"]])
            selected = [(ind, cols) for ind, cols in selected if str(ind["valeur_indicateur"]) == label]
            if not selected:
                continue
        if code not in known:
            result.unknown[code] = result.unknown.get(code, 0) + 1
            continue
        for indicator, columns in selected:
            for index, column_year in columns:
                raw = cells[index]
                value_year = column_year or year
                if indicator.get("type", "nombre") == "texte":
                    number, text = None, cell_text(raw) or None
                    if text is None:
                        continue
                else:
                    try:
                        number, text = parse_number(raw), None
                    except ValueError as e:
                        raise MappingError(mapping.path, f"ligne {line}, colonne « {table.header[index]} » : {e}",
                                           source) from e
                    if number is None:
                        continue
                    if indicator.get("echelle"):
                        number = number * indicator["echelle"]
                key = (indicator["code"], code, value_year)
                if key in seen:
                    result.duplicates += 1
                    result.rows[seen[key]] = (indicator["code"], mapping.niveau, code, value_year, number, text)
                    continue
                seen[key] = len(result.rows)
                result.rows.append((indicator["code"], mapping.niveau, code, value_year, number, text))
                result.years.add(value_year)
    return result


# --- loading -----------------------------------------------------------------------------------

def builtin_codes() -> set[str]:
    from ..territories.populations import INDICATORS

    return {i["code"] for i in INDICATORS}


def catalogue_entries(mapping: Mapping, conn: sqlite3.Connection) -> list[dict]:
    entries = []
    existing = dict(conn.execute("SELECT code, niveaux FROM indicateurs"))
    for order, indicator in enumerate(mapping.indicateurs, start=1):
        levels = [lvl for lvl in (existing.get(indicator["code"]) or "").split(",") if lvl]
        if mapping.niveau not in levels:
            levels.append(mapping.niveau)
        entries.append({
            "code": indicator["code"], "libelle": indicator["libelle"], "unite": indicator.get("unite"),
            "niveaux": ",".join(lvl for lvl in SMALLEST_FIRST if lvl in levels),
            "type": indicator.get("type", "nombre"), "decimales": indicator.get("decimales"),
            "theme": indicator.get("theme"), "ordre": indicator.get("ordre", 1000 + order),
            "description": indicator.get("description"), "source": f"{mapping.producteur} — {mapping.titre}",
            "source_url": mapping.url, "licence": mapping.licence,
        })
    return entries


@dataclass
class Report:
    mapping: str
    source: str
    values: int
    indicators: list[str]
    years: list[int]
    unknown_count: int
    unknown_examples: list[str]
    lines_read: int
    lines_without_code: int
    lines_filtered: int
    duplicates: int

    def lines(self) -> list[str]:
        years = ", ".join(str(y) for y in self.years) or "—"
        out = [
            f"Mapping {self.mapping} : {fmt(self.values)} valeurs chargées depuis {self.source}",
            f"  indicateurs : {', '.join(self.indicators)} ; années : {years}",
            f"  lignes lues : {fmt(self.lines_read)} ; sans code : {fmt(self.lines_without_code)} ; "
            f"écartées par les filtres : {fmt(self.lines_filtered)} ; doublons remplacés : {fmt(self.duplicates)}",
        ]
        if self.unknown_count:
            out.append(f"  codes de territoire inconnus : {fmt(self.unknown_count)} "
                       f"(par exemple {', '.join(self.unknown_examples)}) — valeurs non chargées")
        else:
            out.append("  codes de territoire inconnus : 0")
        return out


def fmt(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def load(conn: sqlite3.Connection, mapping: Mapping, source: Path, origin: str | None = None) -> Report:
    """Read `source` through `mapping` and write catalogue, source and values (caller commits)."""
    source = Path(source)
    catalogue.ensure_schema(conn)
    with open_table(mapping, source) as table:
        extracted = extract(mapping, table, source, catalogue.known_codes(conn, mapping.niveau))
    entries = catalogue_entries(mapping, conn)
    builtin = builtin_codes()
    catalogue.upsert_indicators(conn, [e for e in entries if e["code"] not in builtin])
    for entry in entries:
        if entry["code"] in builtin:
            conn.execute("UPDATE indicateurs SET niveaux = ? WHERE code = ?", (entry["niveaux"], entry["code"]))
    unknown = sorted(extracted.unknown)
    years = sorted(extracted.years)
    note = (f"{extracted.lines_read} lignes lues, {extracted.lines_without_code} sans code, "
            f"{extracted.lines_filtered} écartées par les filtres, {extracted.duplicates} doublons remplacés.")
    source_id = catalogue.add_source(
        conn, producteur=mapping.producteur, titre=mapping.titre, url=mapping.url, fichier=origin or str(source),
        millesime=mapping.millesime or ", ".join(str(y) for y in years) or "inconnu",
        sha256=hashlib.sha256(source.read_bytes()).hexdigest(), mapping=mapping.name,
        nb_valeurs=len(extracted.rows), nb_codes_inconnus=len(unknown),
        exemples_codes_inconnus=", ".join(unknown[:EXAMPLES]) or None, note=note,
    )
    catalogue.insert_values(conn, extracted.rows, source_id)
    catalogue.drop_orphan_sources(conn)
    catalogue.refresh_views(conn)
    return Report(
        mapping=mapping.name, source=origin or str(source), values=len(extracted.rows),
        indicators=[i["code"] for i in mapping.indicateurs], years=years, unknown_count=len(unknown),
        unknown_examples=unknown[:EXAMPLES], lines_read=extracted.lines_read,
        lines_without_code=extracted.lines_without_code, lines_filtered=extracted.lines_filtered,
        duplicates=extracted.duplicates,
    )


DOWNLOAD_TIMEOUT = 60.0
DOWNLOAD_MAX_BYTES = 512 * 1024 * 1024  # the largest producer file read today is about 40 MB


def download(url: str, directory: Path) -> Path:
    """A producer file into `directory`, through the loaders' one HTTP client (retries, size cap)."""
    target = directory / (Path(url.split("?")[0]).name or "telechargement")
    try:
        http.fetch(url, target=target, timeout=DOWNLOAD_TIMEOUT, max_bytes=DOWNLOAD_MAX_BYTES)
    except http.FetchError as e:
        raise SourceError(f"téléchargement impossible : {e}", url) from e
    return target


def load_into_db(db_path: Path, mapping: Mapping, source: str | None) -> Report:
    """Load into an existing oc.db: work on a copy, swap it in only when everything succeeded."""
    if not Path(db_path).exists():
        raise SourceError("base absente : lancez d'abord `oc build`", Path(db_path).resolve())
    if source is None:
        local = mapping.local_file()
        source = str(local) if local and local.exists() else mapping.telechargement
        if source is None:
            raise MappingError(mapping.path, "donnez un fichier ou une URL : pas de fichier_local présent "
                                             "ni d'adresse de téléchargement dans le mapping")
    with tempfile.TemporaryDirectory(prefix="oc-mapping-") as workdir:
        origin = source
        if re.match(r"^https?://", source):
            path = download(source, Path(workdir))
        else:
            path = Path(source)
            if not path.exists():
                raise SourceError("fichier absent", path)
            origin = str(path)
        with updating_copy(db_path, "mapping") as conn:
            with conn:
                report = load(conn, mapping, path, origin=origin)
            conn.execute("ANALYZE")
    return report


def build_step(db, ctx):
    """`oc build` step: every mapping whose fichier_local is present; the others are noted."""
    directory = Path(ctx.options.get("mappings_dir") or DEFAULT_DIR)
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.yml")):
        mapping = parse_mapping(path)
        local = mapping.local_file()
        if local is None or not local.exists():
            where = f" ({local})" if local else ""
            ctx.reporter.echo(f"Mapping {mapping.name} : fichier local absent{where}, ignoré "
                              f"(chargez-le avec `oc indicators load {path.stem}`).")
            continue
        with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}"):
            report = load(db.conn, mapping, local)
            db.conn.commit()
        for line in report.lines():
            ctx.reporter.echo(line)
