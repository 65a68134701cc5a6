"""Canned queries: one `.sql` file per query in queries/, its title, description and parameters in a
comment header, given to Datasette by the `canned_queries` hook below.

    -- title: Fiche d'une commune
    -- description: Identité et rattachements d'une commune,
    --   à partir de son code INSEE.
    -- params: code
    -- example: code=35238
    SELECT …

A header line `-- key: value` opens a field; a line `--   more` (two spaces or more) continues it.
The header ends at the first line that is not a comment. Keys: title, description, params (separated
by commas or spaces), example (parameters as a query string: the theme pre-fills the query's form with
them and the database page links to the query with them), and any other key of a Datasette canned
query (hide_sql…).

A query that replaced others keeps their published addresses: RENAMED maps an old name to the new
query and the parameters that make it give the old query's rows; /oc/<old name>[.csv|.json]?… answers
with a permanent redirection there, its own parameters kept.
"""

import re
from pathlib import Path
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from oc_site.database import DATABASE
from oc_site.paths import QUERIES

DIRECTORY = QUERIES
HEADER = re.compile(r"--\s?([a-z_]+):\s*(.*)$")
CONTINUATION = re.compile(r"--\s{2,}(.*)$")


class QueryFileError(ValueError):
    pass


def parse(text: str, name: str = "?") -> dict:
    """A canned query (Datasette's dict) from the text of a .sql file."""
    fields, key, lines = {}, None, text.splitlines()
    body_start = len(lines)
    for number, line in enumerate(lines):
        if (match := HEADER.match(line)):
            key = match.group(1)
            fields[key] = match.group(2).strip()
        elif key and (match := CONTINUATION.match(line)):
            fields[key] += " " + match.group(1).strip()
        elif line.strip() and not line.startswith("--"):
            body_start = number
            break
    sql = "\n".join(lines[body_start:]).strip()
    if not sql or "title" not in fields:
        raise QueryFileError(f"requête {name} : il faut un en-tête « -- title: … » puis du SQL")
    query = {**fields, "sql": sql}
    if "params" in fields:
        query["params"] = [p for p in re.split(r"[,\s]+", fields["params"]) if p]
    return query


def load(directory: Path = DIRECTORY) -> dict[str, dict]:
    """Every canned query of a folder, by file name (without .sql), in file name order."""
    return {path.stem: parse(path.read_text(encoding="utf-8"), path.name)
            for path in sorted(Path(directory).glob("*.sql"))}


def sql(name: str, directory: Path = DIRECTORY) -> str:
    """The SQL of one canned query (for the pages that run it outside Datasette's canned query views)."""
    return parse((Path(directory) / f"{name}.sql").read_text(encoding="utf-8"), name)["sql"]


CANNED = load()  # read once: the files only change with a new deployment


def for_database(database) -> dict:
    return CANNED if database == DATABASE else {}


def canned_query(path: str) -> dict | None:
    """The canned query an address runs (/oc/<name>, .json, .csv), or None (the HTTP layers' lanes and bounds)."""
    prefix = f"/{DATABASE}/"
    if not path.startswith(prefix):
        return None
    name = path[len(prefix):].removesuffix(".json").removesuffix(".csv")
    return CANNED.get(name)


# old name → (new query, the parameters that give the old query's rows)
RENAMED = {
    "communes_classees_par_indicateur": ("territoires_classes_par_indicateur", {"niveau": "commune"}),
    "epci_classes_par_indicateur": ("territoires_classes_par_indicateur", {"niveau": "epci"}),
}


async def renamed(datasette, request):
    new, fixed = RENAMED[request.url_vars["name"]]
    kept = [(key, value) for key in request.args.keys() if key not in fixed for value in request.args.getlist(key)]
    url = f"{datasette.urls.database(DATABASE)}/{new}{request.url_vars['format'] or ''}?"
    return Response.redirect(url + urlencode([*fixed.items(), *kept], safe=","), status=301)


ROUTES = [(rf"^/{DATABASE}/(?P<name>{'|'.join(RENAMED)})(?P<format>\.csv|\.json)?$", renamed)]
