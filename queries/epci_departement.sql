-- title: EPCI d'un département
-- description: Les EPCI à fiscalité propre ayant au moins une commune dans un département (code), avec le nombre et la
--   population de leurs communes dans ce département.
-- params: departement
-- example: departement=35
SELECT
  e.siren, e.nom, e.type_libelle, e.nb_communes, e.population,
  x.nb_communes AS nb_communes_dans_departement,
  x.population AS population_dans_departement,
  e.departement = x.departement AS departement_principal,
  e.latitude, e.longitude
FROM epci_departements x
JOIN epci e ON e.siren = x.siren
WHERE x.departement = :departement
ORDER BY e.population DESC
