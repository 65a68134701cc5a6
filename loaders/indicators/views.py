"""What is published from the value tables (store.py), regenerated after the build and after every load:

- `indicateurs_millesimes`: per indicator, level and year, the number of values and their sources, and the
  main vintage (`dernier_millesime`);
- the wide tables `valeurs_<niveau>_large`: one row per territory, one column per indicator of the level at
  its main vintage — materialised (a whole-France export reads a table, not 35,000 × 45 lookups);
- the views `valeurs` (every value in the long form of the loading format: indicateur, niveau, code, annee,
  valeur, valeur_texte, source — analysts' SQL and `oc indicators load` keep working) and
  `valeurs_dernier_millesime` (the values at their main vintage).
"""

import sqlite3
from collections import defaultdict

from oc_site.levels import LEVELS, SMALLEST_FIRST

from . import store
from .store import KINDS, YEAR, quote

# The main vintage of an indicator at a level (the column of the wide table): the latest one that covers at
# least half as many territories as the best-covered vintage. A few territories have other census years
# (Mayotte 2017, Polynésie française 2022, Nouvelle-Calédonie 2025): their values stay in the value tables,
# never in a column labelled with another year.
VIEW_VINTAGES_SQL = """
WITH counts AS (
    SELECT indicateur, annee, nb_valeurs AS n FROM indicateurs_millesimes WHERE niveau = ?
), best AS (
    SELECT indicateur, max(n) AS n FROM counts GROUP BY indicateur
)
SELECT c.indicateur, max(c.annee), i.type
FROM counts c JOIN best b ON b.indicateur = c.indicateur JOIN indicateurs i ON i.code = c.indicateur
WHERE c.n * 2 >= b.n
GROUP BY c.indicateur
ORDER BY min(i.ordre IS NULL), min(i.ordre), c.indicateur
"""
LONG_COLUMNS = ("indicateur", "niveau", "code", "annee", "valeur", "valeur_texte", "source")


def refresh(conn: sqlite3.Connection):
    """Empty source columns and rows dropped, then the table of vintages, the wide tables and the views."""
    store.tidy(conn)
    vintages(conn)
    for level in SMALLEST_FIRST:
        wide_table(conn, level)
    long_views(conn)


def vintages(conn: sqlite3.Connection):
    """indicateurs_millesimes, counted in the value tables: one pass per table and source column."""
    conn.execute("DROP TABLE IF EXISTS indicateurs_millesimes")
    conn.execute("""
        CREATE TABLE indicateurs_millesimes (
            indicateur TEXT NOT NULL REFERENCES indicateurs(code),
            niveau TEXT NOT NULL,
            annee INTEGER NOT NULL,
            nb_valeurs INTEGER NOT NULL,
            dernier_millesime INTEGER NOT NULL,
            sources TEXT,
            PRIMARY KEY (indicateur, niveau, annee)
        )""")
    counts = defaultdict(lambda: defaultdict(int))  # (indicator, level, year) → source → values
    for table, level in store.tables(conn).items():
        for group, members in store.groups(conn, table).items():
            tallies = ", ".join(f"count({quote(c)})" for c in members)
            for year, source, *numbers in conn.execute(
                    f"SELECT {YEAR}, {quote(group)}, {tallies} FROM {quote(table)} GROUP BY {YEAR}, {quote(group)}"):
                for indicator, n in zip(members, numbers):
                    if n:
                        counts[indicator, level, year][source] += n
    conn.executemany(
        "INSERT INTO indicateurs_millesimes VALUES (?, ?, ?, ?, 0, ?)",
        [(indicator, level, year, sum(by_source.values()), ",".join(str(s) for s in sorted(by_source)))
         for (indicator, level, year), by_source in sorted(counts.items())])
    for level in SMALLEST_FIRST:
        conn.executemany(
            "UPDATE indicateurs_millesimes SET dernier_millesime = 1 WHERE indicateur = ? AND niveau = ? AND annee = ?",
            [(indicator, level, year) for indicator, year, _ in conn.execute(VIEW_VINTAGES_SQL, (level,)).fetchall()])


def main_vintages(conn: sqlite3.Connection, level: str) -> list[tuple[store.Column, int]]:
    """The columns of the level's wide table: each indicator with its main vintage, in the catalogue's order."""
    where = store.registry(conn)
    return [(where[indicator, level], year) for indicator, year, _ in conn.execute(VIEW_VINTAGES_SQL, (level,))
            if (indicator, level) in where]


