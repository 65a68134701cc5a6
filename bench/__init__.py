"""What the tests and `make bench` share: real servers and wrk load on 127.0.0.1 (harness.py), the site's
Datasette in process (site.py), page weights in Chromium (page_weight.py), a caching proxy (caching_proxy.py).
The measures themselves: scripts/bench; their results: RESULTS.md."""
