"""Declarative mappings: a YAML file per producer file says how to read it into `valeurs`.

A mapping (data/mappings/*.yml, documented in data/mappings/README.md) gives the format (CSV with
separator and encoding, or XLSX with a sheet-name pattern), the key column and its level, the year
(fixed, from a column, from the sheet name, or from the value columns' names), and the indicators
(code, libellé, unité, type, column). Long files — one row per indicator, as OFGL's — name the column
holding the indicator (`format_long`) and each indicator the value it takes there.

A mapping of an online producer also says how to find the current file (`ressource`, see
loaders/producers/rules.py): `oc sources` pins it in data/producteurs.lock.json and caches it, and
`oc build` loads it from the cache. A mapping may start from another (`base`), may sum the rows that
share a territory, year and indicator (`doublons: somme`), read a CSV inside a ZIP archive (`csv.membre`),
give each EPCI, département and région the sum of its communes' values (`agregation: territoires`) and
compute ratios (`derives`, see
computed.py); `bloc` names the fiche block its indicators feed (finances, contexte).

Parsing is pure (`open_table`, `extract`); `load` writes into an open SQLite connection, inside the
caller's transaction; `load_into_db` does it on a copy of oc.db swapped in atomically.
"""

import codecs
import contextlib
import csv
import difflib
import io
import itertools
import math
import re
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import regex
import yaml

from oc_site.levels import LEVELS, SMALLEST_FIRST
from oc_site.text import strip_controls

from ..common import http
from ..common.atomic import updating_copy
from ..common.errors import SourceError
from ..common.locations import hide_paths, public_location
from ..common.numbers import parse_number
from ..common.pins import sha256_of
from ..producers import lock as producer_lock
from ..producers.rules import Rule, parse_rule
from . import catalogue, computed as computed_values

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "data" / "mappings"
CODE_WIDTH = {"commune": 5, "epci": 9, "departement": 2, "region": 2}
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
HEADER_SEARCH_ROWS = 40
EXAMPLES = 10
# a mapping's patterns (colonnes, feuille) run with the `regex` module, which can stop a match: a
# catastrophic pattern such as (a|aa)+$ ran 18 s on a header with Python's re
PATTERN_SECONDS = 2.0


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
    rule: Rule | None = None  # `ressource`: how `oc sources` finds the producer's current file
    bloc: str | None = None  # fiche block fed by the indicators: finances, contexte (default: Indicateurs)
    membre: str | None = None  # `csv.membre`: the CSV to read inside a ZIP archive (expression)
    doublons: str = "remplacer"  # or "somme": rows sharing territory, year and indicator are added up
    derives: list = field(default_factory=list)  # ratios computed after loading (computed.py)

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
    data = _with_base(path, data)
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
    if year is not None and not isinstance(year, (int, dict)) and year != "millesime":
        raise MappingError(path, "annee : un entier, millesime, {colonne: …} ou {feuille: …} est attendu")
    for key in ("url", "telechargement"):
        if data.get(key) is not None and not is_web_address(data[key]):
            raise MappingError(path, f"{key} : une adresse http:// ou https:// est attendue (« {data[key]} »)")
    for pattern in [xlsx_options.get("feuille"), *(i.get("colonnes") for i in checked),
                    year.get("feuille") if isinstance(year, dict) else None]:
        if pattern is not None:
            compile_pattern(path, pattern)
    return Mapping(
        path=path, titre=_require(path, data, "titre"), producteur=_require(path, data, "producteur"),
        format=fmt, niveau=level, cle=[str(c) for c in columns], indicateurs=checked, annee=year,
        url=data.get("url"), telechargement=data.get("telechargement"), licence=data.get("licence"), millesime=data.get("millesime"),
        fichier_local=data.get("fichier_local"),
        separateur=csv_options.get("separateur", ";"), encodage=csv_options.get("encodage", "utf-8-sig"),
        feuille=xlsx_options.get("feuille"), ligne_entete=(csv_options.get("ligne_entete")
                                                           or xlsx_options.get("ligne_entete")),
        colonne_indicateur=long_format.get("colonne_indicateur"), filtres=data.get("filtres") or {},
        **_producer_options(path, data, level),
    )


def is_web_address(value) -> bool:
    """An absolute http(s) address: the only kind a mapping may give (javascript: would run on the fiches)."""
    parts = urlparse(str(value))
    return isinstance(value, str) and parts.scheme in ("http", "https") and bool(parts.netloc)


