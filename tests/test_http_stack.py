"""The HTTP stack (plugins/oc_site/http/stack.py): its layers in the documented order, and the state they share
between the apps of one Datasette but never between two Datasette instances."""

import gc
import weakref

import httpx

from bench.site import make_datasette
from oc_site.http import stack
from oc_site.http.cache_headers import CacheHeaders
from oc_site.http.compression import Compression
from oc_site.http.cors import Cors
from oc_site.http.csv_safety import CsvSafety
from oc_site.http.download import Download
from oc_site.http.exports import Exports
from oc_site.http.page_cache import PageCache, size
from oc_site.http.public_address import PublicAddress
from oc_site.http.queues import Queues
from oc_site.http.request_limits import RequestLimits
from oc_site.http.security_headers import SecurityHeaders

# Outermost first, as stack.py documents it (and as the measures and the header checks were made)
DOCUMENTED_ORDER = [SecurityHeaders, RequestLimits, Compression, PublicAddress, CacheHeaders, Cors, Download, CsvSafety,
                    PageCache, Queues, Exports]


def layers_of(app) -> dict[type, object]:
    """The site's layers of a built app, from the outside in, and what they wrap (key None)."""
    found = {}
    while type(app) in DOCUMENTED_ORDER:
        found[type(app)] = app
        app = app.app
    found[None] = app
    return found


def client_of(app) -> httpx.AsyncClient:
    """A client of `app`: a new app of a Datasette, as the server builds one (datasette.client has its own)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


def test_the_layers_are_in_the_documented_order(fixture_db):
    ds = make_datasette(fixture_db)
    assert [layer.cls for layer in stack.layers(ds)] == DOCUMENTED_ORDER
    for app in (ds.app(), ds.client.app):  # the server's app and datasette.client's are built the same way
        built = layers_of(app)
        assert list(built)[:-1] == DOCUMENTED_ORDER
        # inside them: the theme's versioned assets, then Datasette
        assert built[None].__qualname__.startswith("versioned_asgi."), built[None]


async def test_apps_of_one_datasette_share_their_state_two_datasettes_do_not(fixture_db):
    first, second = make_datasette(fixture_db), make_datasette(fixture_db, default_page_size=20)
    for ds in (first, second):
        await ds.invoke_startup()
    server_layers, client_layers = layers_of(first.app()), layers_of(first.client.app)
    other_layers = layers_of(second.app())
    for cls, state in ((CacheHeaders, "etag"), (CacheHeaders, "answering"), (PageCache, "kept"), (Queues, "lanes")):
        assert getattr(server_layers[cls], state) is getattr(client_layers[cls], state), cls
        assert getattr(server_layers[cls], state) is not getattr(other_layers[cls], state), cls
    assert stack.shared_state(first) is not stack.shared_state(second)

    # the ETag computed at start-up answers 304 in the server's app too, and only for its own Datasette
    etag = (await first.client.get("/commune/35238")).headers["etag"]
    other_etag = (await second.client.get("/commune/35238")).headers["etag"]
    assert etag != other_etag
    async with client_of(first.app()) as client:
        assert (await client.get("/commune/35238", headers={"if-none-match": etag})).status_code == 304
    async with client_of(second.app()) as client:
        assert (await client.get("/commune/35238", headers={"if-none-match": etag})).status_code == 200

    # /oc rendered through datasette.client (as at start-up) is replayed by the server's app, not rendered again
    page = await first.client.get("/oc")
    assert "/oc" in stack.shared_state(first).kept_pages.pages
    assert "/oc" not in stack.shared_state(second).kept_pages.pages
    app = first.app()
    page_cache = layers_of(app)[PageCache]
    rendered = []
    inner = page_cache.app

    async def counting(scope, receive, send):
        rendered.append(scope["path"])
        return await inner(scope, receive, send)

    page_cache.app = counting
    async with client_of(app) as client:
        again = await client.get("/oc")
    assert again.status_code == 200 and again.text == page.text and rendered == []


def test_the_state_of_a_datasette_is_forgotten_with_it(fixture_db):
    ds = make_datasette(fixture_db)
    state = weakref.ref(stack.SHARED_STATES[ds])  # made when Datasette built datasette.client's app
    del ds
    gc.collect()
    assert state() is None


async def test_fiches_are_kept_once_rendered_for_anonymous_visitors(fixture_db):
    """A fiche is laid out once per build and query string (page_cache.py); a visitor with a cookie, an error
    and a redirect always reach Datasette; the least recently asked for fiche is forgotten past the budget."""
    ds = make_datasette(fixture_db)
    await ds.invoke_startup()
    app = ds.app()
    page_cache = layers_of(app)[PageCache]
    inner, rendered = page_cache.app, []

    async def counting(scope, receive, send):
        rendered.append(scope["path"] + "?" + scope["query_string"].decode())
        return await inner(scope, receive, send)

    page_cache.app = counting
    async with client_of(app) as client:
        first = await client.get("/commune/35238")
        again = await client.get("/commune/35238")
        assert first.status_code == again.status_code == 200 and first.text == again.text
        assert again.headers["etag"] == first.headers["etag"]  # the outer layers still add their headers
        assert rendered == ["/commune/35238?"]
        await client.get("/commune/35238?tri=nom")  # a sorted list is another page
        await client.get("/commune/35238", headers={"cookie": "ds_actor=x"})
        missing = [(await client.get("/commune/99999")).status_code for _ in range(2)]
        moved = [(await client.get("/commune/rennes-35238")).status_code for _ in range(2)]
    assert missing == [404, 404] and moved[0] in (301, 302) and moved[0] == moved[1]
    assert rendered == ["/commune/35238?", "/commune/35238?tri=nom", "/commune/35238?",
                        "/commune/99999?", "/commune/99999?", "/commune/rennes-35238?", "/commune/rennes-35238?"]

    kept = stack.shared_state(ds).kept_pages
    assert set(kept.fiches) == {"/commune/35238", "/commune/35238?tri=nom"}
    page = kept.fiches["/commune/35238"]
    kept.budget = kept.used + size(page) - 1  # room for all but one: the least recently asked for goes
    kept.keep("/epci/243500139", page)
    assert list(kept.fiches) == ["/commune/35238?tri=nom", "/epci/243500139"]
    assert kept.used == sum(size(p) for p in kept.fiches.values()) <= kept.budget
