"""Every CSV the site serves is rewritten so that a spreadsheet runs no formula from it.

Datasette's table and query exports (/oc/publications.csv, /oc/valeurs_communes_large.csv,
canned queries…) and the site's own (/comparer.csv) alike: one place, on the way out. The rule and
its reasons (numbers stay numbers): oc_site/tableur.py.

A CSV response is one of type text/csv, or an address ending in .csv (Datasette serves those as
text/plain unless ?_dl=1). The body is rewritten as it streams, record by record; its length
changes, so Content-Length is dropped. A body already compressed by another wrapper cannot be
read: this wrapper runs first (innermost), before any compression.
"""

from datasette import hookimpl

from oc_site.tableur import CsvNeutraliser


def is_csv(scope, headers) -> bool:
    content_type = dict(headers).get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type == b"text/csv":
        return True
    return content_type == b"text/plain" and scope["path"].endswith(".csv")


@hookimpl(tryfirst=True)
def asgi_wrapper(datasette):
    def wrap(app):
        async def neutralised(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            neutraliser = None

            async def rewriting_send(message):
                nonlocal neutraliser
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    names = {name.lower() for name, _ in headers}
                    if is_csv(scope, headers) and b"content-encoding" not in names:
                        neutraliser = CsvNeutraliser()
                        message = {**message, "headers": [(n, v) for n, v in headers
                                                          if n.lower() != b"content-length"]}
                elif message["type"] == "http.response.body" and neutraliser is not None:
                    more = message.get("more_body", False)
                    body = neutraliser.feed(message.get("body", b""))
                    if not more:
                        body += neutraliser.finish()
                    message = {**message, "body": body}
                await send(message)

            return await app(scope, receive, rewriting_send)

        return neutralised

    return wrap
