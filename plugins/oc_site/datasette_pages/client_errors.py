"""Client errors answer 4xx with the site's error page, never 500.

Datasette 0.65 answers 500 to some requests that are the client's doing: a sort on an unknown
column (`?_sort=zz`), a `_through` that does not exist or is not the object it expects
(`_through={"table":"x"}`), a list filter that is not JSON (`population__in=[`), a `_timelimit` that is not
a number, two statements in `_where` (`_where=1;select 1`), the database page in CSV or as a JSON array
without a query (`/oc.csv`, `/oc.json?_shape=array`), and any SQL error that is not an OperationalError
(« string or blob too big » is a DataError, a query past SQLite's heap limit a MemoryError; see
sqlite_limits.py). The site's own pages (fiches, search, comparison) let SQLite errors and time-outs
through too. Each is recognised here by its exception and the parameter that caused it, and becomes an
HTTP 400 with a French message, rendered by Datasette's own error handler (the theme's error page, or JSON
for a .json address).

`send_error_page` gives the HTTP layers (http/request_limits.py) the same page for what they refuse
before Datasette sees the request (a POST, a body too large, a parameter too long).
"""

import json
import sqlite3

from datasette.database import QueryInterrupted
from datasette.handle_exception import handle_exception as datasette_error_page
from datasette.utils import ValueAsBooleanError
from datasette.utils.asgi import Request
from datasette.views.base import DatasetteError

from oc_site.database import DATABASE
from oc_site.datasette_pages import sqlite_limits as limites

# DatasetteError messages raised with Datasette's default status 500 for a bad request
CLIENT_MESSAGES = ("Cannot sort table by ", "Cannot use _sort and _sort_desc at the same time",
                   "Invalid _through")
TIMEOUT = ("La requête SQL a pris trop de temps et a été interrompue (délai maximal : {} ms). "
           "Simplifiez la demande.")
ONE_STATEMENT = ("Une seule instruction SQL à la fois : retirez le point-virgule et ce qui le suit "
                 "(paramètre sql ou _where).")
DATABASE_FORMATS = (f"/{DATABASE}.csv", f"/{DATABASE}.json")
NO_QUERY = ("Cette adresse n'a de données qu'avec une requête SQL : ajoutez-la dans le paramètre sql "
            f"(par exemple /{DATABASE}.csv?sql=select code, nom from regions), ou choisissez une table.")
THROUGH = ('Paramètre _through invalide : un objet JSON est attendu, de la forme '
           '{"table": "…", "column": "…", "value": "…"}, qui nomme une clé étrangère de la table.')
LIST_FILTER = ("Filtre « {} » invalide : une liste JSON (par exemple [\"35\", \"56\"]) ou des valeurs séparées "
               "par des virgules sont attendues.")
TIME_LIMIT = "Paramètre _timelimit invalide : un nombre entier de millisecondes est attendu."
FACET = ("Paramètre {} invalide : le nom d'une colonne est attendu (ou un objet JSON "
         '{{"simple": "colonne"}}).')
BOOLEANS = ("on", "off", "true", "false", "1", "0")
BOOLEAN = "Paramètre {} invalide : on, off, true, false, 1 ou 0 est attendu."
TOO_LARGE = "Nombre trop grand pour SQLite dans le filtre « {} » : 9 223 372 036 854 775 807 au plus."


def json_facet(request) -> str | None:
    """The first facet parameter of the request given as a JSON object (Datasette reads those as JSON)."""
    for key in request.args.keys():
        if key.startswith("_facet") and any(v.lstrip().startswith("{") for v in request.args.getlist(key)):
            return key
    return None


def huge_number(request) -> str | None:
    """The first filter of the request whose value is an integer beyond SQLite's 64 bits."""
    for key in request.args.keys():
        for value in request.args.getlist(key):
            if not key.startswith("_") and value.strip().lstrip("+-").isdigit() and abs(int(value)) >= 2 ** 63:
                return key
    return None


def list_filter(request) -> str | None:
    """The first `…__in` or `…__notin` filter of the request that starts like a JSON list."""
    for key in request.args.keys():
        if key.endswith(("__in", "__notin")) and any(v.lstrip().startswith("[") for v in request.args.getlist(key)):
            return key
    return None


def parameter_error(request, exception) -> str | None:
    """The French message of an exception that a malformed parameter of `request` raised in Datasette."""
    args = request.args
    if isinstance(exception, KeyError) and request.path in DATABASE_FORMATS and not (args.get("sql") or "").strip():
        return NO_QUERY  # Datasette's database page has no rows to write without a query
    if isinstance(exception, (KeyError, TypeError, AttributeError, ValueError)) and "_through" in args:
        return THROUGH
    if isinstance(exception, json.JSONDecodeError) and (key := list_filter(request)):
        return LIST_FILTER.format(key)
    if isinstance(exception, (ValueError, KeyError, TypeError, AttributeError)) and (key := json_facet(request)):
        return FACET.format(key)
    if isinstance(exception, OverflowError) and (key := huge_number(request)):
        return TOO_LARGE.format(key)
    if isinstance(exception, ValueAsBooleanError):
        return BOOLEAN.format(next((k for k in request.args.keys() if k.startswith("_") and
                                    request.args.get(k).lower() not in BOOLEANS), "booléen"))
    if isinstance(exception, ValueError) and "_timelimit" in args:
        try:
            int(args.get("_timelimit"))
        except ValueError:
            return TIME_LIMIT
    return None


def timeout_error(datasette) -> DatasetteError:
    return DatasetteError(TIMEOUT.format(datasette.setting("sql_time_limit_ms")), title="SQL Interrupted", status=400)


def as_client_error(datasette, exception, request=None) -> DatasetteError | None:
    """The 400 error an exception should have been, or None to leave it to Datasette."""
    if isinstance(exception, DatasetteError):
        if exception.status == 500 and str(exception.message).startswith(CLIENT_MESSAGES):
            return DatasetteError(exception.message, title=exception.title, status=400)
        if "SQL query took too long" in str(exception.message):  # Datasette's own 400, in English
            return timeout_error(datasette)
        return None
    if isinstance(exception, QueryInterrupted):
        return timeout_error(datasette)
    if isinstance(exception, sqlite3.ProgrammingError) and "one statement at a time" in str(exception):
        return DatasetteError(ONE_STATEMENT, title="Invalid SQL", status=400)
    if isinstance(exception, (sqlite3.DatabaseError, MemoryError)):
        message = limites.french_message(exception)
        if message is not None:
            return DatasetteError(message, title="Invalid SQL", status=400)
    message = parameter_error(request, exception) if request is not None else None
    if message is not None:
        return DatasetteError(message, title="Paramètre invalide", status=400)
    return None


def handle_exception(datasette, request, exception):
    error = as_client_error(datasette, exception, request)
    if error is None:
        return None
    return datasette_error_page(datasette=datasette, request=request, exception=error)


async def send_error_page(datasette, scope, send, status: int, message: str, title: str | None = None,
                          headers: dict | None = None):
    """Answer `scope` with the site's error page (JSON for a .json address), status `status`: for the HTTP
    layers that refuse a request before Datasette routes it."""
    error = DatasetteError(message, title=title, status=status)
    response = await datasette_error_page(datasette=datasette, request=Request(scope, None), exception=error)()
    response.headers.update(headers or {})
    await response.asgi_send(send)
