"""`oc build` keeps what `oc indicators load` loaded into the previous oc.db.

A rebuild recomputes the offline indicators and reloads the mappings whose file it has; a value loaded
by hand (an OFGL export, a newer DGCL file…) has no file the build could reread. Such values — those
whose source names a mapping — are copied from the previous database when the new one has no value for
the same territory, indicator and year, with their catalogue entry and their source (noted as carried
over). They go where the new database stores that indicator, else where the previous one did (its
`indicateurs_colonnes`; a database of the long table `valeurs` only: the mapping's tables). Values of
territories that no longer exist are left out and counted, and so are values whose row of the new
database already holds, in the same source column, values of another load (a row names one source).
"""

from pathlib import Path

from oc_site.levels import LEVELS, SMALLEST_FIRST

from . import catalogue, store
from .mappings.spec import DEFAULT_DIR, MappingError, default_stem, parse_mapping

SCHEMA = "precedente"


def _names(conn, kinds=("table", "view")) -> set[str]:
    marks = ", ".join(f"'{k}'" for k in kinds)
    return {r[0] for r in conn.execute(f"SELECT name FROM {SCHEMA}.sqlite_master WHERE type IN ({marks})")}


def candidate_sources(conn) -> list[int]:
    """The sources of mapping loads of the previous database that this build did not redo (same file: same
    SHA-256)."""
    return [r[0] for r in conn.execute(f"""
        SELECT s.id FROM {SCHEMA}.sources_donnees s
        WHERE s.mapping IS NOT NULL
          AND (s.sha256 IS NULL OR s.sha256 NOT IN (SELECT sha256 FROM main.sources_donnees
                                                   WHERE sha256 IS NOT NULL))
          AND NOT EXISTS (SELECT 1 FROM main.sources_donnees m WHERE m.mapping = s.mapping
                          AND m.sha256 IS NULL AND m.millesime = s.millesime AND s.sha256 IS NULL)""")]


def previous_places(conn, pairs: set[tuple[str, str]]) -> tuple[list[store.Column], dict]:
    """Where the new database stores the carried indicators not stored yet: where the previous one did,
    else in the tables of the mapping that loaded them; and the titles of the tables to create."""
    columns, titles = [], {}
    if "indicateurs_colonnes" in _names(conn, ("table",)):
        for indicator, level, table, source, title, description, kind in conn.execute(f"""
                SELECT c.indicateur, c.niveau, c.nom_table, c.colonne_source, t.titre, t.description, i.type
                FROM {SCHEMA}.indicateurs_colonnes c JOIN {SCHEMA}.indicateurs_tables t ON t.nom = c.nom_table
                JOIN {SCHEMA}.indicateurs i ON i.code = c.indicateur"""):
            if (indicator, level) in pairs:
                columns.append(store.Column(indicator, level, table, source, kind))
                titles[table] = (title, description)
        return columns, titles
    for indicator, level, mapping, title, kind in conn.execute(f"""
            SELECT DISTINCT r.indicateur, r.niveau, s.mapping, s.titre, i.type FROM temp.reprises r
            JOIN {SCHEMA}.sources_donnees s ON s.id = r.source JOIN main.indicateurs i ON i.code = r.indicateur"""):
        if (indicator, level) not in pairs:
            continue
        try:
            stem = parse_mapping(DEFAULT_DIR / mapping).stem
        except MappingError:  # a mapping given as a file elsewhere, or since removed
            stem = default_stem(Path(mapping).stem, level)
        table = store.table_name(stem, level)
        columns.append(store.Column(indicator, level, table, store.SOURCE, kind))
        titles[table] = (title, f"{title} : une ligne par {LEVELS[level].label} et par année (valeurs reprises "
                                "de la base précédente).")
    return columns, titles


def occupied(conn, columns: list[store.Column]) -> set[tuple[str, str, int, str]]:
    """(table, code, year, source column) of the rows of the new database whose source column is taken."""
    found = set()
    for table, group in {(c.table, c.source) for c in columns}:
        key = store.columns_of(conn, table)[0]
        found.update((table, code, year, group) for code, year in conn.execute(
            f"SELECT {key}, annee FROM {store.quote(table)} WHERE {store.quote(group)} IS NOT NULL"))
    return found


