-- Indicators: a catalogue, the sources of the values, and the values per territory and year.

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

CREATE TABLE IF NOT EXISTS valeurs (
    indicateur TEXT NOT NULL REFERENCES indicateurs(code),
    niveau TEXT NOT NULL CHECK (niveau IN ('commune', 'epci', 'departement', 'region')),
    code TEXT NOT NULL,
    annee INTEGER NOT NULL,
    valeur NUMERIC,                    -- entiers gardés entiers (230890, pas 230890.0)
    valeur_texte TEXT,
    source INTEGER NOT NULL REFERENCES sources_donnees(id),
    PRIMARY KEY (niveau, code, indicateur, annee)
) WITHOUT ROWID;

-- The primary key (niveau, code, …) serves a territory's values (fiches, comparisons);
-- this index serves rankings and the latest vintage of an indicator (wide views).
CREATE INDEX IF NOT EXISTS idx_valeurs_indicateur_niveau_annee ON valeurs(indicateur, niveau, annee, valeur);

-- The values of each indicator at its main vintage, level by level: the vintage flagged dernier_millesime = 1
-- in indicateurs_millesimes (refresh_views in catalogue.py builds that table after every load: the latest vintage
-- that covers at least half of the level's territories, the one the wide views show). Canned queries that
-- want "the latest values" read them here.
CREATE VIEW IF NOT EXISTS valeurs_dernier_millesime AS
SELECT v.indicateur, v.niveau, v.code, v.annee, v.valeur, v.valeur_texte, v.source
FROM valeurs v
JOIN indicateurs_millesimes m ON m.indicateur = v.indicateur AND m.niveau = v.niveau AND m.annee = v.annee
WHERE m.dernier_millesime = 1;

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
