"""The publications' taxonomy (brief §3): topics and types of resource, code → French label."""

THEMES = {
    "aide_dotations": "Aide & Dotations",
    "culture_education": "Culture & Éducation",
    "developpement_durable": "Développement durable",
    "emploi_fpt": "Emploi & Fonction publique territoriale",
    "finances_fiscalite": "Finances & Fiscalité",
    "geographie_intercommunalites": "Géographie & Intercommunalités",
    "parite": "Parité",
    "sante_social": "Santé & Social",
    "securite": "Sécurité",
}

TYPES = {
    "publication_statistique": "Publication statistique",
    "jeu_de_donnees": "Jeu de données",
    "outil": "Outil",
    "site_officiel": "Site officiel",
    "plateforme_open_data": "Plateforme open data",
}

# label → code, for files that name topics by their label (data/publications.yml)
THEME_CODES = {label: code for code, label in THEMES.items()}
