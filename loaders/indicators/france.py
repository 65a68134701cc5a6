"""`oc build` step: the indicators' values for France as a whole (france.sql), for the fiches' key figures.

They are computed from the régions' values, once every indicator is loaded: a fiche compares its
territory with its parent and with France without summing 35,000 communes at each request. france.sql
reads the régions' values in the long form, from a temporary view of the régions' value tables.
"""

from pathlib import Path

from . import views

SQL = Path(__file__).with_name("france.sql")


def regions_view(conn):
    """valeurs_regions (indicateur, code, annee, valeur, source): every value of the régions."""
    arms = [views.arm(c) for c in views.ordered_columns(conn) if c.level == "region" and c.kind != "texte"]
    select = "\nUNION ALL\n".join(f"SELECT indicateur, code, annee, valeur, source FROM ({arm})" for arm in arms)
    conn.execute("DROP VIEW IF EXISTS temp.valeurs_regions")
    conn.execute("CREATE TEMP VIEW valeurs_regions AS\n" + (
        select or "SELECT NULL AS indicateur, NULL AS code, NULL AS annee, NULL AS valeur, NULL AS source WHERE 0"))


def build_step(db, ctx):
    with ctx.reporter.step("Indicateurs : valeurs de la France"):
        regions_view(db.conn)
        db.conn.executescript(SQL.read_text(encoding="utf-8"))
        db.conn.execute("DROP VIEW temp.valeurs_regions")
        db.conn.commit()
