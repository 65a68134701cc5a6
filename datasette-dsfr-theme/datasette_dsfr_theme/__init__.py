"""datasette-dsfr-theme: DSFR or neutral French theme for Datasette 0.65."""

import sys
from pathlib import Path
from urllib.parse import parse_qsl

from datasette import hookimpl
from datasette.utils.asgi import NotFound, asgi_static
from jinja2 import Undefined
from markupsafe import Markup, escape

from . import assets, cells, formatting
from .config import (
    DIST_ROUTE_PREFIX,
    PLUGIN_NAME,
    ThemeConfig,
    dist_folder,
    is_identifier_column,
    load_config,
    vendored_assets_present,
)


def defined(value):
    """A template's value, None where the template had none (jinja2.Undefined: `sort` on a row page…)."""
    return None if isinstance(value, Undefined) else value


class ThemeContext:
    """Exposed to templates as ``dsfr_theme`` (works on error pages too)."""

    def __init__(self, datasette):
        self.datasette = datasette
        self._config = None
        self._urls = {}
        self._registered_labels = {}
        self._value_labels = {}
        self._number_columns = {}
        self._fragments = {}
        self._cell_links = {}
        self._registered_decimals = {}
        self._decimals = {}
        self._cell_labels = {}

    def add_column_labels(self, labels: dict) -> None:
        """Labels of columns given by another plugin (read from a database at startup, say);
        the configuration's ``column_labels`` and a table's own ``column_labels`` win."""
        self._registered_labels.update({str(k): str(v) for k, v in labels.items()})

    def add_value_labels(self, column: str, labels: dict) -> None:
        """Labels of a column's values (codes → names), shown in its facets where Datasette has no
        foreign key to expand (views, code columns) and in the cells of table and row pages: another
        plugin fills them from lookup tables (the configuration's ``value_labels`` win)."""
        self._value_labels.setdefault(str(column), {}).update({str(k): str(v) for k, v in labels.items()})
        self._cell_labels.clear()

    def value_labels(self, column: str) -> dict:
        """The labels of a column's values: registered ones, then the configuration's (kept per column)."""
        labels = self._cell_labels.get(column)
        if labels is None:
            labels = self._cell_labels[column] = {**self._value_labels.get(column, {}),
                                                  **self.config.value_labels.get(column, {})}
        return labels

    def value_label(self, column: str, value, label=None) -> str:
        """A facet value's label: Datasette's own (foreign key) when it differs from the value, else a
        registered or configured label, else the value."""
        if label is not None and str(label) != str(value):
            return str(label)
        if value is None or value == "":
            return ""
        return self.value_labels(column).get(str(value), str(value))

    def add_column_decimals(self, decimals: dict) -> None:
        """Decimals of columns' numbers in the HTML cells, given by another plugin (an indicator's own, read
        from a database at startup); the configuration's ``decimals`` win."""
        self._registered_decimals.update({str(k): int(v) for k, v in decimals.items() if v is not None})
        self._decimals.clear()

    def column_decimals(self, column: str):
        """The decimals of a column's decimal numbers in the HTML cells (None: as many as the value has)."""
        if column not in self._decimals:
            self._decimals[column] = self.config.decimals.get(column, self._registered_decimals.get(column))
        return self._decimals[column]

    def parameter_label(self, name: str, canned_query=None) -> str:
        """The French label of a canned query's parameter: the query's own ``param_labels`` (a mapping or a
        query string, like ``example``), the configuration's ``parameter_labels``, the column labels, else
        the name."""
        own = canned_query.get("param_labels") if isinstance(canned_query, dict) else None
        own = own if isinstance(own, dict) else dict(parse_qsl(own or "", keep_blank_values=True))
        return (own.get(name) or self.config.parameter_labels.get(name) or self.config.column_labels.get(name)
                or self._registered_labels.get(name) or name)

    def table_title(self, database: str, table: str) -> str:
        """A table's title from its metadata (« Communes »), else its name."""
        return (self.datasette.table_metadata(database, table) or {}).get("title") or table

    @staticmethod
    def row_label(metadata, rows) -> str:
        """The value of the table's ``label_column`` (metadata) in a row page's row (« Rennes »), or ""."""
        column = (metadata or {}).get("label_column") if isinstance(metadata, dict) else None
        row = rows[0] if rows else None
        try:
            value = row[column] if column and row is not None else None
        except (KeyError, IndexError):
            value = None
        return "" if value is None else str(value)

    def column_label(self, column: str, table_metadata=None) -> str:
        """The French label of a column: the table's ``column_labels`` (table metadata), the
        plugin's ``column_labels``, labels added by other plugins, else the column name."""
        own = (table_metadata or {}).get("column_labels") or {}
        return (
            own.get(column)
            or self.config.column_labels.get(column)
            or self._registered_labels.get(column)
            or column
        )

    def column_labels(self, table_metadata=None) -> cells.PerPage:
        """The labels of a page's columns (column_label), as a mapping the templates read in their loops
        (``labels[column]``): one call per page instead of one per column and loop — five loops over
        thirty columns on a table page, about 3 µs each."""
        return cells.PerPage(lambda column: self.column_label(column, table_metadata))

    def link_label(self, link: dict) -> str:
        """A header link's label, ``{taille}`` replaced by the size of its ``database_size`` database
        (« Télécharger la base (SQLite, 56,3 Mo) »), so that the size shown is always the real one."""
        label = link.get("label", "")
        name = link.get("database_size")
        if name and "{taille}" in label:
            database = self.datasette.databases.get(name)
            size = formatting.file_size_fr(database.size) if database and database.path else ""
            label = label.replace("{taille}", size).replace(" ()", "").replace(", )", ")")
        return label

    def database_title(self, name: str) -> str:
        """A database's title from the metadata (« Données et SQL »), else its name."""
        return self.datasette.metadata("title", database=name, fallback=False) or name

    @staticmethod
    def example_values(canned_query) -> dict:
        """The example parameters of a canned query (its ``example`` key, a query string such as
        ``departement=35&indicateur=densite``), to pre-fill its form and link to it."""
        example = (canned_query or {}).get("example") if isinstance(canned_query, dict) else None
        if isinstance(example, dict):
            return {str(k): str(v) for k, v in example.items()}
        return dict(parse_qsl(example or "", keep_blank_values=True))

    @property
    def config(self) -> ThemeConfig:
        """The plugin configuration, read once, by the first page (after every plugin's start-up):
        templates read it dozens of times per page, and Datasette's plugin_config() walks the
        whole configuration (secrets resolution) on every call. Datasette 0.65 has no way to change
        the configuration of a running instance."""
        if self._config is None:
            self._config = load_config(self.datasette.plugin_config(PLUGIN_NAME) or {})
        return self._config

    def formats_numbers_in(self, column: str) -> bool:
        """Whether numbers in this column are shown the French way: asked for every numeric cell of
        every page (1,000 cells on a table page), so each column's answer is kept."""
        answer = self._number_columns.get(column)
        if answer is None:
            config = self.config
            answer = config.format_numbers and not is_identifier_column(column, config.format_numbers_exclude)
            self._number_columns[column] = answer
        return answer

    def add_cell_links(self, database: str, table: str, column: str, key_column: str, url) -> None:
        """On the pages of a table or view and of its rows, the cells of ``column`` link to
        ``url(value of key_column)`` (a territory's name to its fiche, say); no link where that is empty."""
        self._cell_links.setdefault((str(database), str(table)), {})[str(column)] = (str(key_column), url)

    # The data tables (header cells and rows) are written by cells.py, called from the templates, rather
    # than by Jinja loops and Datasette's render_cell hook: the hook costs about 2 µs per cell for each
    # plugin that implements it, a Jinja loop about 1 µs per cell (3 ms and 1.5 ms on a table page of
    # 1,500 cells); cells.py writes the same markup in a fraction of that.
    def table_head(self, display_columns, labels, sort=None, sort_desc=None, request=None, fix_path=None):
        """The <th> cells of a table or row page (_table.html)."""
        return cells.table_head(display_columns, labels, sort=defined(sort), sort_desc=defined(sort_desc),
                                request=defined(request), fix_path=defined(fix_path))

    def table_rows(self, display_rows, database: str, table: str):
        """The <tr> rows of a table or row page (Datasette's display_rows), each cell written the theme's
        way: a number Datasette shows as is in the French way (``format_numbers``, identifier columns
        excepted), a cell with a registered link (``add_cell_links``) as that link; a cell another
        plugin rendered (render_cell), or a foreign key's link, as Datasette gives it. JSON and CSV
        keep raw values."""
        numbers = self.config.format_numbers
        links = self._cell_links.get((defined(database), defined(table))) or {}
        labels = cells.PerPage(self.value_labels)

        def write_cell(cell, row):
            raw, shown = cell["raw"], cell["value"]
            column = cell["column"]
            coded = labels[column]
            if coded and raw is not None and shown == str(raw) and str(raw) in coded:
                return cells.labelled_code(coded[str(raw)], raw)
            if raw.__class__ is int or raw.__class__ is float:
                return cells.french_number(shown, raw, self.column_decimals(column)) \
                    if numbers and self.formats_numbers_in(column) else shown
            if links and raw and cell["column"] in links and shown == str(raw):
                key_column, url = links[cell["column"]]
                try:
                    key = row[key_column]
                except (KeyError, IndexError):
                    return shown
                if key:
                    return Markup(f'<a href="{escape(url(key))}">{escape(raw)}</a>')
            return shown

        return cells.table_rows(display_rows, write_cell)

    def query_head(self, columns, labels):
        """The <th> cells of a query page's results (query.html)."""
        return cells.query_head(columns, labels)

    def query_rows(self, columns, display_rows, rows=None):
        """The <tr> rows of a query page (``display_rows``: Datasette's text of each value; ``rows``: the raw
        values), numbers in the French way as on table pages."""
        numbers = self.config.format_numbers
        return cells.query_rows(columns, display_rows, defined(rows),
                                lambda column: numbers and self.formats_numbers_in(column), self.column_decimals)

    # The page frame (header, footer, display settings) is the same on every page but for the active
    # menu item and the search box's text: rendered once per variant and kept, it no longer costs its
    # ~0.5 ms of template rendering on every page. These fragments see the theme's configuration, the
    # instance's urls and, for the header, the request's path and search words — nothing else.
    async def fragment(self, name: str):
        """A frame template that depends only on the configuration (footer, display settings…)."""
        return await self._kept_fragment((name,), name, {})

    async def header(self, request):
        """The header: kept per active menu item; rendered afresh when the search box shows words."""
        config = self.config
        path = request.path if request else ""
        words = request.args.get(config.search_param, "") if request and path == config.search_url else ""
        template = "_dsfr_header.html"
        context = {"request": request}
        if words:
            return await self._render(template, context)
        labels = tuple(self.link_label(link) for link in config.header_links)  # a database's size may change
        key = (template, self.current_items(path), path == config.search_url, labels)
        return await self._kept_fragment(key, template, context)

    def current_items(self, path: str) -> tuple:
        """The addresses of the menu items the page at `path` belongs to (aria-current="page" in the
        header): the item's own page, or one below it (but for the home page)."""
        return tuple(item.get("href") for item in self.config.navigation
                     if path and (path == item.get("href")
                                  or (item.get("href") != "/" and path.startswith(str(item.get("href")) + "/"))))

    async def _kept_fragment(self, key, template: str, context: dict):
        if key not in self._fragments:
            self._fragments[key] = await self._render(template, context)
        return self._fragments[key]

    async def _render(self, template: str, context: dict):
        html = await self.datasette.jinja_env.get_template(template).render_async(
            {"urls": self.datasette.urls, "request": None, **context})
        return Markup(html)

    @property
    def is_dsfr(self) -> bool:
        return self.config.is_dsfr

    def asset(self, path: str) -> str:
        """URL of a file from the DSFR ``dist`` folder (a page asks for a dozen: each is worked out once)."""
        config = self.config
        key = ("asset", path)
        if key not in self._urls:
            if not vendored_assets_present() and dist_folder(config):
                self._urls[key] = self.datasette.urls.path(DIST_ROUTE_PREFIX.lstrip("/") + path)
            else:
                self._urls[key] = self.versioned(self.datasette.urls.static_plugins(PLUGIN_NAME, "dsfr/" + path))
        return self._urls[key]

    def static(self, path: str) -> str:
        """URL of one of this plugin's own static files."""
        key = ("static", path)
        if key not in self._urls:
            self._urls[key] = self.versioned(self.datasette.urls.static_plugins(PLUGIN_NAME, path))
        return self._urls[key]

    def versioned(self, url: str) -> str:
        """A static file URL with its version segment, cacheable for a year (see assets.py)."""
        return assets.versioned_url(self.datasette, url)

    def css_variables(self) -> str:
        return "".join(
            "--{}:{};".format(key.replace("_", "-"), value)
            for key, value in self.config.colors.items()
            if key.replace("_", "-").replace("-", "").isalnum()
        )


