-- Publications, datasets, tools and sites harvested from feeds, catalogues, Gallica, the curated list and
-- the catalogue of publications (data/publications.yml).
-- Every statement is idempotent: `oc harvest` runs it on an existing oc.db.

CREATE TABLE IF NOT EXISTS themes (
    code TEXT PRIMARY KEY,
    libelle TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS types_ressource (
    code TEXT PRIMARY KEY,
    libelle TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    sigle TEXT,
    url TEXT
);

CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    type TEXT NOT NULL,
    url TEXT NOT NULL,
    organisation TEXT REFERENCES organisations(id),
    type_ressource TEXT REFERENCES types_ressource(code),
    territoire_niveau TEXT,
    territoire_code TEXT,
    etag TEXT,
    last_modified TEXT,
    curseur TEXT,
    derniere_collecte TEXT,
    dernier_succes TEXT,
    statut TEXT,
    message TEXT,
    nb_lues INTEGER,
    nb_nouvelles INTEGER,
    nb_mises_a_jour INTEGER,
    nb_rejetees INTEGER,
    nb_publications INTEGER
);

CREATE TABLE IF NOT EXISTS publications (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    titre TEXT NOT NULL,
    resume TEXT,
    date_publication TEXT,
    date_mise_a_jour TEXT,
    annee INTEGER,
    organisation TEXT REFERENCES organisations(id),
    type TEXT REFERENCES types_ressource(code),
    themes TEXT NOT NULL DEFAULT '[]',
    type_territoire TEXT,
    annees TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    territoires_declares TEXT NOT NULL DEFAULT '[]',
    liens_territoriaux TEXT NOT NULL DEFAULT '{}',
    guid TEXT,
    source TEXT REFERENCES sources(id),
    premiere_vue TEXT NOT NULL,
    derniere_vue TEXT NOT NULL,
    poids INTEGER NOT NULL DEFAULT 0,
    masquee INTEGER NOT NULL DEFAULT 0,
    date_tri TEXT,
    rang INTEGER
);

-- every source that brought a publication: an editorial list (curation, catalogue) can drop an entry
-- only when no harvest found it too
CREATE TABLE IF NOT EXISTS publications_sources (
    publication INTEGER NOT NULL REFERENCES publications(id),
    source TEXT NOT NULL REFERENCES sources(id),
    premiere_vue TEXT NOT NULL,
    derniere_vue TEXT NOT NULL,
    PRIMARY KEY (publication, source)
);

CREATE TABLE IF NOT EXISTS publications_territoires (
    publication INTEGER NOT NULL REFERENCES publications(id),
    niveau TEXT NOT NULL,
    code TEXT NOT NULL,
    methode TEXT NOT NULL,
    PRIMARY KEY (publication, niveau, code)
);

CREATE INDEX IF NOT EXISTS idx_publications_territoires_code ON publications_territoires(niveau, code);
CREATE INDEX IF NOT EXISTS idx_publications_date ON publications(date_publication);
CREATE INDEX IF NOT EXISTS idx_publications_organisation ON publications(organisation);
CREATE INDEX IF NOT EXISTS idx_publications_source ON publications(source);
CREATE INDEX IF NOT EXISTS idx_publications_type_territoire ON publications(type_territoire);
CREATE INDEX IF NOT EXISTS idx_publications_sources_source ON publications_sources(source);
