"""Online producers: from a mapping's selection rule to a verified file in the cache.

The flow, one module per step or producer:
- `rules`: the `ressource` section of a mapping (data/mappings/*.yml) — which producer API, which
  dataset, which resource (title, year, format);
- `datagouv`, `opendatasoft`, `files`: resolve a rule to the address of the current file through the
  producer's API (data.gouv.fr API v1, OpenDataSoft Explore v2.1) or its fixed address (INSEE);
- `lock`: data/producteurs.lock.json, the pinned files (address, size, SHA-256, vintage, date);
- `sync`: `oc sources` — download what the lock names and is missing from the cache, verify it;
  with `--update`, resolve again, download, check the file against its mapping, rewrite the lock.

`oc build` reads only the cache (through the lock): offline it loads what is there and reports the rest.
"""
