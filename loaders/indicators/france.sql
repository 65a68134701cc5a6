-- Values for France (métropole and DROM: the régions whose zone is not 'com'), for the comparisons of the
-- fiches' key figures. Each value keeps the source of the regional values it is computed from.

DROP TABLE IF EXISTS valeurs_france;
CREATE TABLE valeurs_france (
    indicateur TEXT NOT NULL REFERENCES indicateurs(code),
    annee INTEGER NOT NULL,
    valeur NUMERIC NOT NULL,
    source INTEGER NOT NULL REFERENCES sources_donnees(id),
    methode TEXT NOT NULL,
    PRIMARY KEY (indicateur, annee)
);

CREATE TEMP VIEW regions_france AS SELECT code FROM regions WHERE zone != 'com';

-- Stocks: the sum of the régions, when every région has a value
INSERT INTO valeurs_france
SELECT v.indicateur, v.annee, sum(v.valeur), min(v.source), 'somme des régions'
FROM valeurs v JOIN regions_france r ON v.niveau = 'region' AND v.code = r.code
WHERE v.indicateur IN ('population_municipale', 'superficie', 'nb_communes', 'nb_departements')
GROUP BY v.indicateur, v.annee
HAVING count(*) = (SELECT count(*) FROM regions_france);

-- EPCI: each counted once, even when its communes lie in several régions
INSERT INTO valeurs_france
SELECT 'nb_epci', v.annee,
       (SELECT count(DISTINCT c.epci) FROM communes c JOIN regions_france r ON r.code = c.region WHERE c.epci IS NOT NULL),
       min(v.source), 'EPCI distincts des communes de métropole et des DROM'
FROM valeurs v WHERE v.niveau = 'region' AND v.indicateur = 'nb_epci'
GROUP BY v.annee;

-- Density: population over area, at the density's vintage
INSERT INTO valeurs_france
SELECT 'densite', d.annee, round(p.valeur / s.valeur, 1), min(d.source), 'population / superficie'
FROM valeurs d
JOIN valeurs_france p ON p.indicateur = 'population_municipale' AND p.annee = d.annee
JOIN valeurs_france s ON s.indicateur = 'superficie'
WHERE d.niveau = 'region' AND d.indicateur = 'densite'
GROUP BY d.annee;

-- Population change: over the régions that have one (Mayotte has none: both its vintages come from the
-- 2017 census), relative to their population at the earlier vintage
CREATE TEMP TABLE evolution_france AS
SELECT e.annee, sum(e.valeur) AS evolution, sum(p.valeur) AS depart, min(p.annee) AS annee_depart,
       min(e.source) AS source
FROM valeurs e
JOIN regions_france r ON e.niveau = 'region' AND e.code = r.code
JOIN valeurs p ON p.niveau = 'region' AND p.code = e.code AND p.indicateur = 'population_municipale'
  AND p.annee = (SELECT min(annee) FROM valeurs WHERE niveau = 'region' AND indicateur = 'population_municipale')
WHERE e.indicateur = 'evolution_population'
GROUP BY e.annee;

INSERT INTO valeurs_france
SELECT 'evolution_population', annee, evolution, source, 'somme des régions (hors Mayotte)' FROM evolution_france;
INSERT INTO valeurs_france
SELECT 'evolution_population_pct', annee, round(100.0 * evolution / depart, 2), source,
       'évolution / population de départ (hors Mayotte)' FROM evolution_france;
INSERT INTO valeurs_france
SELECT 'taux_evolution_annuel', annee,
       round(100.0 * (pow(1.0 + 1.0 * evolution / depart, 1.0 / (annee - annee_depart)) - 1), 2), source,
       'taux annuel moyen (hors Mayotte)' FROM evolution_france;

DROP TABLE evolution_france;
DROP VIEW regions_france;
