"""`oc build` keeps what `oc indicators load` loaded into the previous oc.db.

A rebuild recomputes the offline indicators and reloads the mappings whose file it has; a value loaded
by hand (an OFGL export, a newer DGCL file…) has no file the build could reread. Such values — those
whose source names a mapping — are copied from the previous database when the new one has no value for
the same territory, indicator and year, with their catalogue entry and their source (noted as carried
over). Values of territories that no longer exist are left out and counted.
"""

from pathlib import Path

from oc_site.levels import LEVELS, SMALLEST_FIRST

from . import catalogue

SCHEMA = "precedente"


def _has_tables(conn, names) -> bool:
    found = {r[0] for r in conn.execute(f"SELECT name FROM {SCHEMA}.sqlite_master WHERE type = 'table'")}
    return set(names) <= found


def _current_territory(alias: str) -> str:
    """SQL condition: the value's territory exists in the new database."""
    tests = [f"({alias}.niveau = '{name}' AND {alias}.code IN (SELECT {level.key} FROM main.{level.table}))"
             for name, level in LEVELS.items()]
    return "(" + " OR ".join(tests) + ")"


def carry_over(conn, previous: Path) -> dict:
    """Copy the hand-loaded values of `previous` absent from the database being built."""
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(previous),))
    try:
        if not _has_tables(conn, ("valeurs", "sources_donnees", "indicateurs")):
            return {"values": 0, "dropped": 0}
        # the sources of mapping loads that this build did not redo (same file: same SHA-256)
        candidates = [r[0] for r in conn.execute(f"""
            SELECT s.id FROM {SCHEMA}.sources_donnees s
            WHERE s.mapping IS NOT NULL
              AND (s.sha256 IS NULL OR s.sha256 NOT IN (SELECT sha256 FROM main.sources_donnees
                                                       WHERE sha256 IS NOT NULL))
              AND NOT EXISTS (SELECT 1 FROM main.sources_donnees m WHERE m.mapping = s.mapping
                              AND m.sha256 IS NULL AND m.millesime = s.millesime AND s.sha256 IS NULL)""")]
        if not candidates:  # nothing was loaded by hand: no need to read the previous values
            return {"values": 0, "dropped": 0}
        conn.execute("DROP TABLE IF EXISTS temp.reprises")
        conn.execute(f"""
            CREATE TEMP TABLE reprises AS
            SELECT v.* FROM {SCHEMA}.valeurs v
            WHERE v.source IN ({", ".join(str(int(c)) for c in candidates)})
              AND NOT EXISTS (SELECT 1 FROM main.valeurs w WHERE w.niveau = v.niveau AND w.code = v.code
                              AND w.indicateur = v.indicateur AND w.annee = v.annee)""")
        dropped = conn.execute(f"DELETE FROM temp.reprises WHERE NOT {_current_territory('reprises')}").rowcount
        if not conn.execute("SELECT 1 FROM temp.reprises LIMIT 1").fetchone():
            return {"values": 0, "dropped": dropped}
        columns = ", ".join(catalogue.CATALOGUE_COLUMNS)
        conn.execute(f"""INSERT OR IGNORE INTO main.indicateurs ({columns})
                         SELECT {columns} FROM {SCHEMA}.indicateurs
                         WHERE code IN (SELECT DISTINCT indicateur FROM temp.reprises)""")
        for code, level in conn.execute("SELECT DISTINCT indicateur, niveau FROM temp.reprises").fetchall():
            levels = conn.execute("SELECT niveaux FROM main.indicateurs WHERE code = ?", (code,)).fetchone()[0]
            present = set(levels.split(",")) | {level}
            conn.execute("UPDATE main.indicateurs SET niveaux = ? WHERE code = ?",
                         (",".join(lvl for lvl in SMALLEST_FIRST if lvl in present), code))
        new_ids = {}
        for (old,) in conn.execute("SELECT DISTINCT source FROM temp.reprises").fetchall():
            row = conn.execute(f"""SELECT producteur, titre, url, fichier, millesime, date_chargement, sha256, mapping,
                                          nb_codes_inconnus, exemples_codes_inconnus, note
                                   FROM {SCHEMA}.sources_donnees WHERE id = ?""", (old,)).fetchone()
            fields = dict(zip(("producteur", "titre", "url", "fichier", "millesime", "date_chargement", "sha256",
                               "mapping", "nb_codes_inconnus", "exemples_codes_inconnus", "note"), row))
            fields["note"] = ((fields["note"] or "") + " Reprise de la base précédente par oc build.").strip()
            fields["nb_valeurs"] = conn.execute("SELECT count(*) FROM temp.reprises WHERE source = ?",
                                                (old,)).fetchone()[0]
            new_ids[old] = catalogue.add_source(conn, **fields)
        rows = conn.execute("SELECT indicateur, niveau, code, annee, valeur, valeur_texte, source "
                            "FROM temp.reprises").fetchall()
        catalogue.insert_values(conn, [(*r[:6], new_ids[r[6]]) for r in rows])
        conn.execute("DROP TABLE temp.reprises")
        return {"values": len(rows), "dropped": dropped}
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
        if result["values"]:
            catalogue.refresh_views(db.conn)
            db.conn.commit()
    if result["values"] or result["dropped"]:
        ctx.reporter.echo(f"Valeurs reprises de la base précédente : {result['values']} ; écartées (territoire "
                          f"disparu) : {result['dropped']}.")
