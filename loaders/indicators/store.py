"""The indicators' values as analysts read them: per source and level, a typed table with one row per
territory and year and one column per indicator — `dgcl_criteres_communes (code_insee, annee, dgf_totale,
dsu, …, source)`, `populations_epci (siren, annee, population_municipale, …)`.

- The registry says where each value lives: `indicateurs_tables` (one row per table: level, title,
  description) and `indicateurs_colonnes` (each indicator's table at each level, and the column that holds
  the source of its values). The column of an indicator is named after its code.
- Source columns: a table filled from one producer file per territory and year has one, `source` (the sums
  of its members' values have the source of their computation: computed.py, `source: distincte`); a table
  that several producers write into (the populations) has one per group of columns.
- Loaders hand over rows of the loading format, (indicateur, niveau, code, annee, valeur, valeur_texte
  [, source]): `write` pivots them into the tables. In each row it writes, a load takes the whole group of
  its source column: cells of that group it does not give are emptied when the row changes source (they
  came from the load it replaces), so that every cell's source is the one its row names.
- Numbers are stored at their real precision: binary float artefacts (705.4029000000002, 15.950000000000001,
  sums of decimals, files written by a float printer) are removed by `clean`; integers stay integers.

The long form survives as the view `valeurs` (views.py), for analysts' SQL and `oc indicators load`.
"""

import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from oc_site.levels import LEVELS

YEAR = "annee"
SOURCE = "source"  # the source column of a producer's file
KINDS = {"nombre": "NUMERIC", "texte": "TEXT"}


@dataclass(frozen=True)
class Column:
    """Where the values of an indicator at a level are stored."""

    indicator: str  # its code, and the name of its column
    level: str
    table: str
    source: str  # the column holding the source of its values
    kind: str = "nombre"  # nombre (NUMERIC: integers stay integers) or texte

    @property
    def key(self) -> str:
        """The table's territory column: code_insee, siren or code (the territory table's key)."""
        return LEVELS[self.level].key


def table_name(stem: str, level: str) -> str:
    """populations + commune → populations_communes; dgcl_criteres + epci → dgcl_criteres_epci."""
    return f"{stem}_{LEVELS[level].table}"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def clean(value):
    """A number without binary float artefacts: 15 significant digits are what a double holds of a decimal
    number, the 16th and 17th are noise (15.950000000000001 → 15.95). Integral floats stay floats here:
    the NUMERIC columns store them as integers."""
    if isinstance(value, float):
        return float(f"{value:.15g}")
    return value


# --- registry --------------------------------------------------------------------------------------

def registry(conn: sqlite3.Connection) -> dict[tuple[str, str], Column]:
    """(indicator, level) → Column, for every indicator stored."""
    return {(indicator, level): Column(indicator, level, table, source, kind or "nombre")
            for indicator, level, table, source, kind in conn.execute("""
                SELECT c.indicateur, c.niveau, c.nom_table, c.colonne_source, i.type
                FROM indicateurs_colonnes c LEFT JOIN indicateurs i ON i.code = c.indicateur""")}


