-- title: Communes d'un département classées par un indicateur
-- description: Les communes d'un département, de la plus forte à la plus faible valeur d'un indicateur, à son
--   millésime principal (le plus récent qui couvre au moins la moitié des communes, voir indicateurs_millesimes).
--   Paramètres : code du département (par exemple 35 ou 2A) et code de l'indicateur (par exemple densite,
--   population_municipale, evolution_population_pct).
-- example: departement=35&indicateur=densite
select
  c.code_insee,
  c.nom,
  v.valeur,
  i.unite,
  v.annee,
  rank() over (order by v.valeur desc) as rang
from communes c
join valeurs v on v.niveau = 'commune' and v.code = c.code_insee and v.indicateur = :indicateur
join indicateurs i on i.code = v.indicateur
where c.departement = :departement
  and v.annee = (
    select annee from indicateurs_millesimes
    where indicateur = :indicateur and niveau = 'commune' and dernier_millesime = 1
  )
order by v.valeur desc
