-- title: Départements à comparer
-- description: Nom et région de plusieurs départements (les indicateurs sont dans comparer_indicateurs), donnés par leurs
--   codes séparés par des virgules (exemple : 35,2A,974).
-- params: codes
-- example: codes=35,2A,974
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT d.code, d.nom, d.region, r.nom AS region_nom
FROM decoupe
JOIN departements d ON d.code = decoupe.code
JOIN regions r ON r.code = d.region
ORDER BY decoupe.rang
