-- title: Départements à comparer
-- description: Plusieurs départements, donnés par leurs codes séparés par des virgules (exemple : 35,2A,974) : leur
--   ligne de la table valeurs_departements_large (nom, région, zone, chaque indicateur à son millésime principal ;
--   libellés, unités, millésimes et sources dans comparer_indicateurs) et le nom de leur région. C'est le tableau de
--   la page « Comparer ».
-- params: codes
-- example: codes=35,2A,974
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT w.*, r.nom AS region_nom
FROM decoupe
JOIN valeurs_departements_large w ON w.code = decoupe.code
JOIN regions r ON r.code = w.region
ORDER BY decoupe.rang
