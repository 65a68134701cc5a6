-- title: Régions à comparer
-- description: Plusieurs régions, données par leurs codes séparés par des virgules (exemple : 53,52,11) : leur ligne de
--   la table valeurs_regions_large (nom, zone, chaque indicateur à son millésime principal ; libellés, unités,
--   millésimes et sources dans comparer_indicateurs). C'est le tableau de la page « Comparer ».
-- params: codes
-- example: codes=53,52,11
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT w.*
FROM decoupe
JOIN valeurs_regions_large w ON w.code = decoupe.code
ORDER BY decoupe.rang
