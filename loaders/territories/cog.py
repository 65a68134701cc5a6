"""The Code officiel géographique (COG) as published by @etalab/decoupage-administratif.

Pure functions: JSON documents in, rows (dicts) out. Every code stays a string.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import SourceError

# The vintages of @etalab/decoupage-administratif (its version is pinned in package.json).
COG_YEAR = 2026
# Populations légales millésimées 2023, en vigueur au 1er janvier 2026 (INSEE, décembre 2025).
POPULATION_YEAR = 2023


def in_force(census_year: int) -> int:
    """The year on whose 1 January the populations légales of a census year come into force."""
    return census_year + 3


@dataclass(frozen=True)
class Census:
    """The census behind the `population` of the COG JSON for some départements or collectivités."""

    year: int
    title: str
    url: str


# The package takes the populations of Mayotte and of the collectivités d'outre-mer from other INSEE
# publications than the populations légales 2023 (its README, « Sources »): their census year differs.
# Mayotte: last exhaustive census in 2017 (« population Mayotte INSEE 2017 »). Collectivités d'outre-mer
# (INSEE, populations des collectivités d'outre-mer en 2023): Saint-Pierre-et-Miquelon, Saint-Barthélemy
# and Saint-Martin follow the annual census (2023); « les résultats les plus récents portent sur l'année
# 2025 pour la Nouvelle-Calédonie, sur l'année 2022 pour la Polynésie française et sur l'année 2023 pour
# Wallis et Futuna ».
CENSUS_DEFAULT = Census(POPULATION_YEAR, f"Populations légales {POPULATION_YEAR} (en vigueur au 1er janvier "
                        f"{in_force(POPULATION_YEAR)})",
                        "https://www.insee.fr/fr/statistiques/8680726?sommaire=8681011")
_COM_POPULATIONS = "https://www.insee.fr/fr/statistiques/8680702?sommaire=8681011"
CENSUS_EXCEPTIONS = {
    "976": Census(2017, "Populations légales de Mayotte en 2017 (dernier recensement exhaustif)",
                  "https://www.insee.fr/fr/statistiques/3291775?sommaire=2120838"),
    "987": Census(2022, "Populations de la Polynésie française (recensement général de 2022)", _COM_POPULATIONS),
    "988": Census(2025, "Populations de la Nouvelle-Calédonie (recensement général de 2025)", _COM_POPULATIONS),
}


def census(departement: str) -> Census:
    return CENSUS_EXCEPTIONS.get(departement, CENSUS_DEFAULT)


# The JSON gives the TAAF (984) the chef-lieu of Saint-Pierre-et-Miquelon (97502), a commune of another
# collectivité: the TAAF have no chef-lieu on their territory (their administration sits at Saint-Pierre,
# La Réunion). data/notices.yml says so on their fiches.
CHEF_LIEU_CORRECTIONS = {"984": None}


def chef_lieu(item: dict) -> str | None:
    return CHEF_LIEU_CORRECTIONS.get(item["code"], item["chefLieu"])


FILES = ("regions", "departements", "arrondissements", "communes", "epci", "ept")

EPCI_TYPES = {
    "CC": "Communauté de communes",
    "CA": "Communauté d'agglomération",
    "CU": "Communauté urbaine",
    "METRO": "Métropole",
    "MET69": "Métropole de Lyon",
}
SECONDARY_TYPES = {
    "commune-deleguee": "Commune déléguée",
    "commune-associee": "Commune associée",
    "arrondissement-municipal": "Arrondissement municipal",
}
ZONES = {"metro": "Métropole", "drom": "Outre-mer (DROM)", "com": "Outre-mer (COM)"}
CHEF_LIEU_LABELS = {
    "prefecture_region": "Préfecture de région",
    "prefecture": "Préfecture",
    "sous_prefecture": "Sous-préfecture",
}
REQUIRED_KEYS = {
    "regions": ("code", "nom", "chefLieu", "zone"),
    "departements": ("code", "nom", "region", "chefLieu", "zone"),
    "arrondissements": ("code", "nom", "departement", "region", "chefLieu"),
    "communes": ("code", "nom", "type", "departement", "region", "zone"),
    "epci": ("code", "nom", "type", "membres"),
    "ept": ("code", "nom", "membres"),
}


def load(directory: Path) -> dict[str, list[dict]]:
    """Read and check the six JSON files of the package."""
    documents = {}
    for name in FILES:
        path = Path(directory) / f"{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise SourceError("fichier introuvable", path) from e
        except UnicodeDecodeError as e:
            raise SourceError("encodage invalide (UTF-8 attendu)", path) from e
        except json.JSONDecodeError as e:
            raise SourceError(
                f"JSON invalide ou tronqué (ligne {e.lineno}, colonne {e.colno} : {e.msg})", path
            ) from e
        if not isinstance(data, list) or not data:
            raise SourceError("liste d'objets attendue, contenu vide ou inattendu", path)
        for index, item in enumerate(data):
            missing = [k for k in REQUIRED_KEYS[name] if not isinstance(item, dict) or k not in item]
            if missing:
                raise SourceError(
                    f"enregistrement n° {index + 1} incomplet : champ(s) {', '.join(missing)} manquant(s)", path
                )
        documents[name] = data
    check_references(documents, Path(directory))
    return documents


def check_references(documents: dict[str, list[dict]], directory: Path):
    """Every chef-lieu and EPCI/EPT member must be a commune of communes.json: a truncated or half-empty
    communes.json is reported naming it, not later as orphan rows of the database."""
    communes = {c["code"] for c in documents["communes"]}
    current = {c["code"] for c in documents["communes"] if c.get("type") == "commune-actuelle"}
    missing = {}
    for name in ("regions", "departements", "arrondissements"):
        for item in documents[name]:
            if item["chefLieu"] not in communes:
                missing.setdefault(item["chefLieu"], f"chef-lieu dans {name}.json")
    for name in ("epci", "ept"):
        for item in documents[name]:
            for member in item["membres"]:
                if member.get("code") not in current:
                    missing.setdefault(member.get("code"), f"membre de {item['code']} dans {name}.json")
    if missing:
        examples = ", ".join(f"{code} ({where})" for code, where in list(missing.items())[:3])
        raise SourceError(f"{len(missing)} commune(s) citée(s) par les autres fichiers du COG y sont absentes, "
                          f"par exemple {examples} : fichier incomplet ou tronqué ?", directory / "communes.json")


def chef_lieu_status(documents) -> dict[str, str]:
    """Code INSEE → 'prefecture_region' | 'prefecture' | 'sous_prefecture' (highest rank wins).

    The collectivités d'outre-mer have a chef-lieu in the COG but no préfecture de département
    or de région in the same sense: they get no status.
    """
    status = {}
    for item in documents["arrondissements"]:
        status[item["chefLieu"]] = "sous_prefecture"
    for item in documents["departements"]:
        if item["zone"] != "com":
            status[item["chefLieu"]] = "prefecture"
    for item in documents["regions"]:
        if item["zone"] != "com":
            status[item["chefLieu"]] = "prefecture_region"
    return status


def epci_of_commune(documents) -> dict[str, str]:
    membership = {}
    for epci in documents["epci"]:
        for member in epci["membres"]:
            membership[member["code"]] = epci["code"]
    return membership


def ept_of_commune(documents) -> dict[str, str]:
    return {m["code"]: ept["code"] for ept in documents["ept"] for m in ept["membres"]}


def commune_rows(documents) -> list[dict]:
    status = chef_lieu_status(documents)
    epci = epci_of_commune(documents)
    ept = ept_of_commune(documents)
    rows = []
    for c in documents["communes"]:
        if c["type"] != "commune-actuelle":
            continue
        code = c["code"]
        rows.append({
            "code_insee": code,
            "nom": c["nom"],
            "departement": c["departement"],
            "region": c["region"],
            "arrondissement": c.get("arrondissement") or None,
            "epci": epci.get(code),
            "ept": ept.get(code),
            "siren": c.get("siren"),
            "zone": c["zone"],
            "chef_lieu": status.get(code),
            "population": c.get("population"),
            "annee_population": census(c["departement"]).year if c.get("population") is not None else None,
            "anciens_codes": ",".join(c.get("anciensCodes", [])) or None,
        })
    return rows


def deleguees_count(documents) -> dict[str, int]:
    """Code of a current commune → its number of communes déléguées."""
    counts: dict[str, int] = {}
    for c in documents["communes"]:
        if c["type"] == "commune-deleguee":
            counts[c["chefLieu"]] = counts.get(c["chefLieu"], 0) + 1
    return counts


def names(documents) -> dict[str, str]:
    """Code → name of every commune, current or secondary (a current commune wins on a shared code)."""
    found = {c["code"]: c["nom"] for c in documents["communes"] if c["type"] != "commune-actuelle"}
    found.update({c["code"]: c["nom"] for c in documents["communes"] if c["type"] == "commune-actuelle"})
    return found


def secondary_rows(documents) -> list[dict]:
    rows = []
    for c in documents["communes"]:
        if c["type"] not in SECONDARY_TYPES:
            continue
        rows.append({
            "code_insee": c["code"],
            "type": c["type"],
            "type_libelle": SECONDARY_TYPES[c["type"]],
            "nom": c["nom"],
            "commune_parente": c.get("chefLieu") or c.get("commune"),
            "departement": c["departement"],
            "region": c["region"],
            "population": c.get("population"),
            "annee_population": census(c["departement"]).year if c.get("population") is not None else None,
        })
    return rows


def postal_code_rows(documents) -> list[dict]:
    seen = set()
    rows = []
    for c in documents["communes"]:
        if c["type"] != "commune-actuelle":
            continue
        for postal in c.get("codesPostaux", []):
            if (postal, c["code"]) not in seen:
                seen.add((postal, c["code"]))
                rows.append({"code_postal": postal, "code_insee": c["code"]})
    # arrondissements municipaux carry the detailed postal codes of Paris, Lyon and Marseille
    for c in documents["communes"]:
        if c["type"] == "arrondissement-municipal":
            for postal in c.get("codesPostaux", []):
                if (postal, c["commune"]) not in seen:
                    seen.add((postal, c["commune"]))
                    rows.append({"code_postal": postal, "code_insee": c["commune"]})
    return rows


def region_rows(documents) -> list[dict]:
    return [
        {"code": r["code"], "nom": r["nom"], "zone": r["zone"], "chef_lieu": chef_lieu(r)}
        for r in documents["regions"]
    ]


def departement_rows(documents) -> list[dict]:
    return [
        {"code": d["code"], "nom": d["nom"], "region": d["region"], "zone": d["zone"],
         "chef_lieu": chef_lieu(d), "type_liaison": d.get("typeLiaison")}
        for d in documents["departements"]
    ]


def arrondissement_rows(documents) -> list[dict]:
    return [
        {"code": a["code"], "nom": a["nom"], "departement": a["departement"], "region": a["region"],
         "chef_lieu": a["chefLieu"]}
        for a in documents["arrondissements"]
    ]


def epci_rows(documents) -> list[dict]:
    return [
        {"siren": e["code"], "nom": e["nom"], "type": e["type"],
         "type_libelle": EPCI_TYPES.get(e["type"], e["type"]),
         "mode_financement": e.get("modeFinancement") or None}
        for e in documents["epci"]
    ]


def ept_rows(documents) -> list[dict]:
    return [{"siren": e["code"], "nom": e["nom"]} for e in documents["ept"]]
