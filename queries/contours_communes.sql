-- title: Contours et indicateurs des communes d'un territoire
-- description: Les contours simplifiés des communes d'un territoire (GeoJSON MultiPolygon, longitude et latitude WGS 84) avec
--   les valeurs de quelques indicateurs à leur dernier millésime : ce sont les données des cartes des fiches. Paramètres :
--   niveau (commune : la commune seule ; epci : ses communes membres ; departement ; region), code, et indicateurs
--   (codes séparés par des virgules, voir la table indicateurs). Ajoutez _json=contour&_json=valeurs à l'adresse
--   .json pour recevoir contours et valeurs en objets JSON.
-- params: niveau, code, indicateurs
-- example: niveau=epci&code=243500139&indicateurs=densite,evolution_population_pct,dgf_par_habitant
WITH choisies AS (
  SELECT code_insee FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION ALL SELECT code_insee FROM communes WHERE :niveau = 'epci' AND epci = :code
  UNION ALL SELECT code_insee FROM communes WHERE :niveau = 'departement' AND departement = :code
  UNION ALL SELECT code_insee FROM communes WHERE :niveau = 'region' AND region = :code
),
demandes AS (  -- "densite,evolution_population_pct" → the rows densite and evolution_population_pct
  SELECT value AS indicateur
  FROM json_each('["' || replace(replace(replace(replace(:indicateurs, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT
  c.code_insee, c.nom, c.population,
  (SELECT json_group_object(v.indicateur, v.valeur) FROM demandes d
   JOIN valeurs_dernier_millesime v ON v.niveau = 'commune' AND v.code = c.code_insee AND v.indicateur = d.indicateur
  ) AS valeurs,
  k.contour
FROM choisies
JOIN communes c ON c.code_insee = choisies.code_insee
JOIN contours_communes k ON k.code_insee = c.code_insee
ORDER BY c.code_insee
