"""The Jinja environment: templates read once, the `lien_web` filter, the `fiche_url` function and the levels.

Templates read once: Jinja no longer looks for template files on every page.

- By default Jinja's environment stats each template it uses (base, header, footer, includes: about
  twenty files for a table page) on every rendering, to reload the ones that changed.
- Datasette asks first for the templates a site may add for one database, table or query
  (`row-oc-communes.html`, `_table-oc-communes.html`…) and then for the general one: each name that
  does not exist is looked for again in the three template folders (the site's, the theme's,
  Datasette's) on every page, about 35 µs for two names. The names not found are now remembered.

Templates only change with a deployment, which starts a new process; `datasette --reload` restarts
the server too.

The `lien_web` filter renders an address as a link only if it is http(s). Addresses shown as links
come from the data (publications harvested from feeds, the `url:` of an indicator mapping, the mayor's
site): checked when they are stored, and once more here, where they are rendered, so that a
`javascript:` or `data:` address coming from an older oc.db or a new loader can never reach an href
(the Content-Security-Policy allows inline scripts).

`fiche_url(level, code)` is the address of a territory's fiche (the level registry's `url`): templates
link to a fiche with it, `{{ fiche_url("commune", c.code_insee) }}`, never with an address typed in; and
`niveaux` is the level registry (oc_site/levels.py: `niveaux["epci"].plural`…) in every template; the
`date_fr` filter writes a date the French way (« 12 décembre 2024 »).
"""

from jinja2 import BaseLoader, TemplateNotFound

from oc_site.levels import LEVELS, category
from oc_site.text import de, french_date
from oc_site.urls import web_url

REMEMBERED_AT_MOST = 10_000  # names of tables and queries: a bound against surprises, never reached


class MissesRemembered(BaseLoader):
    """Datasette's loader, with the names it did not find remembered."""

    def __init__(self, loader: BaseLoader):
        self.loader = loader
        self.missing: set[str] = set()

    def get_source(self, environment, template):
        if template in self.missing:
            raise TemplateNotFound(template)
        try:
            return self.loader.get_source(environment, template)
        except TemplateNotFound:
            if len(self.missing) < REMEMBERED_AT_MOST:
                self.missing.add(template)
            raise

    def list_templates(self):
        return self.loader.list_templates()


def fiche_url(level: str, code) -> str:
    return LEVELS[level].url(code)


def prepare_environment(env):
    env.filters["lien_web"] = web_url
    env.filters["date_fr"] = french_date  # « 2024-12-12 » → « 12 décembre 2024 »
    env.filters["de"] = de  # « de Rennes », « d'Ajaccio », « du Havre » (oc_site/text.py)
    env.filters["date_fr"] = french_date  # « 1er juillet 2021 » (oc_site/text.py)
    env.globals["fiche_url"] = fiche_url
    env.globals["niveaux"] = LEVELS
    env.globals["categorie"] = category  # « région », « collectivité d'outre-mer » (oc_site/levels.py)
    env.auto_reload = False
    if env.loader is not None and not isinstance(env.loader, MissesRemembered):
        env.loader = MissesRemembered(env.loader)
