-- Aggregates computed from the communes once they are loaded. Areas and centres are not summed here:
-- they need the outline rules of outlines.py and areas.py (a sum is published only when complete).
-- A population is a sum over communes of one census year: annee_population is that year, or NULL
-- if the communes of the territory do not share one.

-- EPCI: members, population, and the département holding most of their population.
INSERT INTO epci_departements (siren, departement, nb_communes, population)
SELECT epci, departement, count(*), sum(population)
FROM communes
WHERE epci IS NOT NULL
GROUP BY epci, departement;

UPDATE epci SET
    nb_communes = m.nb_communes,
    population = m.population,
    annee_population = m.annee_population
FROM (
    SELECT
        epci,
        count(*) AS nb_communes,
        sum(population) AS population,
        CASE WHEN min(annee_population) = max(annee_population) THEN max(annee_population) END AS annee_population
    FROM communes
    WHERE epci IS NOT NULL
    GROUP BY epci
) AS m
WHERE epci.siren = m.epci;

UPDATE epci SET
    departement = (
        SELECT departement FROM epci_departements d
        WHERE d.siren = epci.siren
        ORDER BY d.population DESC, d.nb_communes DESC, d.departement
        LIMIT 1
    );
UPDATE epci SET region = (SELECT region FROM departements WHERE code = epci.departement);

UPDATE ept SET
    nb_communes = (SELECT count(*) FROM communes WHERE ept = ept.siren),
    population = (SELECT sum(population) FROM communes WHERE ept = ept.siren);

UPDATE arrondissements SET
    nb_communes = (SELECT count(*) FROM communes WHERE arrondissement = arrondissements.code),
    population = (SELECT sum(population) FROM communes WHERE arrondissement = arrondissements.code);

-- Départements and régions: the sums of their communes, computed once for both levels.
CREATE TEMP TABLE agregats_communes AS
SELECT niveau, code, sum(population) AS population,
       CASE WHEN min(annee_population) = max(annee_population) THEN max(annee_population) END AS annee_population,
       count(*) AS nb_communes, count(DISTINCT epci) AS nb_epci
FROM (
    SELECT 'departement' AS niveau, departement AS code, population, annee_population, epci FROM communes
    UNION ALL
    SELECT 'region', region, population, annee_population, epci FROM communes
)
GROUP BY niveau, code;

UPDATE departements SET (population, annee_population, nb_communes, nb_epci) =
    (SELECT population, annee_population, nb_communes, nb_epci FROM agregats_communes a
     WHERE a.niveau = 'departement' AND a.code = departements.code),
    nb_arrondissements = (SELECT count(*) FROM arrondissements a WHERE a.departement = departements.code);

UPDATE regions SET (population, annee_population, nb_communes, nb_epci) =
    (SELECT population, annee_population, nb_communes, nb_epci FROM agregats_communes a
     WHERE a.niveau = 'region' AND a.code = regions.code),
    nb_departements = (SELECT count(*) FROM departements d WHERE d.region = regions.code);

DROP TABLE agregats_communes;
