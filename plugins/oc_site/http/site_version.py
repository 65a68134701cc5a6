"""The version of what shapes a page other than the data, for the ETags of cache_headers.py.

`site_version` digests the templates, the plugins' and the site's code, the canned queries, the static
files (the theme's asset version, datasette_dsfr_theme/assets.py), the metadata, the settings and the
versions of Datasette and its plugins. Joined to the content hash of oc.db it makes the ETag of every
page: a deployment that changes a template or a stylesheet changes the ETags even when the data stay
the same, so no browser keeps a page that points to assets that no longer exist.
Computed once per Datasette (a few milliseconds), at start-up, into its ETag (cache_headers.SiteEtag).
"""

import json

import datasette as datasette_package
from datasette_dsfr_theme.assets import asset_version, digest_folders

from oc_site.paths import QUERIES, ROOT

SITE_CODE = [ROOT / "plugins", QUERIES]


def site_version(datasette) -> str:
    """Twelve hex digits that change whenever anything but the data that shapes a page changes."""
    from datasette.plugins import get_plugins  # not at import: this module is loaded by datasette.plugins

    plugins = get_plugins()
    folders = [p["templates_path"] for p in plugins if p.get("templates_path")]
    folders += [datasette.template_dir, datasette.plugins_dir, *SITE_CODE]
    digest = digest_folders([f for f in folders if f])
    digest.update(asset_version(datasette).encode())
    digest.update(json.dumps({
        "datasette": datasette_package.__version__,
        "plugins": sorted((p["name"], p.get("version") or "") for p in plugins),
        "metadata": datasette.metadata(),
        "settings": datasette.settings_dict(),
    }, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]
