-- title: Communes d'un département bénéficiaires de la DSU
-- description: Les communes d'un département (code, par exemple 93 ou 2A) qui reçoivent la dotation de solidarité urbaine
--   et de cohésion sociale (DSU) au millésime principal des critères de la DGCL (table dgcl_criteres_communes ;
--   indicateurs_millesimes), de la plus forte à la plus faible, avec le montant par habitant de la population DGF et
--   la population des quartiers prioritaires (QPV).
-- params: departement
-- example: departement=93
SELECT
  c.code_insee, c.nom,
  d.dsu,
  round(d.dsu * 1.0 / d.population_dgf, 2) AS dsu_par_habitant,
  d.population_dgf, d.population_qpv,
  d.annee
FROM communes c
JOIN dgcl_criteres_communes d ON d.code_insee = c.code_insee
WHERE c.departement = :departement AND d.dsu > 0
  AND d.annee = (SELECT annee FROM indicateurs_millesimes
                 WHERE indicateur = 'dsu' AND niveau = 'commune' AND dernier_millesime = 1)
ORDER BY d.dsu DESC, c.code_insee
