-- title: Communes d'un département classées par population
-- description: Les communes d'un département (code), de la plus peuplée à la moins peuplée, avec leur EPCI.
-- params: departement
-- example: departement=35
SELECT
  c.code_insee, c.nom, c.population,
  -- the area its fiche shows: the outlines', or the DGCL's for a commune without a usable outline (93066)
  CASE c.superficie_source WHEN 'contours' THEN c.superficie_km2 WHEN 'dgcl' THEN c.superficie_dgcl_km2 END
    AS superficie_km2,
  round(c.population / CASE c.superficie_source WHEN 'contours' THEN c.superficie_km2
                                                 WHEN 'dgcl' THEN c.superficie_dgcl_km2 END, 1) AS densite,
  c.epci, e.nom AS epci_nom, c.chef_lieu, c.latitude, c.longitude
FROM communes c
LEFT JOIN epci e ON e.siren = c.epci
WHERE c.departement = :departement
ORDER BY c.population DESC
