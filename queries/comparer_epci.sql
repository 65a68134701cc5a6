-- title: EPCI à comparer
-- description: Plusieurs EPCI, donnés par leurs SIREN séparés par des virgules : leur ligne de la table
--   valeurs_epci_large (nom, nature juridique, département et région principaux, chaque indicateur à son millésime
--   principal ; libellés, unités, millésimes et sources dans comparer_indicateurs) et leur nature juridique en
--   clair. C'est le tableau de la page « Comparer ».
-- params: codes
-- example: codes=243500139,200046977
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT w.*, e.type_libelle
FROM decoupe
JOIN valeurs_epci_large w ON w.code = decoupe.code
JOIN epci e ON e.siren = w.code
ORDER BY decoupe.rang
