"""The SQL of a complete export: ONE statement that selects every row a table page or a canned query shows.

Datasette 0.65.5 streams a table's CSV (`_stream=on`) one page of `_size` rows after another, each page
a query that starts after the last row of the previous one (keyset pagination). Its first page is
sorted on the sort column alone (`ORDER BY population DESC`), the next ones on the sort column then the
primary key (`ORDER BY population DESC, code_insee`): when a page ends among equal values, these rows
come in one order on the first page and in another on the second, so that some come twice (Ennery, Jaux
and Fégréac, three communes of 2 243 inhabitants, in the full CSV of `communes`) and others could be
lost. A canned query has no pages at all: its CSV stops at max_returned_rows (5 000) without a word.

Here an export is one statement, read to its end by http/exports.py: no page, hence no page boundary.
It selects what Datasette's table page selects — the same filters (`col__op=value`, and every
`filters_from_request` hook: `_where`, `_search`, `_through`), the same sort (`_sort`, `_sort_desc`, else
the table's metadata), the same columns (`_col`, `_nocol`; `rowid` first for a table without primary
key) and the foreign-key labels of `_labels`/`_label` (a `<column>_label` column after each, as in
Datasette's CSV) — in a total order: ties of the sort column follow the primary key, as on Datasette's
later pages. A canned query is its own SQL with the request's parameters, bound as QueryView binds them.

What a table is made of (`describe`) is read on the export's own connection, in its thread: an export
asks nothing of Datasette's SQL threads, which the visitors' SQL may keep busy.
"""

import hashlib
import itertools
import sqlite3
from dataclasses import dataclass, field

from datasette.filters import Filters
from datasette.plugins import pm
from datasette.utils import (await_me_maybe, derive_named_parameters, escape_sqlite, get_outbound_foreign_keys,
                             path_from_row_pks, path_with_format, table_column_details, value_as_boolean)
from datasette.views.base import ureg


class ExportRequestError(Exception):
    """A request that cannot be exported as it is (an unknown column to sort on…): HTTP 400, in French."""


@dataclass
class Relation:
    """A table or a view as SQLite describes it."""

    name: str
    is_view: bool
    columns: list[str]
    pks: list[str]
    foreign_keys: list[dict]  # Datasette's {column, other_table, other_column}, with other_columns added


def describe(conn: sqlite3.Connection, name: str) -> Relation | None:
    """The table or view `name`, None if there is none (run in the export's thread)."""
    row = conn.execute("SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')",
                       (name,)).fetchone()
    if row is None:
        return None
    details = table_column_details(conn, name)
    is_view = row[0] == "view"
    pks = [] if is_view else [c.name for c in sorted((c for c in details if c.is_pk), key=lambda c: c.is_pk)]
    foreign_keys = [] if is_view else [
        {**fk, "other_columns": [c.name for c in table_column_details(conn, fk["other_table"])]}
        for fk in get_outbound_foreign_keys(conn, name)]
    return Relation(name, is_view, [c.name for c in details], pks, foreign_keys)


@dataclass
class ExportQuery:
    """One statement selecting every row of an export, in order, and what the writers need besides."""

    database: str
    name: str  # the table, view or canned query, for the file name
    sql: str
    params: dict
    labelled: frozenset = frozenset()  # columns followed by their `<column>_label` column
    table: str | None = None  # a table's name (the addresses of its blobs); None for a view or a query
    pks: list = field(default_factory=list)  # its primary key, or ["rowid"]


def selected_columns(relation: Relation, request) -> list[str]:
    """`_col` and `_nocol` as Datasette's table page reads them: the primary key always stays."""
    columns = relation.columns
    if "_col" in request.args:
        wanted = request.args.getlist("_col")
        unknown = [c for c in wanted if c not in columns]
        if unknown:
            raise ExportRequestError(f"Colonnes inconnues dans _col : {', '.join(unknown)}.")
        columns = list(dict.fromkeys([*relation.pks, *wanted]))
    if "_nocol" in request.args:
        dropped = request.args.getlist("_nocol")
        refused = [c for c in dropped if c not in columns or c in relation.pks]
        if refused:
            raise ExportRequestError(f"Colonnes impossibles à retirer (_nocol) : {', '.join(refused)}.")
        columns = [c for c in columns if c not in dropped]
    return columns


async def filters(datasette, request, database: str, table: str) -> tuple[list[str], dict]:
    """The WHERE clauses of the request and their parameters, built by Datasette's own code."""
    filter_args = [(key, value) for key in request.args if not (key.startswith("_") and "__" not in key)
                   for value in request.args.getlist(key)]
    units = datasette.table_metadata(database, table).get("units", {})
    where, params = Filters(sorted(filter_args), units, ureg).build_where_clauses(table)
    for hook in pm.hook.filters_from_request(request=request, table=table, database=database,
                                             datasette=datasette):
        arguments = await await_me_maybe(hook)
        if arguments:
            where.extend(arguments.where_clauses)
            params.update(arguments.params)
    return where, params


