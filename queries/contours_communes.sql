-- title: Contours et indicateurs des communes d'un territoire
-- description: Les contours simplifiés des communes d'un territoire (GeoJSON MultiPolygon, longitude et latitude WGS 84) avec
--   les valeurs des trois indicateurs des cartes des fiches (densité, évolution de la population en %, DGF par
--   habitant) à leur millésime principal, lues dans la table valeurs_communes_large : ce sont les données des cartes.
--   Paramètres : niveau (commune : la commune seule ; epci : ses communes membres ; departement ; region) et code.
--   Ajoutez _json=contour&_json=valeurs à l'adresse .json pour recevoir contours et valeurs en objets JSON.
-- params: niveau, code
-- example: niveau=epci&code=243500139
WITH choisies AS (
  SELECT code_insee FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION ALL SELECT code_insee FROM communes WHERE :niveau = 'epci' AND epci = :code
  UNION ALL SELECT code_insee FROM communes WHERE :niveau = 'departement' AND departement = :code
  UNION ALL SELECT code_insee FROM communes WHERE :niveau = 'region' AND region = :code
)
SELECT
  c.code_insee, c.nom, c.population,
  json_object('densite', w.densite, 'evolution_population_pct', w.evolution_population_pct,
              'dgf_par_habitant', w.dgf_par_habitant) AS valeurs,
  k.contour
FROM choisies
JOIN communes c ON c.code_insee = choisies.code_insee
JOIN contours_communes k ON k.code_insee = c.code_insee
LEFT JOIN valeurs_communes_large w ON w.code = c.code_insee
ORDER BY c.code_insee
