-- title: Communes d'un territoire qui reçoivent la plus forte DGF
-- description: Les communes d'un EPCI, d'un département ou d'une région (niveau : epci, departement ou region ; code ou
--   SIREN), de la plus forte à la plus faible dotation globale de fonctionnement (DGF), au millésime principal des
--   critères de la DGCL (table valeurs_communes_large ; indicateurs_millesimes), avec la DGF par habitant, la part de
--   la DGF de l'ensemble de ces communes et leur nombre (nb_communes). limite : le nombre de communes données, les
--   premières (vide : toutes).
-- params: niveau, code, limite
-- example: niveau=epci&code=243500139&limite=
WITH membres AS (
  SELECT * FROM valeurs_communes_large WHERE :niveau = 'epci' AND epci = :code
  UNION ALL SELECT * FROM valeurs_communes_large WHERE :niveau = 'departement' AND departement = :code
  UNION ALL SELECT * FROM valeurs_communes_large WHERE :niveau = 'region' AND region = :code
)
SELECT
  code AS code_insee, nom,
  dgf_totale, dgf_par_habitant,
  round(100.0 * dgf_totale / sum(dgf_totale) OVER (), 2) AS part_pct,
  count(*) OVER () AS nb_communes,
  (SELECT annee FROM indicateurs_millesimes
   WHERE indicateur = 'dgf_totale' AND niveau = 'commune' AND dernier_millesime = 1) AS annee
FROM membres
WHERE dgf_totale IS NOT NULL
ORDER BY dgf_totale DESC, code
LIMIT CASE WHEN :limite = '' THEN -1 ELSE CAST(:limite AS INTEGER) END
