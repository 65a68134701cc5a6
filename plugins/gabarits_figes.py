"""Templates read once: Jinja no longer looks for template files on every page.

- By default Jinja's environment stats each template it uses (base, header, footer, includes: about
  twenty files for a table page) on every rendering, to reload the ones that changed.
- Datasette asks first for the templates a site may add for one database, table or query
  (`row-oc-communes.html`, `_table-oc-communes.html`…) and then for the general one: each name that
  does not exist is looked for again in the three template folders (the site's, the theme's,
  Datasette's) on every page, about 35 µs for two names. The names not found are now remembered.

Templates only change with a deployment, which starts a new process; `datasette --reload` restarts
the server too.
"""

from datasette import hookimpl
from jinja2 import BaseLoader, TemplateNotFound

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


@hookimpl
def prepare_jinja2_environment(env):
    env.auto_reload = False
    if env.loader is not None and not isinstance(env.loader, MissesRemembered):
        env.loader = MissesRemembered(env.loader)
