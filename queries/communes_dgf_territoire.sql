-- title: Communes d'un territoire qui reçoivent la plus forte DGF
-- description: Les communes d'un EPCI, d'un département ou d'une région (niveau : epci, departement ou region ; code ou
--   SIREN), de la plus forte à la plus faible dotation globale de fonctionnement (DGF), au millésime principal des
--   critères de la DGCL (table dgcl_criteres_communes ; indicateurs_millesimes), avec la DGF par habitant et la part
--   de la DGF de l'ensemble de ces communes.
-- params: niveau, code
-- example: niveau=epci&code=243500139
WITH membres AS (
  SELECT code_insee, nom FROM communes
  WHERE (:niveau = 'epci' AND epci = :code) OR (:niveau = 'departement' AND departement = :code)
     OR (:niveau = 'region' AND region = :code)
)
SELECT
  c.code_insee, c.nom,
  d.dgf_totale, d.dgf_par_habitant,
  round(100.0 * d.dgf_totale / sum(d.dgf_totale) OVER (), 2) AS part_pct,
  d.annee
FROM membres c
JOIN dgcl_criteres_communes d ON d.code_insee = c.code_insee
WHERE d.dgf_totale IS NOT NULL
  AND d.annee = (SELECT annee FROM indicateurs_millesimes
                 WHERE indicateur = 'dgf_totale' AND niveau = 'commune' AND dernier_millesime = 1)
ORDER BY d.dgf_totale DESC, c.code_insee
