-- title: Finances d'un territoire, exercice par exercice
-- description: Les comptes consolidés d'un territoire publiés par l'OFGL (niveau : commune, epci, departement ou region ;
--   code INSEE ou SIREN) : recettes et dépenses de fonctionnement, épargne brute, dépenses d'équipement, encours de
--   dette, en euros et en euros par habitant, capacité de désendettement ; un indicateur et un exercice par ligne,
--   avec la source. C'est le bloc « Finances » des fiches.
-- params: niveau, code
-- example: niveau=commune&code=35238
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales,
  v.annee, v.valeur,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime
FROM valeurs v
JOIN indicateurs i ON i.code = v.indicateur
JOIN sources_donnees s ON s.id = v.source
WHERE v.niveau = :niveau AND v.code = :code AND i.bloc = 'finances'
  AND EXISTS (SELECT 1 FROM indicateurs WHERE bloc = 'finances')  -- nothing read when no such indicator is loaded
ORDER BY i.ordre, i.code, v.annee
