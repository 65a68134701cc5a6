-- Territories of the Code officiel géographique. Every code is TEXT: 01001, 2A004, 01, 200000172.
-- The name and the population come first: they are what a reader of a table page looks for.
-- Zones and chef-lieu statuses reference their lookup tables, whose labels Datasette shows.

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    population INTEGER,
    zone TEXT NOT NULL REFERENCES zones(code),
    chef_lieu TEXT REFERENCES communes(code_insee),
    annee_population INTEGER,
    nb_departements INTEGER,
    nb_epci INTEGER,
    nb_communes INTEGER,
    superficie_km2 REAL
);

CREATE TABLE departements (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    population INTEGER,
    region TEXT NOT NULL REFERENCES regions(code),
    zone TEXT NOT NULL REFERENCES zones(code),
    chef_lieu TEXT REFERENCES communes(code_insee),
    type_liaison INTEGER,
    annee_population INTEGER,
    nb_arrondissements INTEGER,
    nb_epci INTEGER,
    nb_communes INTEGER,
    superficie_km2 REAL,
    superficie_methode TEXT
);

CREATE TABLE arrondissements (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    population INTEGER,
    departement TEXT NOT NULL REFERENCES departements(code),
    region TEXT NOT NULL REFERENCES regions(code),
    chef_lieu TEXT REFERENCES communes(code_insee),
    nb_communes INTEGER
);

CREATE TABLE epci (
    siren TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    population INTEGER,
    type TEXT NOT NULL,
    type_libelle TEXT NOT NULL,
    mode_financement TEXT,
    departement TEXT REFERENCES departements(code),
    region TEXT REFERENCES regions(code),
    nb_communes INTEGER,
    annee_population INTEGER,
    superficie_km2 REAL,
    latitude REAL,
    longitude REAL
);

CREATE TABLE epci_departements (
    siren TEXT NOT NULL REFERENCES epci(siren),
    departement TEXT NOT NULL REFERENCES departements(code),
    nb_communes INTEGER NOT NULL,
    population INTEGER,
    PRIMARY KEY (siren, departement)
);

CREATE TABLE ept (
    siren TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    population INTEGER,
    nb_communes INTEGER
);

CREATE TABLE communes (
    code_insee TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    population INTEGER,
    departement TEXT NOT NULL REFERENCES departements(code),
    region TEXT NOT NULL REFERENCES regions(code),
    arrondissement TEXT REFERENCES arrondissements(code),
    epci TEXT REFERENCES epci(siren),
    ept TEXT REFERENCES ept(siren),
    siren TEXT,
    zone TEXT NOT NULL REFERENCES zones(code),
    chef_lieu TEXT REFERENCES chefs_lieux_types(code),
    annee_population INTEGER,
    superficie_km2 REAL,
    superficie_note TEXT,
    superficie_dgcl_km2 REAL,          -- area_check.py, once the DGCL's criteria are loaded
    superficie_dgcl_annee INTEGER,
    superficie_dgcl_source INTEGER,    -- id in sources_donnees (area_check.AREA_SOURCE)
    superficie_controle TEXT,
    superficie_source TEXT CHECK (superficie_source IN ('contours', 'dgcl')),
    superficie_douteuse INTEGER,
    latitude REAL,
    longitude REAL,
    anciens_codes TEXT,
    mairie_adresse TEXT,
    mairie_telephone TEXT,
    mairie_email TEXT,
    mairie_site TEXT,
    mairie_latitude REAL,
    mairie_longitude REAL
);

CREATE TABLE communes_secondaires (
    code_insee TEXT NOT NULL,
    type TEXT NOT NULL,
    type_libelle TEXT NOT NULL,
    nom TEXT NOT NULL,
    commune_parente TEXT NOT NULL REFERENCES communes(code_insee),
    departement TEXT NOT NULL REFERENCES departements(code),
    region TEXT NOT NULL REFERENCES regions(code),
    population INTEGER,
    annee_population INTEGER,
    PRIMARY KEY (code_insee, type)
);

-- Commune outlines simplified for the maps of the fiches (loaders/territories/simplify.py): a GeoJSON
-- MultiPolygon in longitude/latitude (WGS 84); neighbouring communes keep a common border.
CREATE TABLE contours_communes (
    code_insee TEXT PRIMARY KEY REFERENCES communes(code_insee),
    contour TEXT NOT NULL
);

CREATE TABLE codes_postaux (
    code_postal TEXT NOT NULL,
    code_insee TEXT NOT NULL REFERENCES communes(code_insee),
    PRIMARY KEY (code_postal, code_insee)
);

CREATE TABLE chefs_lieux_types (
    code TEXT PRIMARY KEY,
    libelle TEXT NOT NULL
);

CREATE TABLE zones (
    code TEXT PRIMARY KEY,
    libelle TEXT NOT NULL
);

-- One row per territory of every level, for the site search (see territoires_fts).
CREATE TABLE territoires (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    code TEXT NOT NULL,
    nom TEXT NOT NULL,
    libelle TEXT NOT NULL,
    categorie TEXT NOT NULL,
    departement TEXT,
    population INTEGER,
    url TEXT NOT NULL,
    recherche_nom TEXT NOT NULL,
    recherche_codes TEXT NOT NULL,
    recherche_siren TEXT NOT NULL,
    UNIQUE (type, code)
);

CREATE INDEX idx_departements_region ON departements(region);
CREATE INDEX idx_arrondissements_departement ON arrondissements(departement);
CREATE INDEX idx_epci_departement ON epci(departement);
CREATE INDEX idx_epci_region ON epci(region);
CREATE INDEX idx_epci_departements_departement ON epci_departements(departement);
CREATE INDEX idx_communes_departement ON communes(departement);
CREATE INDEX idx_communes_region ON communes(region);
CREATE INDEX idx_communes_epci ON communes(epci);
CREATE INDEX idx_communes_ept ON communes(ept);
CREATE INDEX idx_communes_arrondissement ON communes(arrondissement);
CREATE INDEX idx_communes_siren ON communes(siren);
-- default sort of the communes and epci table pages (metadata.yml: sort_desc population)
CREATE INDEX idx_communes_population ON communes(population);
CREATE INDEX idx_epci_population ON epci(population);
CREATE INDEX idx_communes_secondaires_parente ON communes_secondaires(commune_parente);
CREATE INDEX idx_codes_postaux_code_insee ON codes_postaux(code_insee);
CREATE INDEX idx_territoires_code ON territoires(code);
