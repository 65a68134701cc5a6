"""The HTTP stack around Datasette: every layer a request and its response go through (compression, security, CORS and cache headers, queues, CSV safety, the kept /oc page)."""
