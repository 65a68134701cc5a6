-- title: Communes au-dessus ou en dessous d'un seuil de population
-- description: Les communes d'un département (code, ou vide pour toute la France) dont la population municipale est comprise
--   entre un minimum et un maximum (laisser vide pour ne pas borner).
-- params: departement, minimum, maximum
-- param_labels: departement=Code du département (vide : toute la France)&minimum=Population minimale&maximum=Population maximale
-- example: departement=35&minimum=10000&maximum=
SELECT c.code_insee, c.nom, c.departement, c.population, c.superficie_km2, c.epci
FROM communes c
WHERE (:departement = '' OR c.departement = :departement)
  AND (:minimum = '' OR c.population >= CAST(:minimum AS INTEGER))
  AND (:maximum = '' OR c.population <= CAST(:maximum AS INTEGER))
ORDER BY c.population DESC
