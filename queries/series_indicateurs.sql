-- title: Séries de quelques indicateurs d'un territoire
-- description: Pour un territoire (niveau : commune, epci, departement ou region ; code INSEE ou SIREN) et une liste de
--   codes d'indicateurs séparés par des virgules (par exemple dgf_totale,dgf_par_habitant,dsu), la valeur de
--   chaque indicateur à chaque millésime, avec l'unité, la source et son producteur. Ce sont les blocs « Dotations de l'État »,
--   « Richesse et charges » et « Zonages » des fiches.
-- params: niveau, code, indicateurs
-- example: niveau=commune&code=35238&indicateurs=dgf_totale,dgf_par_habitant,dsu
WITH decoupe AS (  -- "dgf_totale, dsu" → the rows dgf_totale and dsu, in that order
  SELECT key AS rang, value AS indicateur
  FROM json_each('["' || replace(replace(replace(replace(:indicateurs, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
)
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales, i.type,
  v.annee, v.valeur, v.valeur_texte,
  s.titre AS source, s.url AS source_url, s.producteur
FROM decoupe
JOIN indicateurs i ON i.code = decoupe.indicateur
JOIN valeurs v ON v.niveau = :niveau AND v.code = :code AND v.indicateur = decoupe.indicateur
JOIN sources_donnees s ON s.id = v.source
ORDER BY decoupe.rang, v.annee
