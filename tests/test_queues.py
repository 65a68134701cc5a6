"""The queues in front of the pages (plugins/oc_site/http/queues.py): a few requests at once, in order of arrival,
each in the lane of what it runs (visitors' SQL, streams, canned queries, pages), files never queued, nothing
worked on for a client who has left."""

import asyncio

from datasette.plugins import pm

from bench.site import make_datasette
from oc_site.http import queues, stack


def queue_module(fixture_db):
    ds = make_datasette(fixture_db)
    assert pm.get_plugin("open_collectivites") is not None, "le site (oc_site.hooks) n'est pas chargé"
    assert queues.Queues in [layer.cls for layer in stack.layers(ds)], \
        "les files d'attente ne sont pas dans la pile HTTP"
    return queues


def in_queues(module, app):
    """`app` behind the queues' layer, with places of its own."""
    return module.Queues(app, lanes=module.Lanes())


def http(path: str, query: bytes = b"") -> dict:
    return {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []}


def connection(leaves: asyncio.Event | None = None):
    """An ASGI `receive` like a server's for a GET: the empty body, then the end of the connection when
    `leaves` is set (never, without it)."""
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if messages:
            return messages.pop(0)
        await (leaves or asyncio.Event()).wait()
        return {"type": "http.disconnect"}

    return receive


async def ignore(message):
    pass


def test_lanes(fixture_db):
    lane = queue_module(fixture_db).lane
    assert lane(http("/commune/35238")) == "pages"
    assert lane(http("/oc/communes", b"departement=35")) == "pages"
    assert lane(http("/oc/territoires", b"_search=rennes")) == "pages"
    # the site's SQL on the visitor's values: canned queries, facets
    assert lane(http("/oc/territoires_classes_par_indicateur", b"niveau=commune&departement=35&indicateur=densite")) \
        == "requetes"
    assert lane(http("/oc/contours_communes.json", b"niveau=departement&code=35&indicateurs=densite")) == "requetes"
    assert lane(http("/oc/valeurs", b"_facet=valeur")) == "requetes"
    # SQL the visitor wrote, whatever else the address says (the red team's `&_stream=1`, `_where`)
    assert lane(http("/oc", b"sql=select+1")) == "sql"
    assert lane(http("/oc.json", b"sql=select+1&_shape=array")) == "sql"
    assert lane(http("/oc.csv", b"sql=select+1&_stream=1")) == "sql"
    assert lane(http("/oc/communes.json", b"_where=1")) == "sql"
    assert lane(http("/oc/territoires", b"_search=a*&_searchmode=raw")) == "sql"
    # streams
    assert lane(http("/oc/valeurs.csv", b"_stream=on&_size=max")) == "flux"
    assert lane(http("/oc/membres_epci.csv", b"siren=243500139&_stream=1")) == "flux"
    for path, query in (("/oc.db", b""), ("/-/static/app.css", b""), ("/-/v/0be2e82e3172/-/static-plugins/x.css", b""),
                        ("/static/graphiques.js", b"")):
        assert lane(http(path, query)) is None, path
    assert lane({"type": "lifespan"}) is None


async def test_a_few_pages_at_once_in_order_of_arrival_and_sql_apart(fixture_db):
    module = queue_module(fixture_db)
    running = {"pages": 0, "requetes": 0, "sql": 0, "flux": 0, "files": 0}
    most = dict(running)
    started, release = [], asyncio.Event()

    async def app(scope, receive, send):
        kind = module.lane(scope) or "files"
        running[kind] += 1
        most[kind] = max(most[kind], running[kind])
        started.append(scope["path"])
        await release.wait()
        running[kind] -= 1

    wrapped = in_queues(module, app)

    pages = [asyncio.create_task(wrapped(http(f"/commune/{n}"), connection(), ignore)) for n in range(10)]
    queries = [asyncio.create_task(wrapped(http("/oc", b"sql=select+%d" % n), connection(), ignore)) for n in range(5)]
    canned = [asyncio.create_task(wrapped(http("/oc/fiche_commune.json", b"code=%d" % n), connection(), ignore))
              for n in range(5)]
    streams = [asyncio.create_task(wrapped(http("/oc/communes.csv", b"_stream=on&n=%d" % n), connection(), ignore))
               for n in range(module.STREAMS_AT_ONCE + 3)]
    files = [asyncio.create_task(wrapped(http(f"/-/static/{n}.css"), connection(), ignore)) for n in range(6)]
    for _ in range(20):
        await asyncio.sleep(0)
    # while the pages' places are all taken, the other lanes and files still start
    expected = {"pages": module.PAGES_AT_ONCE, "requetes": module.QUERIES_AT_ONCE, "sql": module.SQL_AT_ONCE,
                "flux": module.STREAMS_AT_ONCE, "files": 6}
    assert running == expected
    release.set()
    await asyncio.gather(*pages, *queries, *canned, *streams, *files)
    assert most == expected
    page_order = [path for path in started if path.startswith("/commune/")]
    assert page_order == [f"/commune/{n}" for n in range(10)]  # served in order of arrival


async def test_a_client_who_leaves_while_waiting_is_not_served(fixture_db):
    module = queue_module(fixture_db)
    started, release, leaves = [], asyncio.Event(), asyncio.Event()

    async def app(scope, receive, send):
        started.append(scope["path"])
        assert await receive() == {"type": "http.request", "body": b"", "more_body": False}  # its body, read for it
        await release.wait()

    wrapped = in_queues(module, app)
    holding = [asyncio.create_task(wrapped(http(f"/commune/{n}"), connection(), ignore))
               for n in range(module.PAGES_AT_ONCE)]
    left = asyncio.create_task(wrapped(http("/commune/gone"), connection(leaves), ignore))
    after = asyncio.create_task(wrapped(http("/commune/after"), connection(), ignore))
    for _ in range(20):
        await asyncio.sleep(0)
    leaves.set()  # the client of the first request waiting goes away
    await asyncio.wait_for(left, timeout=5)
    release.set()
    await asyncio.wait_for(asyncio.gather(*holding, after), timeout=5)
    assert "/commune/gone" not in started and started[-1] == "/commune/after"


async def test_a_request_the_site_makes_to_itself_does_not_wait_for_its_own_place(fixture_db):
    module = queue_module(fixture_db)

    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        if scope["path"] == "/outer":
            await wrapped(http("/inner"), receive, send)  # like datasette.client.get() inside a page

    wrapped = in_queues(module, app)

    outers = [wrapped(http("/outer"), connection(), ignore) for _ in range(module.PAGES_AT_ONCE)]
    await asyncio.wait_for(asyncio.gather(*outers), timeout=5)  # every place taken: no deadlock
    assert calls.count("/inner") == module.PAGES_AT_ONCE


async def test_pages_are_served_through_the_queues(fixture_ds):
    for path in ("/commune/35238", "/oc/communes/35238", "/oc.json?sql=select+1&_shape=array"):
        response = await fixture_ds.client.get(path)
        assert response.status_code == 200, path
    lanes = stack.shared_state(fixture_ds).lanes
    assert asyncio.get_running_loop() in lanes.per_loop.made  # the queues of this event loop were made and used