def carry_over(conn, previous: Path) -> dict:
    """Copy the hand-loaded values of `previous` absent from the database being built."""
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(previous),))
    try:
        if not {"valeurs", "sources_donnees", "indicateurs"} <= _names(conn):
            return {"values": 0, "dropped": 0, "taken": 0}
        candidates = candidate_sources(conn)
        if not candidates:  # nothing was loaded by hand: no need to read the previous values
            return {"values": 0, "dropped": 0, "taken": 0}
        conn.execute("DROP TABLE IF EXISTS temp.reprises")
        conn.execute(f"""
            CREATE TEMP TABLE reprises AS
            SELECT indicateur, niveau, code, annee, valeur, valeur_texte, source FROM {SCHEMA}.valeurs
            WHERE source IN ({", ".join(str(int(c)) for c in candidates)})""")
        current = " OR ".join(f"(niveau = '{name}' AND code IN (SELECT {level.key} FROM main.{level.table}))"
                              for name, level in LEVELS.items())
        dropped = conn.execute(f"DELETE FROM temp.reprises WHERE NOT ({current})").rowcount
        rows = conn.execute("SELECT indicateur, niveau, code, annee, valeur, valeur_texte, source "
                            "FROM temp.reprises").fetchall()
        if not rows:
            return {"values": 0, "dropped": dropped, "taken": 0}
        columns = ", ".join(catalogue.CATALOGUE_COLUMNS)
        conn.execute(f"""INSERT OR IGNORE INTO main.indicateurs ({columns})
                         SELECT {columns} FROM {SCHEMA}.indicateurs
                         WHERE code IN (SELECT DISTINCT indicateur FROM temp.reprises)""")
        pairs = {(r[0], r[1]) for r in rows}
        known = store.registry(conn)
        missing = {p for p in pairs if p not in known}
        places, titles = previous_places(conn, missing)
        store.declare(conn, places, titles)
        where = store.registry(conn)
        taken = occupied(conn, [where[p] for p in pairs])
        kept = [r for r in rows if (where[r[0], r[1]].table, r[2], r[3], where[r[0], r[1]].source) not in taken]
        for code, level in sorted({(r[0], r[1]) for r in kept}):
            levels = conn.execute("SELECT niveaux FROM main.indicateurs WHERE code = ?", (code,)).fetchone()[0]
            present = set(levels.split(",")) | {level}
            conn.execute("UPDATE main.indicateurs SET niveaux = ? WHERE code = ?",
                         (",".join(lvl for lvl in SMALLEST_FIRST if lvl in present), code))
        new_ids = {}
        for old in sorted({r[6] for r in kept}):
            row = conn.execute(f"""SELECT producteur, titre, url, fichier, millesime, date_chargement, sha256, mapping,
                                          nb_codes_inconnus, exemples_codes_inconnus, note
                                   FROM {SCHEMA}.sources_donnees WHERE id = ?""", (old,)).fetchone()
            fields = dict(zip(("producteur", "titre", "url", "fichier", "millesime", "date_chargement", "sha256",
                               "mapping", "nb_codes_inconnus", "exemples_codes_inconnus", "note"), row))
            fields["note"] = ((fields["note"] or "") + " Reprise de la base précédente par oc build.").strip()
            fields["nb_valeurs"] = sum(1 for r in kept if r[6] == old)
            new_ids[old] = catalogue.add_source(conn, **fields)
        store.write(conn, [(*r[:6], new_ids[r[6]]) for r in kept])
        conn.execute("DROP TABLE temp.reprises")
        return {"values": len(kept), "dropped": dropped, "taken": len(rows) - len(kept)}
    finally:
        conn.commit()
        conn.execute(f"DETACH DATABASE {SCHEMA}")


def build_step(db, ctx):
    """`oc build` step, after the mappings: the previous oc.db's hand-loaded values."""
    previous = ctx.previous_db
    if previous is None or not Path(previous).exists():
        return
    with ctx.reporter.step("Indicateurs : reprise des valeurs chargées à la main dans la base précédente"):
        result = carry_over(db.conn, Path(previous))
        db.conn.commit()
    if result["values"] or result["dropped"] or result["taken"]:
        ctx.reporter.echo(f"Valeurs reprises de la base précédente : {result['values']} ; écartées (territoire "
                          f"disparu) : {result['dropped']} ; écartées (ligne déjà chargée d'une autre source) : "
                          f"{result['taken']}.")
