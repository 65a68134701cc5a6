"""The HTTP stack: every layer a request goes through before Datasette (and its response after), in order.

Each layer is a plain ASGI class, built as `cls(app, **options)`: `layers` lists them outermost first with
what each is given, like Starlette's `middleware=[Middleware(cls, **options), …]`, and `wrap` builds the
app from that list (the site's `asgi_wrapper` hook, oc_site.hooks). A request meets the first layer first,
and that layer sees the response last. Inside them: the DSFR theme's versioned assets
(datasette-dsfr-theme's own wrapper), then Datasette. To add a layer: its class in a module of http/,
then one line in `layers`, at its place.

Datasette 0.65 builds its ASGI app more than once (the server's, and datasette.client's as soon as it is
created), each time with new layers. What every app of one Datasette must see alike (the ETag computed at
start-up, the kept /oc page, the queues' places, the files offered for download) is one `SharedState` per Datasette, given to the layers
that use it; nothing is kept on the Datasette object, and two Datasette instances (the tests make many)
share nothing.
"""

import weakref
from dataclasses import dataclass, field

from oc_site.http.cache_headers import AnsweringAddresses, CacheHeaders, SiteEtag
from oc_site.http.compression import Compression
from oc_site.http.cors import Cors
from oc_site.http.csv_safety import CsvSafety
from oc_site.http.download import Download
from oc_site.http.exports import Exports
from oc_site.http.page_cache import KeptPages, PageCache
from oc_site.http.public_address import PublicAddress
from oc_site.http.queues import Lanes, Queues
from oc_site.http.request_limits import RequestLimits
from oc_site.http.security_headers import SecurityHeaders, security_headers


class Layer:
    """One layer of the stack: its ASGI class, and what its constructor is given besides the app."""

    def __init__(self, cls: type, **options):
        self.cls = cls
        self.options = options

    def __repr__(self):
        return f"Layer({self.cls.__name__})"


def layers(datasette) -> list[Layer]:
    """The layers around `datasette`'s app, outermost first."""
    shared = shared_state(datasette)
    return [
        # CSP, nosniff, frame and referrer policies on every response, even a replayed one
        Layer(SecurityHeaders, headers=security_headers(datasette)),
        # read-only: GET, HEAD and OPTIONS; a small body read in bounded time; parameters of bounded size
        Layer(RequestLimits, datasette=datasette),
        # gzip of text responses (what every inner layer sends)
        Layer(Compression),
        # the request as if it came to the site's public address: no Host header in any page
        Layer(PublicAddress, datasette=datasette),
        # Cache-Control and the site's ETag on successful pages; a matching If-None-Match is answered 304 here,
        # before any queue or SQL, for an address known to answer
        Layer(CacheHeaders, etag=shared.etag, max_age=datasette.setting("default_cache_ttl"),
              answering=shared.answering),
        # the CORS headers of Datasette's JSON on the site's own answers too
        Layer(Cors, enabled=datasette.cors),
        # /oc.db and its compressed copy /oc.db.gz with their length, byte ranges (resume) and ETag; no queue
        Layer(Download, datasette=datasette, downloads=shared.downloads),
        # every CSV rewritten so that a spreadsheet runs no formula from it (before compression)
        Layer(CsvSafety),
        # the /oc page kept once rendered (the layers above add their headers to the replay)
        Layer(PageCache, datasette=datasette, kept=shared.kept_pages),
        # a few requests at once in their order of arrival, in the lane of what they run; none for a client gone
        Layer(Queues, lanes=shared.lanes),
        # every row of a table, view or canned query as CSV or JSON (_stream=on), streamed; a CSV that asks
        # for no page redirected there
        Layer(Exports, datasette=datasette, lanes=shared.lanes),
    ]


def wrap(datasette, app):
    """`app` (Datasette and the inner plugins' wrappers) inside every layer of `layers`, the first outermost."""
    for layer in reversed(layers(datasette)):
        app = layer.cls(app, **layer.options)
    return app


@dataclass
class SharedState:
    """What the layers of one Datasette share, whichever of its apps serves a request."""

    etag: SiteEtag = field(default_factory=SiteEtag)  # computed at start-up (oc_site.hooks.startup)
    answering: AnsweringAddresses = field(default_factory=AnsweringAddresses)  # addresses that answered 200
    kept_pages: KeptPages = field(default_factory=KeptPages)
    lanes: Lanes = field(default_factory=Lanes)
    downloads: dict = field(default_factory=dict)  # database name → oc_site.downloads.Downloads


# Datasette → its SharedState, forgotten with it (a SharedState holds no reference to its Datasette)
SHARED_STATES: "weakref.WeakKeyDictionary[object, SharedState]" = weakref.WeakKeyDictionary()


def shared_state(datasette) -> SharedState:
    """The state shared by the layers of every app of `datasette`, made on first use."""
    state = SHARED_STATES.get(datasette)
    if state is None:
        state = SHARED_STATES[datasette] = SharedState()
    return state
