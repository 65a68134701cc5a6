"""A French error page when a SQL query is cut at the time limit (sql_time_limit_ms).

The DSFR theme (datasette-dsfr-theme) translates every Datasette error, this one included: when
it is installed this hook stands aside. Without it (bare installation, theme switched off), the
page a user gets for a runaway query must still be in French. JSON keeps Datasette's own error.
"""

from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils.asgi import Response
from markupsafe import Markup

THEME_MODULE = "datasette_dsfr_theme"
TITLE = "Requête SQL interrompue"
MESSAGE = Markup(
    "<p>La requête SQL a pris trop de temps et a été interrompue. Le délai maximal est fixé par "
    "le paramètre <code>sql_time_limit_ms</code> de Datasette. Simplifiez la requête ou ajoutez "
    "une clause <code>limit</code>.</p>"
)


def theme_installed() -> bool:
    return any(
        getattr(plugin, "__name__", "").startswith(THEME_MODULE) for _, plugin in pm.list_name_plugin()
    )


@hookimpl
def handle_exception(datasette, request, exception):
    if getattr(exception, "title", None) != "SQL Interrupted" or theme_installed():
        return None
    if request.path.split("?")[0].endswith(".json"):
        return None

    async def french_page():
        template = datasette.jinja_env.select_template(["400.html", "error.html"])
        html = await template.render_async({
            "ok": False,
            "error": MESSAGE,
            "status": 400,
            "title": TITLE,
            "urls": datasette.urls,
            "app_css_hash": datasette.app_css_hash(),
            "menu_links": lambda: [],
        })
        headers = {}
        if datasette.cors:
            headers["Access-Control-Allow-Origin"] = "*"
        return Response.html(html, status=400, headers=headers)

    return french_page
