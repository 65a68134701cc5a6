"""Client errors answer 4xx with the site's error page, never 500.

Datasette 0.65 answers 500 to some requests that are the client's doing: a sort on an unknown
column (`?_sort=zz`), a `_through` that does not exist, and any SQL error that is not an
OperationalError (« string or blob too big » is a DataError, a query past SQLite's heap limit a
MemoryError; see sqlite_limits.py). The site's own pages (fiches, search, comparison) let
SQLite errors and time-outs through too. They become HTTP 400 here, with a French message, rendered
by Datasette's own error handler (the theme's error page, or JSON for a .json address).
"""

import sqlite3

from datasette.database import QueryInterrupted
from datasette.handle_exception import handle_exception as datasette_error_page
from datasette.views.base import DatasetteError

from oc_site.datasette_pages import sqlite_limits as limites

# DatasetteError messages raised with Datasette's default status 500 for a bad request
CLIENT_MESSAGES = ("Cannot sort table by ", "Cannot use _sort and _sort_desc at the same time",
                   "Invalid _through")
TIMEOUT = ("La requête SQL a pris trop de temps et a été interrompue (délai maximal : {} ms). "
           "Simplifiez la demande.")


def as_client_error(datasette, exception) -> DatasetteError | None:
    """The 400 error an exception should have been, or None to leave it to Datasette."""
    if isinstance(exception, DatasetteError):
        if exception.status == 500 and str(exception.message).startswith(CLIENT_MESSAGES):
            return DatasetteError(exception.message, title=exception.title, status=400)
        return None
    if isinstance(exception, QueryInterrupted):
        return DatasetteError(TIMEOUT.format(datasette.setting("sql_time_limit_ms")),
                              title="SQL Interrupted", status=400)
    if isinstance(exception, (sqlite3.DatabaseError, MemoryError)):
        message = limites.french_message(exception)
        if message is not None:
            return DatasetteError(message, title="Invalid SQL", status=400)
    return None


def handle_exception(datasette, request, exception):
    error = as_client_error(datasette, exception)
    if error is None:
        return None
    return datasette_error_page(datasette=datasette, request=request, exception=error)
