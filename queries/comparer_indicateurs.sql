-- title: Indicateurs des comparaisons d'un niveau
-- description: Pour un niveau (commune, epci, departement ou region), les indicateurs de sa table large
--   (valeurs_communes_large, valeurs_epci_large…), colonnes des requêtes comparer_communes, comparer_epci,
--   comparer_departements et comparer_regions : libellé, unité, décimales, millésime principal (le plus récent qui
--   couvre au moins la moitié des territoires du niveau) et sources de ce millésime, une ligne par source.
-- params: niveau
-- example: niveau=commune
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales, i.type, m.annee,
  s.id AS source_id, s.titre AS source, s.url AS source_url
FROM indicateurs_millesimes m
JOIN indicateurs i ON i.code = m.indicateur
JOIN json_each('[' || m.sources || ']') j
JOIN sources_donnees s ON s.id = j.value
WHERE m.niveau = :niveau AND m.dernier_millesime = 1
ORDER BY i.ordre IS NULL, i.ordre, i.code, s.id
