#!/usr/bin/env python3
"""Snapshots of what the site answers, to check that a refactoring changes nothing a user sees.

    scripts/page_snapshots.py take  --url http://127.0.0.1:8001 DIR   (every page type, written to DIR)
    scripts/page_snapshots.py compare DIR_BEFORE DIR_AFTER              (exit 1 and the diffs if they differ)

It fetches the site's page types over real HTTP (a server started with scripts/serve.sh on a full oc.db):
fiches of the four levels and their edge cases, search, comparison, publications, the Datasette pages
(database, table, row, canned query, SQL), exports (CSV, JSON, Atom) and the static pages. Each body is
written with its status and content type; what changes with every version of the code without changing
what a user sees (asset version hashes, ETags) is masked before writing.
"""

import argparse
import difflib
import re
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

PAGES = [
    "/", "/recherche?q=rennes", "/recherche?q=saint&niveau=commune&page=2", "/recherche.json?q=renn",
    "/recherche.json?q=35238", "/recherche?q=zzzzqqq",
    "/commune/35238", "/commune/01001", "/commune/2A004", "/commune/97411", "/commune/60694", "/commune/75056",
    "/commune/75101", "/commune/rennes-35238", "/commune/99999",
    "/epci/243500139", "/epci/200046977", "/epci/rennes-metropole",
    "/departement/35", "/departement/2A", "/departement/974", "/departement/ille-et-vilaine",
    "/region/53", "/region/04", "/region/bretagne",
    "/commune/35238?tri=nom", "/departement/35?tri=densite&ordre=asc",
    "/comparer", "/comparer?codes=35238,29019,56260", "/comparer.csv?codes=35238,29019",
    "/comparer.json?codes=35,29", "/comparer?niveau=epci&codes=243500139&ajouter=brest",
    "/comparer?codes=35238&ajouter=finistere", "/comparer?codes=35238,243500139", "/comparer?niveau=epci",
    "/comparer?niveau=region&codes=53,52&ajouter=rennes", "/comparer?niveau=departement&codes=35,2A&ajouter=zzzz",
    "/comparer?codes=53,52", "/comparer.json?codes=2a004,35238", "/recherche?q=rennes&niveau=epci",
    "/publications", "/publications?theme=finances&page=2", "/publications?q=population",
    "/publications.atom", "/publications?territoire=commune:35238", "/publications.atom?q=popul&niveau=commune",
    "/publications?q=donnees+commun&niveau=commune", "/publications?territoire=commune:123",
    "/plan-du-site", "/sources", "/mentions-legales", "/accessibilite", "/contact", "/faq",
    "/oc", "/oc/communes", "/oc/communes?departement=35&_sort=nom", "/oc/communes/35238",
    "/oc/communes.json?_size=3", "/oc/communes.csv?_size=5", "/oc/epci/243500139", "/oc/valeurs_communes_large?_size=5",
    "/oc/regions", "/oc/indicateurs", "/oc/publications?_size=5",
    "/oc/communes_classees_par_indicateur?departement=35&indicateur=densite",
    "/oc/epci_classes_par_indicateur?departement=35&indicateur=densite",
    "/oc/communes_classees_par_indicateur.csv?departement=35&indicateur=densite",
    "/oc/territoires_classes_par_indicateur?niveau=commune&departement=35&indicateur=densite",
    "/oc/contours_communes.json?niveau=epci&code=243500139&indicateurs=densite,evolution_population_pct,"
    "dgf_par_habitant&_shape=array&_json=contour&_json=valeurs",
    "/oc/communes_dgf_territoire.csv?niveau=region&code=53&_size=max",
    "/oc/communes_departement_dgf_par_habitant.csv?departement=35&_size=max", "/oc/dsu_departement.csv?departement=93",
    "/oc/chiffres_cles?niveau=commune&code=35238&indicateurs=population_municipale,densite",
    "/oc/series_indicateurs?niveau=commune&code=35238&indicateurs=dgf_totale,dsu",
    "/oc/communes_departement.csv?departement=35&_size=max",
    "/oc?sql=" + quote("select code_insee, nom, population from communes order by population desc limit 5"),
    "/oc.json?sql=" + quote("select count(*) from communes"),
    "/oc?sql=" + quote("select * from nope"),
    "/-/versions", "/oc/fiche_commune?code=35238",
]

MASKS = [
    (re.compile(r"/-/v/[0-9a-f]{6,}/"), "/-/v/HASH/"),
    (re.compile(r"([?&]v=)[0-9a-f]{6,}"), r"\1HASH"),
    (re.compile(r'W/"[0-9a-f]{8,}-[0-9a-f]{6,}"'), 'W/"ETAG"'),
    (re.compile(r"(Temps d'exécution|en )[0-9][0-9,.\s]*ms"), r"\1N ms"),
    (re.compile(r"[0-9]+(?:[.,][0-9]+)?\s?ms\b"), "N ms"),
    (re.compile(r'"query_ms": [0-9.e-]+'), '"query_ms": N'),
    (re.compile(r"(https?:)?(//|\\/\\/)(127\.0\.0\.1|localhost):[0-9]+"), "//HOST"),
]


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def file_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path.strip("/") or "index")[:150] + ".txt"


def take(url: str, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=url, timeout=60, follow_redirects=False) as client:
        for path in PAGES:
            response = client.get(path)
            head = (f"{path}\nstatus: {response.status_code}\ncontent-type: {response.headers.get('content-type')}\n"
                    f"location: {response.headers.get('location', '')}\n\n")
            (out / file_name(path)).write_text(mask(head + response.text), encoding="utf-8")
            print(f"{response.status_code} {len(response.content):>8} {path}")


def compare(before: Path, after: Path) -> int:
    differing = 0
    for old in sorted(before.glob("*.txt")):
        new = after / old.name
        a = old.read_text(encoding="utf-8").splitlines()
        b = new.read_text(encoding="utf-8").splitlines() if new.exists() else ["(absent)"]
        # whitespace between tags does not show
        a = [line.strip() for line in a if line.strip()]
        b = [line.strip() for line in b if line.strip()]
        if a != b:
            differing += 1
            print(f"--- {old.name}")
            sys.stdout.writelines(line + "\n" for line in list(difflib.unified_diff(a, b, lineterm="", n=1))[:40])
    print(f"{differing} page(s) différente(s) sur {len(list(before.glob('*.txt')))}")
    return 1 if differing else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("take")
    t.add_argument("--url", default="http://127.0.0.1:8001")
    t.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "take":
        take(args.url, args.out)
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
