-- title: Fiche d'une région
-- description: Identité d'une région (chef-lieu, population, superficie, nombre de départements, d'EPCI et de communes), à
--   partir de son code.
-- params: code
-- example: code=53
SELECT
  r.code, r.nom, r.zone, z.libelle AS zone_libelle,
  r.population, r.annee_population, r.superficie_km2,
  round(r.population / r.superficie_km2, 1) AS densite,
  r.nb_departements, r.nb_epci, r.nb_communes,
  r.chef_lieu, c.nom AS chef_lieu_nom
FROM regions r
JOIN zones z ON z.code = r.zone
LEFT JOIN communes c ON c.code_insee = r.chef_lieu
WHERE r.code = :code
