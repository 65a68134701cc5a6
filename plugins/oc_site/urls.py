"""Addresses: the site's public address, and the check that an address from the data is a web link."""

import os
from urllib.parse import urlsplit

from .database import PLUGIN_CONFIG

PUBLIC_URL_ENV = "OC_URL_PUBLIQUE"


def web_url(value) -> str | None:
    """`value` if it is an absolute http(s) address, else None (javascript:, data:, relative…)."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def public_url(datasette) -> str:
    """The site's public address (https://…, no trailing slash) for the absolute links of Atom feeds
    and cached pages: configured (OC_URL_PUBLIQUE, else `url_publique` in metadata.yml), never taken
    from a request's Host header, which any client can set."""
    url = os.environ.get(PUBLIC_URL_ENV) or (datasette.plugin_config(PLUGIN_CONFIG) or {}).get("url_publique")
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"adresse publique du site absente ou invalide ({PUBLIC_URL_ENV} ou "
                         f"plugins: {PLUGIN_CONFIG}: url_publique dans metadata.yml) : {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
