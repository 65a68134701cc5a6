-- title: Communes à comparer
-- description: Plusieurs communes, données par leurs codes INSEE séparés par des virgules (exemple :
--   35238,44109,2A004) : leur ligne de la table valeurs_communes_large (nom, département, région, EPCI et chaque
--   indicateur à son millésime principal ; libellés, unités, millésimes et sources dans comparer_indicateurs) et le
--   nom de leur EPCI. C'est le tableau de la page « Comparer ».
-- params: codes
-- example: codes=35238,44109,2A004
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT w.*, e.nom AS epci_nom
FROM decoupe
JOIN valeurs_communes_large w ON w.code = decoupe.code
LEFT JOIN epci e ON e.siren = w.epci
ORDER BY decoupe.rang
