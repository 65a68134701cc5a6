"""The canned queries of the oc database: the .sql files of queries/ (see oc_site/queries.py)."""

from datasette import hookimpl

from oc_site import queries
from oc_site.pages import DATABASE

CANNED = queries.load()  # read once: the files only change with a new deployment


@hookimpl
def canned_queries(database):
    return CANNED if database == DATABASE else {}
