from markupsafe import Markup

from datasette_dsfr_theme import formatting
from datasette_dsfr_theme.config import load_config

NNBSP = "\u202f"


def test_nombre_fr():
    assert formatting.nombre_fr(1234) == "1" + NNBSP + "234"
    assert formatting.nombre_fr(1234567.5) == "1{0}234{0}567,5".format(NNBSP)
    assert formatting.nombre_fr(0) == "0"
    assert formatting.nombre_fr(-9876543) == "-9{0}876{0}543".format(NNBSP)
    assert formatting.nombre_fr(3.14159, 2) == "3,14"
    assert formatting.nombre_fr("12345") == "12" + NNBSP + "345"
    assert formatting.nombre_fr("2A") == "2A"
    assert formatting.nombre_fr(None) == ""
    assert formatting.nombre_fr(True) == "True"


def test_pluriel():
    assert formatting.pluriel(0, "ligne") == "0 ligne"
    assert formatting.pluriel(1, "ligne") == "1 ligne"
    assert formatting.pluriel(1234, "ligne") == "1" + NNBSP + "234 lignes"
    assert formatting.pluriel(2, "table masquée", "tables masquées") == "2 tables masquées"


def test_messages_erreur():
    assert formatting.message_erreur_fr("Table not found: x") == "Table introuvable : x"
    assert formatting.message_erreur_fr("no such table: t") == "Table inexistante : t"
    assert formatting.message_erreur_fr('near "selec": syntax error') == "Erreur de syntaxe près de « selec »"
    assert formatting.message_erreur_fr("Statement must be a SELECT").startswith("La requête doit")
    assert formatting.message_erreur_fr("no such column: x") == "Colonne inexistante : x"
    assert formatting.message_erreur_fr("<b>autre</b>") == "&lt;b&gt;autre&lt;/b&gt;"
    assert formatting.titre_erreur_fr("SQL Interrupted") == "Requête SQL interrompue"
    assert formatting.titre_erreur_fr(None, 404) == "Page introuvable"
    timeout = Markup(
        "<p>SQL query took too long. The time limit is controlled by the\n"
        '<a href="x">sql_time_limit_ms</a>\nconfiguration option.</p>\n'
        '<textarea style="width: 90%">select 1 &lt; 2</textarea>'
    )
    out = formatting.message_erreur_fr(timeout)
    assert "trop de temps" in out and "select 1 &lt; 2" in out and "took" not in out


def test_description_fr():
    class F:
        def selections(self):
            return [("nom", "contains", "lyon"), ("population", "gt", "1000"), ("x", "isnull", "1")]

    text = formatting.description_fr(F(), search="abc", sort_desc="population")
    assert text == (
        "où la recherche correspond à « abc », nom contient « lyon », population > 1000 "
        "et x est nul triées par population (ordre décroissant)"
    )
    assert formatting.description_fr() == ""


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


def test_octets_fr():
    assert formatting.octets_fr(512) == "512 octets"
    assert formatting.octets_fr(2048) == "2 Ko"
    assert formatting.octets_fr(1536 * 1024) == "1,5 Mo"