def order_by(metadata: dict, request, relation: Relation, tiebreak: list[str]) -> str:
    """ORDER BY: the page's sort, then `tiebreak` (the primary key), so that the order is total."""
    sort, sort_desc = request.args.get("_sort"), request.args.get("_sort_desc")
    if not sort and not sort_desc:
        sort, sort_desc = metadata.get("sort"), metadata.get("sort_desc")
    if sort and sort_desc:
        raise ExportRequestError("On ne peut pas trier à la fois par _sort et par _sort_desc.")
    sortable = set(metadata.get("sortable_columns") or relation.columns) | set(tiebreak)
    terms = []
    if sort or sort_desc:
        if (sort or sort_desc) not in sortable:
            raise ExportRequestError(f"Impossible de trier par {sort or sort_desc} : colonne inconnue.")
        terms.append(escape_sqlite(sort or sort_desc) + (" DESC" if sort_desc else ""))
    terms += [escape_sqlite(key) for key in tiebreak if key != (sort or sort_desc)]
    return f" ORDER BY {', '.join(terms)}" if terms else ""


def asked_labels(request) -> list[str] | None:
    """The columns whose foreign-key labels are asked for: those of `_label=`, all (None) with `_labels=on`."""
    if "_label" in request.args:
        return request.args.getlist("_label")
    try:
        return None if value_as_boolean(request.args.get("_labels", "")) else []
    except ValueError:
        return []


def label_column(datasette, database: str, fk: dict) -> str | None:
    """The column that names a row of the other table: Datasette's rule (Database.label_column_for_table):
    its metadata's label_column, else a column called name or title, else the other column of a
    two-column table with an id."""
    explicit = datasette.table_metadata(database, fk["other_table"]).get("label_column")
    if explicit:
        return explicit
    columns = fk["other_columns"]
    named = [c for c in columns if c.lower() in ("name", "title")]
    if named:
        return named[0]
    if len(columns) == 2 and ("id" in columns or "pk" in columns):
        return [c for c in columns if c not in ("id", "pk")][0]
    return None


def label_sql(datasette, database: str, relation: Relation, fk: dict) -> str:
    """The label of a foreign key as one more column: the other table's label, else the value as text."""
    outer = f"{escape_sqlite(relation.name)}.{escape_sqlite(fk['column'])}"
    label = label_column(datasette, database, fk)
    if not label:
        return f"CAST({outer} AS TEXT)"
    return (f"(SELECT _autre.{escape_sqlite(label)} FROM {escape_sqlite(fk['other_table'])} AS _autre "
            f"WHERE _autre.{escape_sqlite(fk['other_column'])} = {outer})")


async def table_query(datasette, request, database: str, relation: Relation) -> ExportQuery:
    """Every row the table (or view) page shows with these arguments, in its order."""
    metadata = datasette.table_metadata(database, relation.name)
    use_rowid = not relation.pks and not relation.is_view
    tiebreak = [] if relation.is_view else ["rowid"] if use_rowid else relation.pks
    chosen = selected_columns(relation, request)
    asked = asked_labels(request)
    labels = {fk["column"]: label_sql(datasette, database, relation, fk) for fk in relation.foreign_keys
              if fk["column"] in chosen and (asked is None or fk["column"] in asked)}
    select = (["rowid"] if use_rowid else []) + list(itertools.chain.from_iterable(
        [escape_sqlite(c), f"{labels[c]} AS {escape_sqlite(c + '_label')}"] if c in labels else [escape_sqlite(c)]
        for c in chosen))
    where, params = await filters(datasette, request, database, relation.name)
    sql = (f"SELECT {', '.join(select)} FROM {escape_sqlite(relation.name)}"
           + (" WHERE " + " AND ".join(f"({clause})" for clause in where) if where else "")
           + order_by(metadata, request, relation, tiebreak))
    return ExportQuery(database, relation.name, sql, params, frozenset(labels),
                       None if relation.is_view else relation.name, tiebreak)


async def canned_query(datasette, request, database: str, name: str, query: dict) -> ExportQuery:
    """A canned query's SQL with the request's parameters, bound as Datasette's QueryView binds them:
    every argument of the request, and an empty string for each named parameter it lacks."""
    params = {key: request.args.get(key) for key in request.args if key not in ("sql", "_shape")}
    from datasette.views.database import MagicParameters  # not at the top: that module loads the plugins

    named = query.get("params") or await derive_named_parameters(datasette.get_database(database), query["sql"])
    magic = MagicParameters(params, request, datasette)
    for parameter in named:
        if parameter.startswith("_"):
            params[parameter] = magic[parameter]
        else:
            params.setdefault(parameter, "")
    return ExportQuery(database, name, query["sql"], params)


def blob_url(datasette, request, export: ExportQuery, columns: list[str], row, column: str, value: bytes) -> str:
    """Where a blob cell can be downloaded, as Datasette's CSV writes it: the row's blob page for a table,
    the query's .blob address otherwise."""
    if export.table:
        path = datasette.urls.row_blob(export.database, export.table, path_from_row_pks(
            dict(zip(columns, row)), export.pks, export.pks == ["rowid"]), column)
    else:
        path = path_with_format(request=request, format="blob", replace_format=request.path.rsplit(".", 1)[-1],
                                extra_qs={"_blob_column": column, "_blob_hash": hashlib.sha256(value).hexdigest()})
    return datasette.absolute_url(request, path)
