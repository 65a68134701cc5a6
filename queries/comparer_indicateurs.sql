-- title: Comparer les indicateurs de plusieurs territoires
-- description: Les indicateurs de plusieurs territoires d'un même niveau (niveau : commune, epci, departement ou region ;
--   codes séparés par des virgules), au dernier millésime disponible pour ces territoires, un indicateur par ligne
--   et par territoire. C'est le tableau de la page « Comparer ».
-- params: niveau, codes
-- example: niveau=commune&codes=35238,44109
WITH decoupe AS (  -- "35238, 44109" → the rows 35238 and 44109, in that order
  SELECT key AS rang, value AS code
  FROM json_each('["' || replace(replace(replace(replace(:codes, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
),
-- the latest vintage of each indicator among these territories (a window over a few rows)
choisies AS (
  SELECT v.*, max(v.annee) OVER (PARTITION BY v.indicateur) AS dernier_millesime
  FROM decoupe JOIN valeurs v ON v.niveau = :niveau AND v.code = decoupe.code
)
SELECT
  v.code, i.code AS indicateur, i.libelle, i.unite, i.decimales,
  v.annee, v.valeur, v.valeur_texte, s.titre AS source, s.url AS source_url
FROM choisies v
JOIN indicateurs i ON i.code = v.indicateur
JOIN sources_donnees s ON s.id = v.source
WHERE v.annee = v.dernier_millesime
ORDER BY i.ordre, i.code
