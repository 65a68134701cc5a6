from markupsafe import Markup

from datasette_dsfr_theme import formatting
from datasette_dsfr_theme.config import load_config

NNBSP = "\u202f"


def test_format_number_fr():
    assert formatting.format_number_fr(1234) == "1" + NNBSP + "234"
    assert formatting.format_number_fr(1234567.5) == "1{0}234{0}567,5".format(NNBSP)
    assert formatting.format_number_fr(0) == "0"
    assert formatting.format_number_fr(-9876543) == "-9{0}876{0}543".format(NNBSP)
    assert formatting.format_number_fr(3.14159, 2) == "3,14"
    assert formatting.format_number_fr("12345") == "12" + NNBSP + "345"
    assert formatting.format_number_fr("2A") == "2A"
    assert formatting.format_number_fr(None) == ""
    assert formatting.format_number_fr(True) == "True"
    assert formatting.format_number_fr(1234.0) == "1" + NNBSP + "234"
    assert formatting.format_number_fr(-2.5) == "-2,5"
    assert formatting.format_number_fr(float("inf")) == "∞"  # select 1e999
    assert formatting.format_number_fr(float("-inf")) == "−∞"
    assert formatting.format_number_fr(float("nan")) == "NaN"


def test_plural_fr():
    assert formatting.plural_fr(0, "ligne") == "0 ligne"
    assert formatting.plural_fr(1, "ligne") == "1 ligne"
    assert formatting.plural_fr(1234, "ligne") == "1" + NNBSP + "234 lignes"
    assert formatting.plural_fr(2, "table masquée", "tables masquées") == "2 tables masquées"


def test_error_messages():
    assert formatting.error_message_fr("Table not found: x") == "Table introuvable : x"
    assert formatting.error_message_fr("no such table: t") == "Table inexistante : t"
    assert formatting.error_message_fr('near "selec": syntax error') == "Erreur de syntaxe près de « selec »"
    assert formatting.error_message_fr("Statement must be a SELECT").startswith("La requête doit")
    assert formatting.error_message_fr("no such column: x") == "Colonne inexistante : x"
    assert formatting.error_message_fr("<b>autre</b>") == "&lt;b&gt;autre&lt;/b&gt;"
    # SQLite's limits
    assert formatting.error_message_fr("string or blob too big").startswith("Valeur trop longue")
    assert formatting.error_message_fr("LIKE or GLOB pattern too complex") == "Motif LIKE ou GLOB trop long"
    assert (formatting.error_message_fr("not authorized to use function: fts3_tokenizer")
            == "Fonction désactivée sur ce site : fts3_tokenizer")
    assert formatting.error_title_fr("SQL Interrupted") == "Requête SQL interrompue"
    assert formatting.error_title_fr(None, 404) == "Page introuvable"
    timeout = Markup(
        "<p>SQL query took too long. The time limit is controlled by the\n"
        '<a href="x">sql_time_limit_ms</a>\nconfiguration option.</p>\n'
        '<textarea style="width: 90%">select 1 &lt; 2</textarea>'
    )
    out = formatting.error_message_fr(timeout)
    assert "trop de temps" in out and "select 1 &lt; 2" in out and "took" not in out


def test_describe_filters_fr():
    class F:
        def selections(self):
            return [("nom", "contains", "lyon"), ("population", "gt", "1000"), ("x", "isnull", "1")]

    text = formatting.describe_filters_fr(F(), search="abc", sort_desc="population")
    assert text == (
        "où la recherche correspond à « abc », nom contient « lyon », population > 1000 "
        "et x est nul triées par population (ordre décroissant)"
    )
    assert formatting.describe_filters_fr() == ""


def test_config_defaults_and_validation():
    config = load_config(None)
    assert config.theme == "dsfr"
    assert config.ministry_lines == ["République", "Française"]
    assert config.search_url == "/recherche" and config.search_param == "q"
    config = load_config({"colors": {"accent": "#123456", "bad": "red;}body{x"}, "navigation": ["/a"]})
    assert config.colors == {"accent": "#123456"}
    assert config.navigation == [{"label": "/a", "href": "/a"}]
    try:
        load_config({"theme": "autre"})
    except ValueError:
        pass
    else:
        raise AssertionError("theme invalide accepté")


def test_file_size_fr():
    assert formatting.file_size_fr(512) == "512 octets"
    assert formatting.file_size_fr(2048) == "2 Ko"
    assert formatting.file_size_fr(1536 * 1024) == "1,5 Mo"
