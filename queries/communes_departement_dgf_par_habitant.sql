-- title: Communes d'un département classées par DGF par habitant
-- description: Les communes d'un département (code, par exemple 35 ou 2A), de la plus forte à la plus faible dotation
--   globale de fonctionnement (DGF) par habitant de la population DGF, au dernier millésime des critères de la
--   DGCL, avec la DGF, la population DGF et le rang dans le département.
-- params: departement
-- example: departement=35
SELECT
  rank() OVER (ORDER BY h.valeur DESC) AS rang,
  c.code_insee, c.nom,
  h.valeur AS dgf_par_habitant,
  d.valeur AS dgf_totale,
  p.valeur AS population_dgf,
  h.annee
FROM communes c
JOIN valeurs_dernier_millesime h ON h.niveau = 'commune' AND h.code = c.code_insee AND h.indicateur = 'dgf_par_habitant'
LEFT JOIN valeurs d ON d.niveau = 'commune' AND d.code = c.code_insee AND d.indicateur = 'dgf_totale' AND d.annee = h.annee
LEFT JOIN valeurs p ON p.niveau = 'commune' AND p.code = c.code_insee AND p.indicateur = 'population_dgf' AND p.annee = h.annee
WHERE c.departement = :departement
ORDER BY h.valeur DESC, c.code_insee
