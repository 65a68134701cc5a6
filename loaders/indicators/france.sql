-- Values for France (métropole and DROM: the régions whose zone is not 'com'), for the comparisons of the
-- fiches' key figures. Each value keeps the source of the regional values it is computed from.
-- A région whose figure has another vintage (Mayotte: its populations come from another census) is left
-- out of that vintage's sum and named in `exclues`, as is a région without that indicator (Mayotte has
-- no population change: both its vintages come from the same census); a vintage is summed only when most
-- régions have it. The régions' values are read in valeurs_regions (indicateur, code, annee, valeur, source),
-- a temporary view of the value tables that france.py creates.

DROP TABLE IF EXISTS valeurs_france;
CREATE TABLE valeurs_france (
    indicateur TEXT NOT NULL REFERENCES indicateurs(code),
    annee INTEGER NOT NULL,
    valeur NUMERIC NOT NULL,
    source INTEGER NOT NULL REFERENCES sources_donnees(id),
    methode TEXT NOT NULL,
    exclues TEXT,
    PRIMARY KEY (indicateur, annee)
);

CREATE TEMP TABLE regions_france AS SELECT code, nom FROM regions WHERE zone != 'com';

-- The régions each (indicator, vintage) leaves out, and whether most régions have that vintage
CREATE TEMP TABLE millesimes_france AS
SELECT m.indicateur, m.annee,
       (SELECT group_concat(r.nom, ', ') FROM regions_france r WHERE NOT EXISTS (
          SELECT 1 FROM valeurs_regions w WHERE w.code = r.code
            AND w.indicateur = m.indicateur AND w.annee = m.annee)) AS exclues,
       m.presentes * 2 > (SELECT count(*) FROM regions_france) AS majoritaire
FROM (SELECT v.indicateur, v.annee, count(*) AS presentes
      FROM valeurs_regions v JOIN regions_france r ON v.code = r.code
      GROUP BY v.indicateur, v.annee) m;

CREATE TEMP VIEW regions_au_millesime AS  -- the régions summed for an (indicator, vintage)
SELECT v.indicateur, v.annee, v.code, v.valeur, v.source
FROM valeurs_regions v JOIN regions_france r ON v.code = r.code;

-- Stocks: the sum of the régions
INSERT INTO valeurs_france
SELECT v.indicateur, v.annee, sum(v.valeur), min(v.source), 'somme des régions', m.exclues
FROM regions_au_millesime v
JOIN millesimes_france m ON m.indicateur = v.indicateur AND m.annee = v.annee AND m.majoritaire
WHERE v.indicateur IN ('population_municipale', 'superficie', 'nb_communes', 'nb_departements')
GROUP BY v.indicateur, v.annee;

-- EPCI: each counted once, even when its communes lie in several régions
INSERT INTO valeurs_france
SELECT 'nb_epci', v.annee,
       (SELECT count(DISTINCT c.epci) FROM communes c JOIN regions_france r ON r.code = c.region WHERE c.epci IS NOT NULL),
       min(v.source), 'EPCI distincts des communes de métropole et des DROM', NULL
FROM valeurs_regions v WHERE v.indicateur = 'nb_epci'
GROUP BY v.annee;

-- Density: the population of the régions of a vintage over their area
INSERT INTO valeurs_france
SELECT 'densite', d.annee, round(sum(p.valeur) / sum(s.valeur), 1), min(d.source),
       'population / superficie des mêmes régions', m.exclues
FROM regions_au_millesime d
JOIN millesimes_france m ON m.indicateur = 'densite' AND m.annee = d.annee AND m.majoritaire
JOIN regions_au_millesime p ON p.indicateur = 'population_municipale' AND p.annee = d.annee AND p.code = d.code
JOIN regions_au_millesime s ON s.indicateur = 'superficie' AND s.code = d.code
WHERE d.indicateur = 'densite'
GROUP BY d.annee;

-- Population change: over the régions that have one, relative to their population at the earlier vintage
CREATE TEMP TABLE evolution_france AS
SELECT e.annee, sum(e.valeur) AS evolution, sum(p.valeur) AS depart, min(p.annee) AS annee_depart,
       min(e.source) AS source, m.exclues
FROM regions_au_millesime e
JOIN millesimes_france m ON m.indicateur = e.indicateur AND m.annee = e.annee AND m.majoritaire
JOIN regions_au_millesime p ON p.indicateur = 'population_municipale' AND p.code = e.code
  AND p.annee = (SELECT min(annee) FROM valeurs_regions WHERE indicateur = 'population_municipale')
WHERE e.indicateur = 'evolution_population'
GROUP BY e.annee;

INSERT INTO valeurs_france
SELECT 'evolution_population', annee, evolution, source, 'somme des régions', exclues FROM evolution_france;
INSERT INTO valeurs_france
SELECT 'evolution_population_pct', annee, round(100.0 * evolution / depart, 2), source,
       'évolution / population de départ des mêmes régions', exclues FROM evolution_france;
INSERT INTO valeurs_france
SELECT 'taux_evolution_annuel', annee,
       round(100.0 * (pow(1.0 + 1.0 * evolution / depart, 1.0 / (annee - annee_depart)) - 1), 2), source,
       'taux annuel moyen des mêmes régions', exclues FROM evolution_france;

DROP TABLE evolution_france;
DROP VIEW regions_au_millesime;
DROP TABLE millesimes_france;
DROP TABLE regions_france;
