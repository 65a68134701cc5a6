"""SQLite limits on every connection the site opens (the `oc` database, `_memory`, `_internal`):
string and blob length, LIKE patterns, result size, the functions that escape the time limit, the
heap of the process. What and why: oc_site/limites.py."""

from datasette import hookimpl

from oc_site import limites


@hookimpl
def prepare_connection(conn):
    limites.restrict(conn)
    limites.limit_heap(conn)
