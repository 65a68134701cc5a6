"""Every request as if it had come to the site's public address: no request header flows into a page.

Datasette writes absolute addresses into its pages from the request's Host header: the `next_url` of a
table's JSON, the `Link` header, the alternate JSON link of each page. A client sending `Host:
evil.example` got those addresses on evil.example, in a page kept an hour by any cache in front
(`Cache-Control: public, max-age=3600`, no `Vary: Host`). This layer gives Datasette the site's
configured public address instead (oc_site.urls.public_url: OC_URL_PUBLIQUE, else `url_publique` in
metadata.yml): every page is the same whatever the Host header says. `make serve` and the test servers
set OC_URL_PUBLIQUE to their own address. Without a public address configured (a Datasette of the
theme's tests), the Host header is kept and every response says `Vary: Host`.
"""

from oc_site.http.page_cache import public_scope
from oc_site.urls import public_url


def with_vary_host(send):
    async def send_varying(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            for i, (name, value) in enumerate(headers):
                if name.lower() == b"vary":
                    headers[i] = (name, value + b", Host")
                    break
            else:
                headers.append((b"vary", b"Host"))
            message = {**message, "headers": headers}
        await send(message)

    return send_varying


class PublicAddress:
    """The layer: outside the cache headers and the kept pages, inside the request limits."""

    def __init__(self, app, datasette):
        self.app = app
        self.datasette = datasette  # its configuration: the public address

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            address = public_url(self.datasette)
        except ValueError:
            return await self.app(scope, receive, with_vary_host(send))
        return await self.app(public_scope(scope, address), receive, send)
