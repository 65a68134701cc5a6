-- title: Communes d'un territoire qui reçoivent la plus forte DGF
-- description: Les communes d'un EPCI, d'un département ou d'une région (niveau : epci, departement ou region ; code ou
--   SIREN), de la plus forte à la plus faible dotation globale de fonctionnement (DGF), au dernier millésime des
--   critères de la DGCL, avec la DGF par habitant et la part de la DGF de l'ensemble de ces communes.
-- params: niveau, code
-- example: niveau=epci&code=243500139
WITH membres AS (
  SELECT code_insee, nom FROM communes
  WHERE (:niveau = 'epci' AND epci = :code) OR (:niveau = 'departement' AND departement = :code)
     OR (:niveau = 'region' AND region = :code)
)
SELECT
  c.code_insee, c.nom,
  d.valeur AS dgf_totale,
  h.valeur AS dgf_par_habitant,
  round(100.0 * d.valeur / sum(d.valeur) OVER (), 2) AS part_pct,
  d.annee
FROM membres c
JOIN valeurs_dernier_millesime d ON d.niveau = 'commune' AND d.code = c.code_insee AND d.indicateur = 'dgf_totale'
LEFT JOIN valeurs h ON h.niveau = 'commune' AND h.code = c.code_insee AND h.indicateur = 'dgf_par_habitant' AND h.annee = d.annee
ORDER BY d.valeur DESC, c.code_insee
