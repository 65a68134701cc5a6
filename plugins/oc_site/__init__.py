"""Open Collectivités, the site: one package of Datasette plugins, installed with the project and
registered through Datasette's entry points (pyproject.toml, `[project.entry-points.datasette]`).

Its wings, one folder or module each:
- `fiches/`: the territory fiches (/commune/…, /epci/…, /departement/…, /region/…), their charts, maps
  and notices;
- `search/`: the territory search (/recherche, /recherche.json) and its full-text index queries;
- `comparison.py`: /comparer (HTML, CSV, JSON);
- `publications/`: the publications library (/publications, Atom) and its queries;
- `pages/`: the home page, the site map, /sources, the operator's details, the site's assets;
- `http/`: the HTTP stack around Datasette (compression, security and cache headers, queues, CSV
  safety, the kept /oc page, the resumable database download, the complete CSV and JSON exports);
- `datasette_pages/`: what the site changes in Datasette's own pages (canned queries, French labels,
  generated metadata, templates read once, SQLite limits, client errors as 4xx).
Shared by every wing (and by the loaders, which may import them; the site never imports the loaders):
`levels.py` (the registry of the four territory levels), `text.py`, `taxonomy.py`, `database.py`,
`urls.py`, `paths.py`, `downloads.py` (the database's compressed copy, made by `oc compress`).
"""
