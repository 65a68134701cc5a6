-- title: Communes d'un département classées par DGF par habitant
-- description: Les communes d'un département (code, par exemple 35 ou 2A), de la plus forte à la plus faible dotation
--   globale de fonctionnement (DGF) par habitant de la population DGF, au millésime principal des critères de la
--   DGCL (table dgcl_criteres_communes ; indicateurs_millesimes), avec la DGF, la population DGF et le rang dans le
--   département.
-- params: departement
-- example: departement=35
SELECT
  rank() OVER (ORDER BY d.dgf_par_habitant DESC) AS rang,
  c.code_insee, c.nom,
  d.dgf_par_habitant, d.dgf_totale, d.population_dgf,
  d.annee
FROM communes c
JOIN dgcl_criteres_communes d ON d.code_insee = c.code_insee
WHERE c.departement = :departement AND d.dgf_par_habitant IS NOT NULL
  AND d.annee = (SELECT annee FROM indicateurs_millesimes
                 WHERE indicateur = 'dgf_par_habitant' AND niveau = 'commune' AND dernier_millesime = 1)
ORDER BY d.dgf_par_habitant DESC, c.code_insee
