"""The `ressource` section of a mapping: how to find the producer's current file.

    ressource:
      type: datagouv              # data.gouv.fr API v1: GET /api/1/datasets/{jeu_de_donnees}/
      jeu_de_donnees: 5e174be4634f414cd8a244f1
      titre: "(?i)communes"       # the resource's title must match (regular expression)
      format: csv                 # its declared format
      annee: "(20\\d{2})"         # the vintage, first group of this expression in the title: the latest wins
      annee_min: 2023

    ressource:
      type: opendatasoft          # OpenDataSoft Explore v2.1: the dataset's CSV export
      portail: https://data.ofgl.fr
      jeu_de_donnees: ofgl-base-communes-consolidee
      champ_indicateur: agregat   # export only the rows whose field takes one of the indicators' values

    ressource:
      type: fichier               # a fixed address on the producer's file host (INSEE)
      url: https://www.insee.fr/fr/statistiques/fichier/2521169/base_cc_comparateur_csv.zip

`parse_rule` is pure and raises ValueError with a French message; the mapping parser names the mapping.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlparse

TYPES = ("datagouv", "opendatasoft", "fichier")
DATAGOUV_API = "https://www.data.gouv.fr/api/1"


@dataclass(frozen=True)
class Rule:
    type: str
    jeu_de_donnees: str | None = None
    url: str | None = None  # fichier: the file; opendatasoft: the portal; datagouv: the API root
    titre: str | None = None
    format: str | None = None
    annee: str | None = None
    annee_min: int | None = None
    champ_indicateur: str | None = None
    taille_max_mo: int | None = None

    @property
    def dataset_label(self) -> str:
        """What the lock records as the dataset: its identifier, or the file's address."""
        return self.jeu_de_donnees or self.url or ""


def _web_url(value, key: str) -> str:
    if not isinstance(value, str) or urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc:
        raise ValueError(f"ressource.{key} : une adresse http(s) est attendue (« {value} »)")
    return value.rstrip("/") if key in ("portail", "api") else value


def _regex(value, key: str, group: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"ressource.{key} : une expression régulière (texte) est attendue")
    try:
        compiled = re.compile(value)
    except re.error as e:
        raise ValueError(f"ressource.{key} : expression régulière invalide ({e})") from None
    if group and compiled.groups < 1:
        raise ValueError(f"ressource.{key} : l'expression doit capturer l'année entre parenthèses")
    return value


def parse_rule(raw) -> Rule:
    """Check a mapping's `ressource` section and return its Rule."""
    if not isinstance(raw, dict):
        raise ValueError("ressource : un dictionnaire est attendu")
    kind = raw.get("type")
    if kind not in TYPES:
        raise ValueError(f"ressource.type « {kind} » inconnu ({', '.join(TYPES)})")
    known = {"type", "jeu_de_donnees", "url", "portail", "api", "titre", "format", "annee", "annee_min",
             "champ_indicateur", "taille_max_mo"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"ressource : clé(s) inconnue(s) {', '.join(unknown)}")
    size = raw.get("taille_max_mo")
    if size is not None and (not isinstance(size, int) or size <= 0):
        raise ValueError("ressource.taille_max_mo : un entier positif est attendu")
    if kind == "fichier":
        return Rule(type=kind, url=_web_url(raw.get("url"), "url"), taille_max_mo=size)
    dataset = raw.get("jeu_de_donnees")
    if not isinstance(dataset, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", dataset):
        raise ValueError("ressource.jeu_de_donnees : identifiant ou slug du jeu de données attendu")
    if kind == "opendatasoft":
        field = raw.get("champ_indicateur")
        if field is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*", str(field)):
            raise ValueError("ressource.champ_indicateur : nom de champ OpenDataSoft attendu (minuscules, _)")
        return Rule(type=kind, jeu_de_donnees=dataset, url=_web_url(raw.get("portail"), "portail"),
                    format="csv", champ_indicateur=field, taille_max_mo=size)
    minimum = raw.get("annee_min")
    if minimum is not None and not isinstance(minimum, int):
        raise ValueError("ressource.annee_min : une année (entier) est attendue")
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise ValueError("ressource.format : un format (csv, xlsx, zip…) est attendu")
    return Rule(
        type=kind, jeu_de_donnees=dataset, url=_web_url(raw.get("api", DATAGOUV_API), "api"),
        titre=_regex(raw["titre"], "titre") if raw.get("titre") is not None else None,
        format=fmt.lower() if fmt else None,
        annee=_regex(raw["annee"], "annee", group=True) if raw.get("annee") is not None else None,
        annee_min=minimum, taille_max_mo=size,
    )
