-- title: Communes d'un département classées par population
-- description: Les communes d'un département (code), de la plus peuplée à la moins peuplée, avec leur EPCI.
-- params: departement
-- example: departement=35
SELECT
  c.code_insee, c.nom, c.population, c.superficie_km2,
  round(c.population / c.superficie_km2, 1) AS densite,
  c.epci, e.nom AS epci_nom, c.chef_lieu, c.latitude, c.longitude
FROM communes c
LEFT JOIN epci e ON e.siren = c.epci
WHERE c.departement = :departement
ORDER BY c.population DESC
