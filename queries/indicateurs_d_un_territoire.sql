-- title: Tous les indicateurs d'un territoire
-- description: Les valeurs de tous les indicateurs d'un territoire, à chaque millésime, avec leur source. Paramètres : niveau
--   (commune, epci, departement ou region) et code (code INSEE ou SIREN).
-- example: niveau=commune&code=35238
select
  i.libelle,
  v.annee,
  v.valeur,
  i.unite,
  s.producteur,
  s.titre as source,
  s.millesime
from valeurs v
join indicateurs i on i.code = v.indicateur
join sources_donnees s on s.id = v.source
where v.niveau = :niveau and v.code = :code
order by i.ordre, i.code, v.annee desc
