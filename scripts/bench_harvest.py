"""Bench: `oc harvest` on 100 RSS feeds served by a local HTTP server (127.0.0.1), on a copy of oc.db.

    .venv/bin/python scripts/bench_harvest.py [oc.db] [--feeds 100] [--items 20]

The feeds are files served by `python -m http.server` in its own process (it answers
If-Modified-Since with 304). Measures a first harvest (every feed downloaded, parsed, stored,
linked) and a second one (every feed answers 304 Not Modified). Prints the times; asserts nothing
(performance is not a test).
"""

import argparse
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loaders.publications import harvest  # noqa: E402

SUBJECTS = ["Les finances des communes", "L'emploi salarié", "La population légale", "Les dépenses sociales",
            "Le taux de pauvreté", "Les dotations de l'État", "Le logement social", "Les effectifs des collèges"]


def feed(number: int, items: int, places: list[str]) -> bytes:
    rng = random.Random(number)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    entries = []
    for i in range(items):
        place = rng.choice(places)
        title = f"{rng.choice(SUBJECTS)} à {place} en {rng.randint(2015, 2024)}"
        date = format_datetime(start + timedelta(days=rng.randint(0, 600)))
        entries.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://www.example-producteur.fr/flux{number}/publication-{i}</link>"
            f"<description>&lt;p&gt;{escape(title)} : analyse détaillée.&lt;/p&gt;</description>"
            f"<pubDate>{date}</pubDate><guid isPermaLink=\"false\">{number}-{i}</guid>"
            f"<category>Statistiques</category></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Flux {number}</title>'
            f"<link>https://www.example-producteur.fr/</link><description>Banc d'essai</description>"
            + "".join(entries) + "</channel></rss>").encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db", nargs="?", default=str(ROOT / "oc.db"))
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--garder", help="copier la base moissonnée à cet endroit (pour mesurer les pages)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "flux").mkdir()
        db = tmp / "oc.db"
        shutil.copy(args.db, db)
        with sqlite3.connect(db) as conn:
            places = [r[0] for r in conn.execute(
                "SELECT nom FROM communes ORDER BY population DESC LIMIT 300")] + \
                [r[0] for r in conn.execute("SELECT nom FROM departements")]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        sources = []
        for n in range(args.feeds):
            (tmp / "flux" / f"flux{n}.xml").write_bytes(feed(n, args.items, places))
            sources.append({"id": f"flux{n}", "nom": f"Flux {n}", "type": "rss",
                            "url": f"http://127.0.0.1:{port}/flux{n}.xml"})
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                   "--directory", str(tmp / "flux")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/flux0.xml", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        config = tmp / "sources.yml"
        config.write_text(yaml.safe_dump({"organisations": [], "sources": sources}))
        timings = []
        for label in ("première collecte", "seconde collecte (304)"):
            started = time.perf_counter()
            reports = harvest.harvest_database(db, [], tmp / "archive.jsonl", config_path=config)
            seconds = time.perf_counter() - started
            timings.append(seconds)
            print(f"{label} : {len(reports)} flux, {sum(r.new for r in reports)} nouvelles, "
                  f"{sum(r.status == 'non_modifie' for r in reports)} non modifiés, "
                  f"{sum(r.status == 'erreur' for r in reports)} en échec — {seconds:.2f} s")
        with sqlite3.connect(db) as conn:
            count, links = conn.execute(
                "SELECT (SELECT count(*) FROM publications), (SELECT count(*) FROM publications_territoires)").fetchone()
        print(f"base : {count} publications, {links} liens aux territoires ({args.db})")
        if args.garder:
            shutil.copy(db, args.garder)
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