def compile_pattern(mapping_path, pattern) -> "regex.Pattern":
    try:
        return regex.compile(str(pattern))
    except regex.error as e:
        raise MappingError(mapping_path, f"motif « {pattern} » invalide ({e})") from e


def match_all(mapping_path, pattern: str, texts: list[str], search: bool = False) -> list:
    """`pattern` matched (fullmatch, or search) against every text, in PATTERN_SECONDS at most in all."""
    compiled = compile_pattern(mapping_path, pattern)
    method = compiled.search if search else compiled.fullmatch
    deadline = time.monotonic() + PATTERN_SECONDS
    found = []
    for text in texts:
        try:
            found.append(method(text, timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            raise MappingError(mapping_path, f"motif « {pattern} » trop coûteux (plus de {PATTERN_SECONDS:g} s "
                                             "sur les noms de colonnes ou de feuilles) : simplifiez-le") from None
    return found


BLOCS = ("finances", "contexte")


def _with_base(path: Path, data: dict) -> dict:
    """`base: autre.yml`: start from that mapping (same folder), this one's keys replacing its keys
    (`cle` and `ressource` merged key by key) — one list of indicators for four levels of a producer."""
    base_name = data.get("base")
    if base_name is None:
        return data
    base_path = path.parent / str(base_name)
    try:
        base = yaml.safe_load(base_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise MappingError(path, f"base « {base_name} » illisible ({e})") from e
    if not isinstance(base, dict) or base.get("base"):
        raise MappingError(path, f"base « {base_name} » : un mapping sans base est attendu")
    merged = {**base, **{k: v for k, v in data.items() if k != "base"}}
    for key in ("cle", "ressource"):
        if isinstance(base.get(key), dict) and isinstance(data.get(key), dict):
            merged[key] = {**base[key], **data[key]}
    return merged


def _producer_options(path: Path, data: dict, level: str) -> dict:
    """The keys of online producers' mappings: ressource, bloc, csv.membre, doublons, derives, agregation."""
    rule = None
    if data.get("ressource") is not None:
        try:
            rule = parse_rule(data["ressource"])
        except ValueError as e:
            raise MappingError(path, str(e)) from None
    bloc = data.get("bloc")
    if bloc is not None and bloc not in BLOCS:
        raise MappingError(path, f"bloc « {bloc} » inconnu ({', '.join(BLOCS)})")
    member = (data.get("csv") or {}).get("membre")
    if member is not None:
        try:
            regex.compile(member)
        except regex.error as e:
            raise MappingError(path, f"csv.membre : expression régulière invalide ({e})") from None
    duplicates = data.get("doublons", "remplacer")
    if duplicates not in ("remplacer", "somme"):
        raise MappingError(path, "doublons : remplacer ou somme")
    codes = {i["code"] for i in data["indicateurs"]}
    for indicator in data["indicateurs"]:
        if indicator.get("agregation") not in (None, "territoires"):
            raise MappingError(path, f"agregation de {indicator['code']} : seule « territoires » est connue ici")
        if indicator.get("agregation") and level != "commune":
            raise MappingError(path, f"agregation de {indicator['code']} : seulement depuis les communes")
    try:
        ratios = computed_values.parse(data.get("derives") or [], codes)
    except ValueError as e:
        raise MappingError(path, str(e)) from None
    if data.get("annee") == "millesime" and rule is None:
        raise MappingError(path, "annee : millesime suppose une section ressource (millésime du fichier épinglé)")
    return {"rule": rule, "bloc": bloc, "membre": member, "doublons": duplicates, "derives": ratios}


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
    numbered = ((at + 2 + i, list(row)) for i, row in enumerate(body))
    if mapping.format == "csv":
        numbered = _whole_rows(mapping, numbered, len(head[at]), source)
    return Table(header=[normalize_header(v) for v in head[at]], rows=numbered, sheet=sheet)


def _whole_rows(mapping: Mapping, rows, width: int, source: Path):
    """A CSV line with fewer fields than the header is a file cut in the middle (or a wrong separator)."""
    for line, row in rows:
        if 1 < len(row) < width or (len(row) == 1 and width > 1 and row[0].strip()):
            raise MappingError(mapping.path, f"ligne {line} : {len(row)} champ(s) au lieu de {width} — fichier "
                                             "tronqué ou séparateur différent", source)
        yield line, row


def _csv_rows(mapping: Mapping, stream, source: Path):
    try:
        yield from csv.reader(stream, delimiter=mapping.separateur)
    except UnicodeDecodeError as e:
        raise MappingError(mapping.path, f"encodage {mapping.encodage} invalide ({e.reason})", source) from e
    except csv.Error as e:
        raise MappingError(mapping.path, f"CSV illisible ({e})", source) from e


UNICODE_ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}


def looks_utf8(path: Path, block: int = 1 << 20) -> bool:
    """True if the file has non-ASCII bytes and all of them form valid UTF-8 (read block by block)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    non_ascii = False
    with open(path, "rb") as f:
        for data in iter(lambda: f.read(block), b""):
            try:
                decoder.decode(data)
            except UnicodeDecodeError:
                return False
            non_ascii = non_ascii or not data.isascii()
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return non_ascii


def check_encoding(mapping: Mapping, source: Path):
    """A UTF-8 file read with a one-byte encoding (cp1252, latin-1) would load as mojibake (« Ã© » for
    « é ») without any error: refused. The other way round fails on the first invalid byte."""
    try:
        name = codecs.lookup(mapping.encodage).name
    except LookupError as e:
        raise MappingError(mapping.path, f"encodage « {mapping.encodage} » inconnu", source) from e
    if name not in UNICODE_ENCODINGS and looks_utf8(source):
        raise MappingError(mapping.path, f"le fichier est encodé en UTF-8, mais le mapping indique {mapping.encodage} "
                                         "(csv.encodage) : les accents seraient mal lus ; corrigez l'encodage "
                                         "(utf-8-sig)", source)


@contextlib.contextmanager
def _archive_member(mapping: Mapping, source: Path):
    """The file to read inside a ZIP archive (INSEE publishes its CSV zipped), as a binary stream."""
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as e:
        raise MappingError(mapping.path, f"archive ZIP illisible ou tronquée ({e})", source) from e
    with archive:
        listed = archive.namelist()
        names = [n for n, m in zip(listed, match_all(mapping.path, mapping.membre,
                                                      [n.rsplit("/", 1)[-1] for n in listed])) if m]
        if not names:
            raise MappingError(mapping.path, f"aucun fichier de l'archive ne correspond à « {mapping.membre} » "
                                             f"(contenu : {', '.join(archive.namelist())[:300]})", source)
        try:
            with archive.open(names[0]) as member:
                yield member
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:  # a member cut in the middle fails while read
            raise MappingError(mapping.path, f"archive ZIP tronquée ou corrompue ({names[0]} : {e})", source) from e


@contextlib.contextmanager
def open_table(mapping: Mapping, source: Path):
    """The producer file as a Table whose rows are read while they are consumed (files of millions of rows)."""
    source = Path(source)
    if mapping.membre:
        if mapping.format != "csv":
            raise MappingError(mapping.path, "csv.membre : seuls les CSV sont lus dans une archive", source)
        with _archive_member(mapping, source) as member:
            try:
                stream = io.TextIOWrapper(member, encoding=mapping.encodage, newline="")
            except LookupError as e:
                raise MappingError(mapping.path, f"encodage inconnu ({e})", source) from e
            yield _table(mapping, _csv_rows(mapping, stream, source), source)
        return
    if mapping.format == "csv":
        check_encoding(mapping, source)
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
            matching = [n for n, m in zip(names, match_all(mapping.path, mapping.feuille, names)) if m]
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
            close = difflib.get_close_matches(name, [h for h in table.header if h], n=1, cutoff=0.8)
            hint = f"colonne voisine : « {close[0]} » ; " if close else ""
            raise MappingError(mapping.path, f"colonne « {name} » ({role}) absente du fichier "
                                             f"({hint}colonnes disponibles : {available})", source)
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
            matches = match_all(mapping.path, indicator["colonnes"], table.header)
            found = [(i, column_year(m.group(1))) for i, m in enumerate(matches) if m]
            if not found:
                raise MappingError(mapping.path, f"aucune colonne ne correspond à « {indicator['colonnes']} » "
                                                 f"(indicateur {indicator['code']})", source)
            plan["indicators"].append((indicator, found))
        else:
            plan["indicators"].append((indicator, [(need(indicator["colonne"], f"indicateur {indicator['code']}"),
                                                    None)]))
    return plan


def column_year(text: str) -> int:
    """The year in a column name: PMUN2022 → 2022; INSEE's short forms P22_POP, MED21 → 2022, 2021."""
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _fixed_year(mapping: Mapping, table: Table, source: Path, vintage: str | None = None) -> int | None:
    if isinstance(mapping.annee, int):
        return mapping.annee
    if mapping.annee == "millesime":
        if vintage is None or not re.fullmatch(r"\d{4}", str(vintage)):
            raise MappingError(mapping.path, f"année des valeurs inconnue : le mapping prend le millésime du "
                                             f"fichier épinglé (ici « {vintage or 'aucun'} »)", source)
        return int(vintage)
    if isinstance(mapping.annee, dict) and mapping.annee.get("feuille"):
        match = match_all(mapping.path, mapping.annee["feuille"], [table.sheet or ""], search=True)[0]
        if not match:
            raise MappingError(mapping.path, f"année introuvable dans le nom de feuille « {table.sheet} » "
                                             f"(motif {mapping.annee['feuille']})", source)
        return int(match.group(1) if match.groups() else match.group(0))
    return None


def cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else strip_controls(str(value)).strip()


def extract(mapping: Mapping, table: Table, source: Path, known: set[str], vintage: str | None = None) -> Extract:
    plan = _columns(mapping, table, source)
    fixed_year = _fixed_year(mapping, table, source, vintage)
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
                        if not math.isfinite(number):
                            raise MappingError(mapping.path, f"ligne {line}, colonne « {table.header[index]} » : "
                                                             "nombre hors limites après l'échelle", source)
                key = (indicator["code"], code, value_year)
                if key in seen:
                    result.duplicates += 1
                    if mapping.doublons == "somme" and number is not None:
                        number += result.rows[seen[key]][4] or 0
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
            "source_url": mapping.url, "licence": mapping.licence, "bloc": indicator.get("bloc", mapping.bloc),
        })
    for order, entry in enumerate(mapping.derives, start=len(mapping.indicateurs) + 1):
        entries.append({
            "code": entry["code"], "libelle": entry["libelle"], "unite": entry.get("unite"), "niveaux": mapping.niveau,
            "type": "nombre", "decimales": entry.get("decimales"), "theme": entry.get("theme"),
            "ordre": entry.get("ordre", 1000 + order), "description": entry.get("description"),
            "source": f"{mapping.producteur} — {mapping.titre} ; calcul Open Collectivités",
            "source_url": mapping.url, "licence": mapping.licence, "bloc": mapping.bloc,
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
    summed: bool = False
    computed: computed_values.Computed = field(default_factory=computed_values.Computed)
    empty: list[str] = field(default_factory=list)  # indicators of the mapping without any value

    def lines(self) -> list[str]:
        years = ", ".join(str(y) for y in self.years) or "—"
        out = [
            f"Mapping {self.mapping} : {fmt(self.values)} valeurs chargées depuis {self.source}",
            f"  indicateurs : {', '.join(self.indicators)} ; années : {years}",
            f"  lignes lues : {fmt(self.lines_read)} ; sans code : {fmt(self.lines_without_code)} ; "
            f"écartées par les filtres : {fmt(self.lines_filtered)} ; "
            f"doublons {'additionnés' if self.summed else 'remplacés'} : {fmt(self.duplicates)}",
        ]
        computed = self.computed
        if computed.aggregated or computed.incomplete or computed.ratios:
            out.append(f"  calculées : {fmt(computed.aggregated)} sommes pour les EPCI, départements et régions "
                       f"({fmt(computed.incomplete)} omises faute de valeur pour toutes leurs communes), "
                       f"{fmt(computed.ratios)} ratios")
        if self.empty:
            out.append(f"  sans aucune valeur : {', '.join(self.empty)} (colonne ou libellé à vérifier)")
        if self.unknown_count:
            out.append(f"  codes de territoire inconnus : {fmt(self.unknown_count)} "
                       f"(par exemple {', '.join(self.unknown_examples)}) — valeurs non chargées")
        else:
            out.append("  codes de territoire inconnus : 0")
        return out


def fmt(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def check_file(mapping: Mapping, source: Path, vintage: str | None = None):
    """Does the file fit the mapping? Every column it names is in the header, the year can be told, every
    line is whole and decodes: `oc sources --update` refuses a file the build could not load."""
    with open_table(mapping, source) as table:
        _columns(mapping, table, Path(source))
        _fixed_year(mapping, table, Path(source), vintage)
        for _ in table.rows:
            pass


def load(conn: sqlite3.Connection, mapping: Mapping, source: Path, origin: str | None = None,
         vintage: str | None = None, sha256: str | None = None) -> Report:
    """Read `source` through `mapping` and write catalogue, source and values (caller commits).

    `vintage`: the pinned file's millésime (lock), the year of the values when the mapping says
    `annee: millesime`; `sha256`: the file's, when already known (a big file is not hashed twice)."""
    source = Path(source)
    catalogue.ensure_schema(conn)
    with open_table(mapping, source) as table:
        extracted = extract(mapping, table, source, catalogue.known_codes(conn, mapping.niveau), vintage)
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
        conn, producteur=mapping.producteur, titre=mapping.titre, url=mapping.url,
        fichier=public_location(origin or source),  # published: an address or a file name, no machine path
        millesime=mapping.millesime or vintage or ", ".join(str(y) for y in years) or "inconnu",
        sha256=sha256 or sha256_of(source), mapping=mapping.name,
        nb_valeurs=len(extracted.rows), nb_codes_inconnus=len(unknown),
        exemples_codes_inconnus=", ".join(unknown[:EXAMPLES]) or None, note=note,
    )
    catalogue.insert_values(conn, extracted.rows, source_id)
    computed = computed_values.apply(conn, mapping, source_id)
    if computed.aggregated or computed.ratios:
        catalogue.update_source(conn, source_id, nb_valeurs=conn.execute(
            "SELECT count(*) FROM valeurs WHERE source = ?", (source_id,)).fetchone()[0])
        for entry in entries:
            levels = set(computed_values.levels_with_values(conn, entry["code"])) | set(entry["niveaux"].split(","))
            conn.execute("UPDATE indicateurs SET niveaux = ? WHERE code = ?",
                         (",".join(lvl for lvl in SMALLEST_FIRST if lvl in levels), entry["code"]))
    catalogue.drop_orphan_sources(conn)
    catalogue.refresh_views(conn)
    return Report(
        mapping=mapping.name, source=origin or str(source), values=len(extracted.rows),
        indicators=[i["code"] for i in mapping.indicateurs], years=years, unknown_count=len(unknown),
        unknown_examples=unknown[:EXAMPLES], lines_read=extracted.lines_read,
        lines_without_code=extracted.lines_without_code, lines_filtered=extracted.lines_filtered,
        duplicates=extracted.duplicates, summed=mapping.doublons == "somme", computed=computed,
        empty=[i["code"] for i in mapping.indicateurs if i["code"] not in {row[0] for row in extracted.rows}],
    )


def download(url: str, directory: Path) -> Path:
    """A producer file into `directory`, through the loaders' one HTTP client (retries, size cap, cut transfers)."""
    target = directory / (Path(url.split("?")[0]).name or "telechargement")
    try:
        return http.download(url, target).path
    except http.FetchError as e:
        raise SourceError(f"téléchargement impossible : {e} ({url})") from e


@dataclass
class Located:
    """The file a build or a load reads for a mapping, and what is known of it."""

    path: Path
    origin: str  # shown and stored in sources_donnees.fichier
    vintage: str | None = None
    sha256: str | None = None
    entry: producer_lock.Entry | None = None


def locate(mapping: Mapping, entries: dict, cache: Path, verify: bool = True) -> Located | str:
    """The mapping's file for the build: its fichier_local, else its pinned file in the cache (verified;
    `verify=False` checks only its size, to list the mappings quickly). A string says, in French, why there is none."""
    local = mapping.local_file()
    if local is not None and local.exists():
        return Located(local, str(local))
    name = mapping.path.stem
    if mapping.rule is None:
        where = f" ({local})" if local else ""
        return f"fichier local absent{where} ; chargez-le avec `oc indicators load {name}`"
    entry = entries.get(name)
    if entry is None:
        return (f"fichier du producteur pas encore épinglé dans {producer_lock.default_path().name} "
                f"(en ligne : `oc sources --update {name}`)")
    path = entry.path(cache)
    if not path.exists():
        return f"fichier du producteur absent du cache ({path}) ; lancez `oc sources` en ligne"
    if path.stat().st_size != entry.taille:
        return f"fichier du cache altéré ({path} : taille différente du verrou) ; supprimez-le et lancez `oc sources`"
    digest = sha256_of(path) if verify else entry.sha256
    if digest != entry.sha256:
        return f"fichier du cache altéré ({path} : SHA-256 différente du verrou) ; supprimez-le et lancez `oc sources`"
    return Located(path, entry.url, vintage=entry.millesime, sha256=digest, entry=entry)


def served_levels(mapping: Mapping) -> str:
    """The levels a mapping gives values to: its own, and the levels above when it sums commune values."""
    levels = [mapping.niveau]
    if any(i.get("agregation") for i in mapping.indicateurs):
        levels += LEVELS[mapping.niveau].parents
    return ",".join(levels)


def record(conn: sqlite3.Connection, mapping: Mapping, located: Located | None, reason: str | None = None):
    """Note in fichiers_producteurs whether the mapping's data are in the base (the fiches say when not)."""
    catalogue.ensure_schema(conn)
    entry = located.entry if located else None
    catalogue.record_producer_file(
        conn, mapping=mapping.path.stem, producteur=mapping.producteur, titre=mapping.titre, niveaux=served_levels(mapping),
        bloc=mapping.bloc, page=mapping.url, charge=0 if located is None else 1, motif=hide_paths(reason),
        url=entry.url if entry else public_location(located.origin if located else mapping.telechargement),
        millesime=entry.millesime if entry else mapping.millesime, sha256=located.sha256 if located else None,
        date_recuperation=entry.date_recuperation if entry else None,
    )


def load_into_db(db_path: Path, mapping: Mapping, source: str | None, vintage: str | None = None) -> Report:
    """Load into an existing oc.db: work on a copy, swap it in only when everything succeeded.

    Without `source`: the mapping's fichier_local, else its pinned file in the cache, else its
    download address. `vintage`: the year of the values for a mapping that takes it from the pinned file."""
    if not Path(db_path).exists():
        raise SourceError("base absente : lancez d'abord `oc build`", Path(db_path).resolve())
    located = None
    if source is None:
        found = locate(mapping, producer_lock.read(), producer_lock.cache_dir())
        if isinstance(found, Located):
            located = found
        elif mapping.telechargement or (mapping.rule and mapping.rule.type == "fichier"):
            source = mapping.telechargement or mapping.rule.url
        else:
            raise MappingError(mapping.path, f"donnez un fichier ou une URL : {found}")
    db_path = Path(db_path).resolve()
    # the download goes beside the database, under its lock: a stale one is removed by the next change
    with updating_copy(db_path, "mapping") as conn, \
            tempfile.TemporaryDirectory(prefix=f".{db_path.name}.telechargement-", dir=db_path.parent) as workdir:
        if located is None:
            if re.match(r"^https?://", source):
                located = Located(download(source, Path(workdir)), source)
            else:
                if not Path(source).exists():
                    raise SourceError("fichier absent", Path(source))
                located = Located(Path(source), str(Path(source)))
        with conn:
            report = load(conn, mapping, located.path, origin=located.origin,
                          vintage=vintage or located.vintage, sha256=located.sha256)
            record(conn, mapping, located)
        conn.execute("ANALYZE")
    return report


def build_step(db, ctx):
    """`oc build` step: every mapping whose file is at hand (fichier_local, or pinned file in the cache).

    The others are one line of the report each and a row of fichiers_producteurs, so that the fiches
    say which data were not loaded; the build goes on. A file that does not fit its mapping fails the
    build (the previous oc.db stays)."""
    directory = Path(ctx.options.get("mappings_dir") or DEFAULT_DIR)
    if not directory.is_dir():
        return
    entries = producer_lock.read()
    cache = producer_lock.cache_dir()
    for path in sorted(directory.glob("*.yml")):
        mapping = parse_mapping(path)
        found = locate(mapping, entries, cache)
        if not isinstance(found, Located):
            ctx.reporter.echo(f"Mapping {mapping.name} : données non chargées — {found}.")
            record(db.conn, mapping, None, found)
            db.conn.commit()
            continue
        with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}"):
            report = load(db.conn, mapping, found.path, origin=found.origin, vintage=found.vintage,
                          sha256=found.sha256)
            record(db.conn, mapping, found)
            db.conn.commit()
        for line in report.lines():
            ctx.reporter.echo(line)
