-- title: Communes membres d'un EPCI
-- description: Les communes membres d'un EPCI à fiscalité propre (SIREN), avec leur population, leur superficie et leur
--   densité.
-- params: siren
-- example: siren=243500139
SELECT
  c.code_insee, c.nom, c.departement, c.population,
  -- the area its fiche shows: the outlines', or the DGCL's for a commune without a usable outline (93066)
  CASE c.superficie_source WHEN 'contours' THEN c.superficie_km2 WHEN 'dgcl' THEN c.superficie_dgcl_km2 END
    AS superficie_km2,
  round(c.population / CASE c.superficie_source WHEN 'contours' THEN c.superficie_km2
                                                 WHEN 'dgcl' THEN c.superficie_dgcl_km2 END, 1) AS densite,
  c.chef_lieu, c.latitude, c.longitude
FROM communes c
WHERE c.epci = :siren
ORDER BY c.population DESC
