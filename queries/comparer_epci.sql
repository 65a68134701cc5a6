-- title: EPCI à comparer
-- description: Nom, département principal et nature juridique de plusieurs EPCI (les indicateurs sont dans
--   comparer_indicateurs), donnés par leurs SIREN séparés par des virgules.
-- params: codes
-- example: codes=243500139,200046977
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT e.siren AS code, e.nom, e.departement, e.type_libelle
FROM decoupe
JOIN epci e ON e.siren = decoupe.code
ORDER BY decoupe.rang
