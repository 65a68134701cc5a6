"""What a request may carry, checked before anything else works on it: a read-only site takes GET, HEAD and
OPTIONS only, a small body read in a bounded time, and parameters of bounded size.

- Methods: anything else (POST to a table, a canned query, /-/messages…) is refused 405 at once, with
  `Allow`, before the queues: four clients POSTing 1 byte/s to /-/messages held every place of the pages'
  queue (the place was taken before the body was read), and a 300 MB POST cost 162 s of work and 600 MB
  of memory (Datasette reads a body with a quadratic `body +=`). The body of a refused request is never read.
- Bodies: a GET has no use for one; a body is read whole here, at most MAX_BODY_BYTES within BODY_SECONDS
  (413, 408 otherwise), and handed on as read: the layers inside see a whole request (a chunked GET
  body made the queues take its second chunk for the client's departure, and answer nothing: HTTP 500).
- Parameters: at most MAX_PARAMETERS in all. A canned query runs the site's SQL on the visitor's values:
  each of its parameters once, at most CANNED_VALUE_CHARS characters and CANNED_LIST_ITEMS comma-separated
  items (contours_communes with `indicateurs=densite` repeated 2,000 times ran 3 s each, the time limit).
  A full-text search (`_search`) is SEARCH_CHARS characters at most, a table page MAX_FACETS facets.
Every refusal is the site's error page in French (JSON for a .json address), with no traceback.
"""

import asyncio
from urllib.parse import parse_qsl

from oc_site.datasette_pages.canned_queries import canned_query

METHODS = ("GET", "HEAD", "OPTIONS")
MAX_BODY_BYTES = 16 * 1024
BODY_SECONDS = 10.0
MAX_PARAMETERS = 100
# the longest list the site itself writes: 14 indicators of the EPCI fiche's DGF block (about 350 characters)
CANNED_VALUE_CHARS = 500
CANNED_LIST_ITEMS = 20
SEARCH_CHARS = 200
MAX_FACETS = 5

READ_ONLY = "Ce site est en lecture seule : seules les méthodes GET, HEAD et OPTIONS sont acceptées (méthode reçue : {})."
TOO_LARGE = "Corps de requête trop volumineux : ce site en lecture seule n'en accepte que {} Kio au plus."
TOO_SLOW = "Corps de requête trop lent : il doit arriver en entier en {:g} secondes au plus."


def parameters(scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def parameter_problem(scope) -> str | None:
    """Why the request's parameters are refused (French), or None."""
    pairs = parameters(scope)
    if len(pairs) > MAX_PARAMETERS:
        return f"Trop de paramètres : {MAX_PARAMETERS} au plus."
    query = canned_query(scope["path"])
    for name in (query or {}).get("params", []):
        values = [value for key, value in pairs if key == name]
        if len(values) > 1:
            return f"Paramètre {name} répété : donnez-le une seule fois."
        if values and len(values[0]) > CANNED_VALUE_CHARS:
            return f"Paramètre {name} trop long : {CANNED_VALUE_CHARS} caractères au plus."
        if values and values[0].count(",") >= CANNED_LIST_ITEMS:
            return f"Paramètre {name} : {CANNED_LIST_ITEMS} éléments au plus, séparés par des virgules."
    for key, value in pairs:
        if key.startswith("_search") and len(value) > SEARCH_CHARS:
            return f"Recherche trop longue ({key}) : {SEARCH_CHARS} caractères au plus."
    if sum(1 for key, _ in pairs if key.startswith("_facet")) > MAX_FACETS:
        return f"Trop de facettes : {MAX_FACETS} au plus."
    return None


def announced_body(scope) -> tuple[bool, int | None]:
    """(whether the request has a body, its announced length when given)."""
    length, chunked = None, False
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            length = int(value) if value.strip().isdigit() else None
            if length is None:
                return True, MAX_BODY_BYTES + 1  # unreadable: treated as too large
        elif name == b"transfer-encoding":
            chunked = True
    return chunked or bool(length), length


class BodyTooLarge(Exception):
    pass


async def read_body(receive) -> list[dict] | None:
    """The body's messages (at most MAX_BODY_BYTES), or None when the client left; raises BodyTooLarge, or
    TimeoutError past BODY_SECONDS."""
    messages, size = [], 0
    async with asyncio.timeout(BODY_SECONDS):
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge
            messages.append(message)
            if not message.get("more_body", False):
                return messages


def replay(messages: list[dict], receive):
    """A `receive` that gives `messages` again, then the connection's own (its end)."""
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed


class RequestLimits:
    """The layer: outermost but for the security headers, so that a refused request costs nothing more."""

    def __init__(self, app, datasette):
        self.app = app
        self.datasette = datasette  # its error page

    async def refuse(self, scope, send, status: int, message: str, title: str, headers: dict | None = None):
        """The error page; a request whose body is left unread closes its connection (`Connection: close`),
        else the server would read and throw away all of it (300 MB) before the next request."""
        # (imported here: client_errors imports Datasette's plugins, which import this module through the stack)
        from oc_site.datasette_pages.client_errors import send_error_page

        if announced_body(scope)[0]:
            headers = {**(headers or {}), "connection": "close"}
        await send_error_page(self.datasette, scope, send, status, message, title, headers)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] not in METHODS:
            return await self.refuse(scope, send, 405, READ_ONLY.format(scope["method"][:20]), "Méthode refusée",
                                     {"allow": ", ".join(METHODS)})
        problem = parameter_problem(scope)
        if problem:
            return await self.refuse(scope, send, 400, problem, "Paramètre refusé")
        has_body, length = announced_body(scope)
        if not has_body:
            return await self.app(scope, receive, send)
        too_large = TOO_LARGE.format(MAX_BODY_BYTES // 1024)
        if length is not None and length > MAX_BODY_BYTES:
            return await self.refuse(scope, send, 413, too_large, "Requête trop volumineuse")
        try:
            messages = await read_body(receive)
        except BodyTooLarge:
            return await self.refuse(scope, send, 413, too_large, "Requête trop volumineuse")
        except TimeoutError:
            return await self.refuse(scope, send, 408, TOO_SLOW.format(BODY_SECONDS), "Requête trop lente")
        if messages is None:
            return  # the client left
        return await self.app(scope, replay(messages, receive), send)
