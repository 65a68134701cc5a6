-- title: Population d'un territoire à chaque millésime
-- description: La population municipale d'un territoire (niveau : commune, epci, departement ou region ; code INSEE ou
--   SIREN) à chaque millésime chargé, sur son périmètre actuel, avec la source de chaque valeur. C'est le graphique
--   « Évolution de la population » des fiches.
-- params: niveau, code
-- example: niveau=commune&code=35238
SELECT v.annee, v.valeur AS population, s.producteur, s.titre AS source, s.url AS source_url, s.millesime
FROM valeurs v
JOIN sources_donnees s ON s.id = v.source
WHERE v.niveau = :niveau AND v.code = :code AND v.indicateur = 'population_municipale'
ORDER BY v.annee
