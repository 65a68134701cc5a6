-- title: Communes à comparer
-- description: Nom, département et EPCI de plusieurs communes (les indicateurs sont dans comparer_indicateurs), données par
--   leurs codes INSEE séparés par des virgules (exemple : 35238,44109,2A004).
-- params: codes
-- example: codes=35238,44109,2A004
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT c.code_insee AS code, c.nom, c.departement, e.nom AS epci_nom
FROM decoupe
JOIN communes c ON c.code_insee = decoupe.code
LEFT JOIN epci e ON e.siren = c.epci
ORDER BY decoupe.rang
