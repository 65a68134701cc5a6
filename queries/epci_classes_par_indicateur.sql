-- title: EPCI d'un département classés par un indicateur
-- description: Les EPCI à fiscalité propre dont le département principal est celui donné, classés par un indicateur à son
--   millésime principal (le plus récent qui couvre au moins la moitié des EPCI, voir indicateurs_millesimes). Paramètres : code du département et code de l'indicateur.
-- example: departement=35&indicateur=population_municipale
select
  e.siren,
  e.nom,
  e.type,
  v.valeur,
  i.unite,
  v.annee,
  rank() over (order by v.valeur desc) as rang
from epci e
join valeurs v on v.niveau = 'epci' and v.code = e.siren and v.indicateur = :indicateur
join indicateurs i on i.code = v.indicateur
where e.departement = :departement
  and v.annee = (
    select annee from indicateurs_millesimes
    where indicateur = :indicateur and niveau = 'epci' and dernier_millesime = 1
  )
order by v.valeur desc
