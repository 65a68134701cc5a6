-- title: Régions à comparer
-- description: Nom et zone de plusieurs régions (les indicateurs sont dans comparer_indicateurs), données par leurs codes
--   séparés par des virgules (exemple : 53,52,11).
-- params: codes
-- example: codes=53,52,11
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT r.code, r.nom, r.zone
FROM decoupe
JOIN regions r ON r.code = decoupe.code
ORDER BY decoupe.rang
