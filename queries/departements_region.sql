-- title: Départements d'une région
-- description: Les départements d'une région (code), avec leur population, leur superficie et leurs nombres de communes et
--   d'EPCI.
-- params: region
-- example: region=53
SELECT
  d.code, d.nom, d.population, d.superficie_km2,
  round(d.population / d.superficie_km2, 1) AS densite,
  d.nb_communes, d.nb_epci, d.chef_lieu, c.nom AS chef_lieu_nom,
  c.latitude, c.longitude
FROM departements d
LEFT JOIN communes c ON c.code_insee = d.chef_lieu
WHERE d.region = :region
ORDER BY d.code
