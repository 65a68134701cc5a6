-- Indicators: a catalogue, the sources of the values, and where the values per territory and year are stored.

CREATE TABLE IF NOT EXISTS indicateurs (
    code TEXT PRIMARY KEY,
    libelle TEXT NOT NULL,
    unite TEXT,
    niveaux TEXT NOT NULL,            -- niveaux couverts, séparés par des virgules
    type TEXT NOT NULL DEFAULT 'nombre' CHECK (type IN ('nombre', 'texte')),
    decimales INTEGER,
    theme TEXT,
    ordre INTEGER,
    description TEXT,
    source TEXT,
    source_url TEXT,
    licence TEXT,
    bloc TEXT                          -- bloc de fiche : finances, contexte (vide : bloc Indicateurs)
);

CREATE TABLE IF NOT EXISTS sources_donnees (
    id INTEGER PRIMARY KEY,
    producteur TEXT NOT NULL,
    titre TEXT NOT NULL,
    url TEXT,
    fichier TEXT,
    distribution TEXT,
    distribution_url TEXT,
    millesime TEXT NOT NULL,
    date_chargement TEXT NOT NULL,
    sha256 TEXT,
    mapping TEXT,
    nb_valeurs INTEGER,
    nb_codes_inconnus INTEGER NOT NULL DEFAULT 0,
    exemples_codes_inconnus TEXT,
    note TEXT
);

-- Where the values are (loaders/indicators/store.py): per source and level, a typed table with one row per
-- territory and year and one column per indicator, named after the indicator's code.
CREATE TABLE IF NOT EXISTS indicateurs_tables (
    nom TEXT PRIMARY KEY,
    niveau TEXT NOT NULL CHECK (niveau IN ('commune', 'epci', 'departement', 'region')),
    titre TEXT NOT NULL,
    description TEXT
);

CREATE TABLE IF NOT EXISTS indicateurs_colonnes (
    indicateur TEXT NOT NULL REFERENCES indicateurs(code),
    niveau TEXT NOT NULL,
    nom_table TEXT NOT NULL REFERENCES indicateurs_tables(nom),
    colonne_source TEXT NOT NULL,      -- colonne de la même table qui donne la source de ses valeurs
    PRIMARY KEY (indicateur, niveau)
);

-- The producer files the mappings expect, loaded or not at the last build (fiches say when not).
CREATE TABLE IF NOT EXISTS fichiers_producteurs (
    mapping TEXT PRIMARY KEY,
    producteur TEXT NOT NULL,
    titre TEXT NOT NULL,
    niveaux TEXT NOT NULL,             -- niveaux servis : celui du fichier, et ses parents s'il y a des sommes
    bloc TEXT,
    page TEXT,
    charge INTEGER NOT NULL CHECK (charge IN (0, 1)),
    motif TEXT,
    url TEXT,
    millesime TEXT,
    sha256 TEXT,
    date_recuperation TEXT,
    date_chargement TEXT NOT NULL
);
