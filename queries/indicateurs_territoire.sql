-- title: Indicateurs d'un territoire au dernier millésime
-- description: Pour un territoire (niveau : commune, epci, departement ou region ; code INSEE ou SIREN), la valeur de chaque
--   indicateur à son millésime le plus récent, avec l'unité et la source. C'est le bloc « Indicateurs » des
--   fiches : les finances (OFGL) et le contexte socio-économique (INSEE) ont leurs blocs et leurs requêtes,
--   finances_territoire et contexte_territoire.
--   annee_population est le millésime de la population municipale du territoire : la fiche signale une
--   population d'un autre millésime.
-- params: niveau, code
-- example: niveau=commune&code=35238
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales, i.theme,
  v.annee, v.valeur, v.valeur_texte,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime,
  (SELECT max(p.annee) FROM valeurs p
   WHERE p.niveau = v.niveau AND p.code = v.code AND p.indicateur = 'population_municipale') AS annee_population
FROM valeurs v
JOIN indicateurs i ON i.code = v.indicateur
JOIN sources_donnees s ON s.id = v.source
WHERE v.niveau = :niveau AND v.code = :code AND i.bloc IS NULL
  AND v.annee = (
    SELECT max(w.annee) FROM valeurs w
    WHERE w.niveau = v.niveau AND w.code = v.code AND w.indicateur = v.indicateur
  )
ORDER BY i.ordre, i.code