@hookimpl
def prepare_jinja2_environment(env, datasette):
    # Filter names are part of the template API (French, like the UI);
    # the Python functions behind them have English names.
    env.filters["nombre_fr"] = formatting.format_number_fr
    env.filters["pluriel"] = formatting.plural_fr
    env.filters["lookup_fr"] = formatting.lookup_label_fr
    env.filters["facet_type_fr"] = formatting.facet_type_label_fr
    env.filters["message_erreur_fr"] = formatting.error_message_fr
    env.filters["titre_erreur_fr"] = formatting.error_title_fr
    env.filters["titre_page_json_fr"] = formatting.json_page_title_fr
    env.filters["octets_fr"] = formatting.file_size_fr
    env.globals["description_fr"] = formatting.describe_filters_fr
    env.globals["dsfr_theme"] = ThemeContext(datasette)


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: assets.versioned_asgi(datasette, app)


@hookimpl
def startup(datasette):
    config = load_config(datasette.plugin_config(PLUGIN_NAME))  # validates
    assets.asset_version(datasette)  # computed before the first request
    if config.is_dsfr and not vendored_assets_present():
        if not dist_folder(config):
            print(
                "datasette-dsfr-theme : fichiers du DSFR absents. Lancez "
                "`python -m datasette_dsfr_theme.vendor node_modules/@gouvfr/dsfr/dist` "
                "ou renseignez l’option dsfr_dist.",
                file=sys.stderr,
            )
        elif not (dist_folder(config) / "dsfr.min.css").exists():
            print(
                "datasette-dsfr-theme : dsfr_dist ne contient pas dsfr.min.css : {}".format(
                    dist_folder(config)
                ),
                file=sys.stderr,
            )


@hookimpl
def register_routes(datasette):
    async def dsfr_dist(request, send):
        config = load_config(datasette.plugin_config(PLUGIN_NAME))
        folder = dist_folder(config)
        if folder is None or vendored_assets_present():
            raise NotFound("Fichier introuvable")
        root = folder.resolve()
        await asgi_static(str(root))(request, send)

    return [(r"^" + DIST_ROUTE_PREFIX + r"(?P<path>.*)$", dsfr_dist)]
