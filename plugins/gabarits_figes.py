"""Templates read once: Jinja no longer checks every template file's date on every page.

By default Jinja's environment stats each template it uses (base, header, footer, includes: about
twenty files for a table page) on every rendering, to reload the ones that changed. Templates only
change with a deployment, which starts a new process; `datasette --reload` restarts the server too.
"""

from datasette import hookimpl


@hookimpl
def prepare_jinja2_environment(env):
    env.auto_reload = False