def tables(conn: sqlite3.Connection) -> dict[str, str]:
    """Table name → level, for every value table."""
    return dict(conn.execute("SELECT nom, niveau FROM indicateurs_tables ORDER BY nom"))


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns of a table of the main database (none when absent there, even if an attached one has it)."""
    return [row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?, 'main') ORDER BY cid", (table,))]


def declare(conn: sqlite3.Connection, columns: list[Column], titles: dict[str, tuple[str, str]]) -> list[Column]:
    """Give each indicator not yet stored at its level a column (and its source column) in its table; an
    indicator already stored keeps its place. A new table is created with its indicators' columns, then
    their source columns; `titles`: table → (title, description) of the tables it may create. Returns where
    each indicator is stored."""
    known = registry(conn)
    placed, new = [], defaultdict(list)
    for column in columns:
        if (column.indicator, column.level) in known:
            placed.append(known[column.indicator, column.level])
        elif column not in new[column.table]:
            new[column.table].append(column)
            placed.append(column)
    for table, added in new.items():
        level = added[0].level
        existing = columns_of(conn, table)
        sources = list(dict.fromkeys([c.source for c in known.values() if c.table == table]
                                     + [c.source for c in added]))
        reserved = {LEVELS[level].key, YEAR, *sources}
        for column in added:
            if column.level != level:
                raise ValueError(f"table de valeurs {table} : niveaux {level} et {column.level} mêlés")
            if column.indicator in reserved or column.indicator in existing:
                raise ValueError(f"indicateur {column.indicator} : {table} a déjà une colonne de ce nom "
                                 "(clé, année, source ou autre indicateur)")
        clash = [s for s in sources if s in existing and s not in {c.source for c in known.values()
                                                                    if c.table == table}]
        if clash:
            raise ValueError(f"colonne de source {clash[0]} : c'est déjà un indicateur de {table}")
        if not existing:
            title, description = titles[table]
            key = LEVELS[level].key
            definitions = [f"{key} TEXT NOT NULL", f"{YEAR} INTEGER NOT NULL",
                           *(f"{quote(c.indicator)} {KINDS[c.kind]}" for c in added),
                           *(f"{quote(s)} INTEGER REFERENCES sources_donnees(id)" for s in sources),
                           f"PRIMARY KEY ({key}, {YEAR})"]
            conn.execute(f"CREATE TABLE {quote(table)} (\n    " + ",\n    ".join(definitions) + "\n) WITHOUT ROWID")
            conn.execute("INSERT INTO indicateurs_tables (nom, niveau, titre, description) VALUES (?, ?, ?, ?)",
                         (table, level, title, description))
        else:
            for column in added:
                if column.source not in existing:
                    conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column.source)} "
                                 "INTEGER REFERENCES sources_donnees(id)")
                    existing.append(column.source)
                conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column.indicator)} {KINDS[column.kind]}")
        conn.executemany("INSERT INTO indicateurs_colonnes (indicateur, niveau, nom_table, colonne_source) "
                         "VALUES (?, ?, ?, ?)", [(c.indicator, c.level, c.table, c.source) for c in added])
        known.update({(c.indicator, c.level): c for c in added})
    return placed


def groups(conn: sqlite3.Connection, table: str) -> dict[str, list[str]]:
    """Source column → the indicator columns whose source it holds, in the table's order."""
    stored = {c.indicator: c.source for c in registry(conn).values() if c.table == table}
    found = defaultdict(list)
    for name in columns_of(conn, table):
        if name in stored:
            found[stored[name]].append(name)
    return dict(found)


# --- writing ---------------------------------------------------------------------------------------

def write(conn: sqlite3.Connection, rows, source: int | None = None) -> int:
    """Write rows (indicateur, niveau, code, annee, valeur, valeur_texte) of source `source`, or rows
    carrying their source as a seventh field; returns the number of values written.

    Each (table, source column) is one INSERT … ON CONFLICT per row: the cells written are replaced, and
    the other cells of the same source column are emptied where the row changes source. (The loop runs
    over millions of values in a build: plain locals, one dict lookup per value.)"""
    known = registry(conn)
    pivoted: dict[tuple[str, str], dict[tuple[str, int], list]] = {}  # (table, source column) → (code, year) →
    places = {}  # (indicator, level) → (its rows by (code, year), is it text)     [source, {column: value}]
    count = 0
    for row in rows:
        indicator, level, code, year, value = row[0], row[1], row[2], row[3], row[4]
        origin = source if source is not None else row[6]
        place = places.get((indicator, level))
        if place is None:
            column = known.get((indicator, level))
            if column is None:
                raise ValueError(f"indicateur {indicator} sans colonne au niveau {level} (store.declare d'abord)")
            place = places[indicator, level] = (pivoted.setdefault((column.table, column.source), {}),
                                                column.kind == "texte", column)
        by_key, text, column = place
        cells = by_key.get((code, year))
        if cells is None:
            cells = by_key[code, year] = [origin, {}]
        elif cells[0] != origin:
            raise ValueError(f"{column.table}, {code} {year} : deux sources ({cells[0]} et {origin}) dans la "
                             f"même colonne de source {column.source}")
        if text:
            cells[1][indicator] = row[5]
        else:
            cells[1][indicator] = float(f"{value:.15g}") if value.__class__ is float else value  # clean()
        count += 1
    for (table, group), by_key in pivoted.items():
        _upsert(conn, table, group, by_key)
    return count


