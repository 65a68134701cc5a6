-- title: Communes d'un département bénéficiaires de la DSU
-- description: Les communes d'un département (code, par exemple 93 ou 2A) qui reçoivent la dotation de solidarité urbaine
--   et de cohésion sociale (DSU) au dernier millésime des critères de la DGCL, de la plus forte à la plus faible,
--   avec le montant par habitant de la population DGF et la population des quartiers prioritaires (QPV).
-- params: departement
-- example: departement=93
SELECT
  c.code_insee, c.nom,
  u.valeur AS dsu,
  round(u.valeur * 1.0 / p.valeur, 2) AS dsu_par_habitant,
  p.valeur AS population_dgf,
  q.valeur AS population_qpv,
  u.annee
FROM communes c
JOIN valeurs_dernier_millesime u ON u.niveau = 'commune' AND u.code = c.code_insee AND u.indicateur = 'dsu'
LEFT JOIN valeurs p ON p.niveau = 'commune' AND p.code = c.code_insee AND p.indicateur = 'population_dgf' AND p.annee = u.annee
LEFT JOIN valeurs q ON q.niveau = 'commune' AND q.code = c.code_insee AND q.indicateur = 'population_qpv' AND q.annee = u.annee
WHERE c.departement = :departement AND u.valeur > 0
ORDER BY u.valeur DESC, c.code_insee
