"""The instance operator's details, for the legal notice and the contact page (`operateur` in templates).

Open Collectivités is software; who publishes an instance of it (a State service) is known only to
whoever deploys it. Those details are written once in metadata.yml (`plugins: open-collectivites:
operateur:`); the pages show what is filled in, and a clearly marked « à renseigner » for the rest.
"""


FIELDS = ("editeur", "adresse", "directeur_publication", "courriel", "hebergeur_adresse")


def add_to_environment(env, datasette):
    def operateur():
        config = (datasette.plugin_config("open-collectivites") or {}).get("operateur") or {}
        return {field: (config.get(field) or "").strip() for field in FIELDS}

    env.globals["operateur"] = operateur
