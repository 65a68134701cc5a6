"""`oc build` step: the indicators' values for France as a whole (france.sql), for the fiches' key figures.

They are computed from the régions' values, once every indicator is loaded: a fiche compares its
territory with its parent and with France without summing 35,000 communes at each request.
"""

from pathlib import Path

SQL = Path(__file__).with_name("france.sql")


def build_step(db, ctx):
    with ctx.reporter.step("Indicateurs : valeurs de la France"):
        db.conn.executescript(SQL.read_text(encoding="utf-8"))
        db.conn.commit()
