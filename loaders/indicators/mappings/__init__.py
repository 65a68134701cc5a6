"""Declarative mappings: a YAML file per producer file says how to read it into the value tables (store.py).

A mapping (data/mappings/*.yml, documented in data/mappings/README.md) gives the format, the key column
and its level, the year and the indicators. A mapping of an online producer also says how to find the
current file (`ressource`, see loaders/producers/rules.py): `oc sources` pins it in
data/producteurs.lock.json and caches it, and `oc build` loads it from the cache. A mapping may also read
its files inside a pinned archive (`archive`, the DGCL criteria 2020-2022).

One module per concern, in the order a file goes through them:
- `spec`: the mapping file parsed and checked (`parse_mapping`, `Mapping`, `MappingError`), with `base`
  and `definitions`;
- `tables`: the producer file as a table (`open_table`: CSV, XLSX, CSV in a ZIP file; header row,
  encoding);
- `extract`: values, years and codes read from the table (`extract`, pure; `check_file`);
- `load`: written into the value tables with catalogue entries and a report (`load`, `record`, `load_into_db`;
  `declare_columns`: where its values go);
- `locate`: which file a mapping reads (local, pinned in the cache, downloaded);
- `archive`: the members of a pinned archive (`archive_files`, `read_archive_member`);
- `step`: `oc build`'s step (`build_step`) and the build's second process reading the archives
  (`ArchiveReader`).
"""
