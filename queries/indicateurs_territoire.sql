-- title: Indicateurs d'un territoire au dernier millésime
-- description: Pour un territoire (niveau : commune, epci, departement ou region ; code INSEE ou SIREN), la valeur de chaque
--   indicateur à son millésime le plus récent, avec l'unité et la source. C'est le bloc « Indicateurs » des
--   fiches : les finances (OFGL) et le contexte socio-économique (INSEE) ont leurs blocs et leurs requêtes,
--   finances_territoire et contexte_territoire.
--   annee_population est le millésime de la population municipale du territoire : la fiche signale une
--   population d'un autre millésime.
-- params: niveau, code
-- example: niveau=commune&code=35238
WITH du_territoire AS (  -- its values (the view valeurs read by level and code), each indicator's latest year marked
  SELECT *, max(annee) OVER (PARTITION BY indicateur) AS dernier_millesime,
         max(CASE WHEN indicateur = 'population_municipale' THEN annee END) OVER () AS annee_population
  FROM valeurs WHERE niveau = :niveau AND code = :code
)
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales, i.theme,
  v.annee, v.valeur, v.valeur_texte,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime,
  v.annee_population
FROM du_territoire v
JOIN indicateurs i ON i.code = v.indicateur
JOIN sources_donnees s ON s.id = v.source
WHERE i.bloc IS NULL AND v.annee = v.dernier_millesime
ORDER BY i.ordre, i.code
