"""The HTTP stack: every layer a request goes through before Datasette (and its response after), in order.

Read from the outside in: a request meets the first layer first, and that layer sees the response last.

1. security_headers: CSP, nosniff, frame and referrer policies on every response, even a replayed one;
2. compression: gzip of text responses (what every inner layer sends);
3. cache_headers: Cache-Control and the site's ETag; a matching If-None-Match is answered 304 here,
   before any queue or SQL;
4. cors: the CORS headers of Datasette's JSON on the site's own answers too;
5. csv_safety: every CSV rewritten so that a spreadsheet runs no formula from it (before compression);
6. page_cache: the /oc page kept once rendered (the layers above add their headers to the replay);
7. queues: a few requests at once in their order of arrival, visitors' SQL in its own queue.
Inside them: the DSFR theme's versioned assets (datasette-dsfr-theme's own wrapper), then Datasette.
"""

from oc_site.http import cache_headers, compression, cors, csv_safety, page_cache, queues, security_headers

LAYERS = (  # outermost first
    security_headers,
    compression,
    cache_headers,
    cors,
    csv_safety,
    page_cache,
    queues,
)


def wrap(datasette, app):
    """`app` (Datasette and the inner plugins' wrappers) inside every layer of LAYERS."""
    for module in reversed(LAYERS):
        app = module.layer(datasette)(app)
    return app
