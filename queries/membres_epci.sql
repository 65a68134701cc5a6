-- title: Communes membres d'un EPCI
-- description: Les communes membres d'un EPCI à fiscalité propre (SIREN), avec leur population, leur superficie et leur
--   densité.
-- params: siren
-- example: siren=243500139
SELECT
  c.code_insee, c.nom, c.departement, c.population, c.superficie_km2,
  round(c.population / c.superficie_km2, 1) AS densite,
  c.chef_lieu, c.latitude, c.longitude
FROM communes c
WHERE c.epci = :siren
ORDER BY c.population DESC