def drop(conn: sqlite3.Connection, name: str):
    """Drop a table or a view (the wide tables were views in databases built before them)."""
    kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    if kind:
        conn.execute(f"DROP {kind[0].upper()} {name}")


def wide_table(conn: sqlite3.Connection, level: str):
    """valeurs_<niveau>_large: the territory's code, name and context, then one column per indicator at its
    main vintage, read in the value tables by one join per (table, year)."""
    spec = LEVELS[level]
    declared = ["code TEXT PRIMARY KEY", "nom TEXT", *(f"{c} TEXT" for c in spec.view_context)]
    selected = [f"t.{spec.key}", "t.nom", *(f"t.{c}" for c in spec.view_context)]
    joins = {}
    for column, year in main_vintages(conn, level):
        alias = joins.setdefault((column.table, year), f"v{len(joins) + 1}")
        declared.append(f"{quote(column.indicator)} {KINDS[column.kind]}")
        selected.append(f"{alias}.{quote(column.indicator)}")
    drop(conn, spec.wide_view)
    conn.execute(f"CREATE TABLE {spec.wide_view} (\n    " + ",\n    ".join(declared) + "\n) WITHOUT ROWID")
    joined = "".join(f"\nLEFT JOIN {quote(table)} {alias} ON {alias}.{spec.key} = t.{spec.key} AND {alias}.{YEAR} = {int(year)}"
                     for (table, year), alias in joins.items())
    conn.execute(f"INSERT INTO {spec.wide_view}\nSELECT {', '.join(selected)}\nFROM {spec.table} t{joined}\n"
                 f"ORDER BY t.{spec.key}")
    for column in spec.view_context:  # the territories of a département, a région, an EPCI (canned queries, exports)
        if column in LEVELS:
            conn.execute(f"CREATE INDEX idx_{spec.wide_view}_{column} ON {spec.wide_view}({column})")


def arm(column: store.Column, year: int | None = None) -> str:
    """One indicator at one level in the long form: a SELECT of its column."""
    value, text = (quote(column.indicator), "NULL") if column.kind != "texte" else ("NULL", quote(column.indicator))
    literal = column.indicator.replace("'", "''")
    condition = f"{quote(column.indicator)} IS NOT NULL" + (f" AND {YEAR} = {int(year)}" if year is not None else "")
    return (f"SELECT '{literal}' AS indicateur, '{column.level}' AS niveau, {column.key} AS code, {YEAR}, "
            f"{value} AS valeur, {text} AS valeur_texte, {quote(column.source)} AS source "
            f"FROM {quote(column.table)} WHERE {condition}")


def _long_view(name: str, arms: list[str]) -> str:
    if not arms:  # no value table yet: the view exists, empty, with its columns
        arms = ["SELECT " + ", ".join(f"NULL AS {c}" for c in LONG_COLUMNS) + " WHERE 0"]
    return f"CREATE VIEW {name} AS\n" + "\nUNION ALL\n".join(arms)


def ordered_columns(conn: sqlite3.Connection) -> list[store.Column]:
    """Every stored column: level by level (communes first), table by table, in each table's order."""
    where = store.registry(conn)
    found = []
    for level in SMALLEST_FIRST:
        for table, table_level in store.tables(conn).items():
            if table_level == level:
                found += [where[name, level] for name in store.columns_of(conn, table) if (name, level) in where
                          and where[name, level].table == table]
    return found


def long_views(conn: sqlite3.Connection):
    """The views `valeurs` and `valeurs_dernier_millesime`, one SELECT per column of the value tables."""
    columns = ordered_columns(conn)
    latest = {(i, n): a for i, n, a in conn.execute(
        "SELECT indicateur, niveau, annee FROM indicateurs_millesimes WHERE dernier_millesime = 1")}
    for name in ("valeurs", "valeurs_dernier_millesime"):
        drop(conn, name)
    conn.execute(_long_view("valeurs", [arm(c) for c in columns]))
    conn.execute(_long_view("valeurs_dernier_millesime",
                            [arm(c, latest[c.indicator, c.level]) for c in columns
                             if (c.indicator, c.level) in latest]))


def build_step(db, ctx):
    """`oc build` step, once every value is written: the vintages, the wide tables and the long views."""
    with ctx.reporter.step("Indicateurs : millésimes, tables larges et vues"):
        refresh(db.conn)
        db.conn.commit()
