"""Extracting values from a table through its mapping: codes (zeros restored, split keys), years (fixed,
per row, per sheet, per column), numbers and texts, filters, duplicates; pure, nothing is written.
`check_file` tells whether a file fits its mapping without keeping anything."""

import difflib
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from oc_site.levels import LEVELS
from oc_site.text import strip_controls

from ...common.numbers import parse_number
from .. import computed
from .spec import Mapping, MappingError, columns_for_year, match_all, per_year_columns
from .tables import Table, normalize_header, open_table

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
        width = LEVELS[level].code_width
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
        keep = not isinstance(allowed, dict)  # {sauf: values}: every row but those
        allowed = allowed["sauf"] if not keep else allowed
        allowed = allowed if isinstance(allowed, list) else [allowed]
        plan["filters"][need(name, "filtre")] = (keep, {str(a) for a in allowed})
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
    width = LEVELS[mapping.niveau].code_width
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
        if any((cell_text(cells[i]) in values) != keep for i, (keep, values) in plan["filters"].items()):
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


def check_file(mapping: Mapping, source: Path, vintage: str | None = None):
    """Does the file fit the mapping? Every column it names is in the header, the year can be told, every
    line is whole and decodes: `oc sources --update` refuses a file the build could not load."""
    with open_table(mapping, source) as table:
        _columns(mapping, table, Path(source), _file_year(mapping, table, Path(source), vintage))
        _fixed_year(mapping, table, Path(source), vintage)
        for _ in table.rows:
            pass
