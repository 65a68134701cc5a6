-- title: Contexte socio-économique d'un territoire
-- description: Chômage, revenu médian, pauvreté, logements (principaux, secondaires, vacants), emplois et structure par âge
--   d'un territoire (niveau : commune, epci, departement ou region ; code INSEE ou SIREN), d'après la base du
--   comparateur de territoires de l'INSEE : chaque indicateur à son millésime le plus récent, avec la source.
--   C'est le bloc « Contexte socio-économique » des fiches.
-- params: niveau, code
-- example: niveau=commune&code=35238
WITH du_territoire AS (  -- its values (the view valeurs read by level and code), each indicator's latest year marked;
                        -- none read when no indicator of the block is loaded
  SELECT *, max(annee) OVER (PARTITION BY indicateur) AS dernier_millesime
  FROM valeurs WHERE niveau = :niveau AND code = :code AND EXISTS (SELECT 1 FROM indicateurs WHERE bloc = 'contexte')
)
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales, i.theme,
  v.annee, v.valeur, v.valeur_texte,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime
FROM du_territoire v
JOIN indicateurs i ON i.code = v.indicateur
JOIN sources_donnees s ON s.id = v.source
WHERE i.bloc = 'contexte' AND v.annee = v.dernier_millesime
ORDER BY i.ordre, i.code
