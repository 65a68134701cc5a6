-- title: Population d'un territoire à chaque millésime
-- description: La population municipale et la population totale d'un territoire (niveau : commune, epci, departement ou
--   region ; code INSEE ou SIREN) à chaque millésime chargé, sur son périmètre actuel, avec la source de chaque
--   valeur. `annee` est l'année du recensement (une population légale millésimée N entre en vigueur le 1er janvier
--   N+3). La population totale ajoute à la population municipale la population comptée à part ; elle n'est pas
--   additive au-delà de l'EPCI. C'est le graphique « Population » des fiches.
-- params: niveau, code
-- example: niveau=commune&code=35238
SELECT v.annee, v.indicateur, i.libelle AS serie, v.valeur AS population,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime
FROM valeurs v
JOIN indicateurs i ON i.code = v.indicateur
JOIN sources_donnees s ON s.id = v.source
WHERE v.niveau = :niveau AND v.code = :code AND v.indicateur IN ('population_municipale', 'population_totale')
ORDER BY v.annee, v.indicateur = 'population_totale'