def _upsert(conn, table: str, group: str, by_key: dict):
    key = columns_of(conn, table)[0]
    members = groups(conn, table).get(group, [])
    written = [c for c in members if any(c in cells for _, cells in by_key.values())]
    others = [c for c in members if c not in written]
    names = [key, YEAR, group, *written]
    updates = [f"{quote(c)} = excluded.{quote(c)}" for c in written]
    updates += [f"{quote(c)} = CASE WHEN {quote(group)} IS excluded.{quote(group)} THEN {quote(c)} END"
                for c in others]
    updates.append(f"{quote(group)} = excluded.{quote(group)}")
    conn.executemany(
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT ({key}, {YEAR}) DO UPDATE SET {', '.join(updates)}",
        [(code, year, origin, *(cells.get(c) for c in written))
         for (code, year), (origin, cells) in sorted(by_key.items())])


def clear(conn: sqlite3.Connection, columns: list[Column], years: list[int]):
    """Empty the cells of `columns` for `years` (a computation about to be redone), then the rows left empty."""
    by_table = defaultdict(list)
    for column in columns:
        by_table[column.table].append(column)
    marks = ", ".join(str(int(y)) for y in years)
    for table, chosen in by_table.items():
        assignments = ", ".join(f"{quote(c.indicator)} = NULL" for c in chosen)
        conn.execute(f"UPDATE {quote(table)} SET {assignments} WHERE {YEAR} IN ({marks})")
    tidy(conn, list(by_table))


def tidy(conn: sqlite3.Connection, names: list[str] | None = None):
    """A source column without any value in its group is emptied, a row without any value is deleted."""
    for table in names if names is not None else tables(conn):
        grouped = groups(conn, table)
        for group, members in grouped.items():
            conn.execute(f"UPDATE {quote(table)} SET {quote(group)} = NULL WHERE {quote(group)} IS NOT NULL AND "
                         + " AND ".join(f"{quote(c)} IS NULL" for c in members))
        everything = [c for members in grouped.values() for c in members]
        if everything:
            conn.execute(f"DELETE FROM {quote(table)} WHERE " + " AND ".join(f"{quote(c)} IS NULL" for c in everything))


# --- reading ---------------------------------------------------------------------------------------

def referenced_sources(conn: sqlite3.Connection) -> set[int]:
    """The sources some value cites."""
    found = set()
    for table in tables(conn):
        for group in groups(conn, table):
            found.update(r[0] for r in conn.execute(
                f"SELECT DISTINCT {quote(group)} FROM {quote(table)} WHERE {quote(group)} IS NOT NULL"))
    return found


def cells(conn: sqlite3.Connection, column: Column, years=None, source: int | None = None):
    """(code, year, value, source) of one indicator at one level, for some years or one source."""
    conditions = [f"{quote(column.indicator)} IS NOT NULL"]
    if years is not None:
        conditions.append(f"{YEAR} IN ({', '.join(str(int(y)) for y in years)})")
    if source is not None:
        conditions.append(f"{quote(column.source)} = {int(source)}")
    return conn.execute(f"SELECT {column.key}, {YEAR}, {quote(column.indicator)}, {quote(column.source)} "
                        f"FROM {quote(column.table)} WHERE {' AND '.join(conditions)}").fetchall()


def levels_of(conn: sqlite3.Connection, indicator: str) -> set[str]:
    """The levels at which an indicator has at least one value."""
    found = set()
    for column in registry(conn).values():
        if column.indicator == indicator and conn.execute(
                f"SELECT 1 FROM {quote(column.table)} WHERE {quote(indicator)} IS NOT NULL LIMIT 1").fetchone():
            found.add(column.level)
    return found


def count(conn: sqlite3.Connection, source: int) -> int:
    """The number of values that cite `source`."""
    total = 0
    for table in tables(conn):
        for group, members in groups(conn, table).items():
            tally = " + ".join(f"count({quote(c)})" for c in members)
            total += conn.execute(f"SELECT {tally} FROM {quote(table)} WHERE {quote(group)} = ?",
                                  (source,)).fetchone()[0] or 0
    return total
