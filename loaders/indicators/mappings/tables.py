"""Reading a producer file as a table: CSV (separator, encoding checked), XLSX (sheet chosen by a
pattern) or a CSV inside a ZIP file (`csv.membre`); the header row is searched in the first rows and
the data rows are read as they are consumed (files of millions of rows)."""

import codecs
import contextlib
import csv
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .spec import Mapping, MappingError, match_all

HEADER_SEARCH_ROWS = 40


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
def zip_member(mapping: Mapping, source: Path):
    """The file to read inside a ZIP file (`csv.membre`: INSEE publishes its CSV zipped), as a binary stream."""
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
        with zip_member(mapping, source) as member:
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
