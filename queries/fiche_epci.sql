-- title: Fiche d'un EPCI
-- description: Identité d'un EPCI à fiscalité propre (nature juridique, population, superficie, département et région
--   principaux), à partir de son SIREN.
-- params: siren
-- example: siren=243500139
SELECT
  e.siren, e.nom, e.type, e.type_libelle, e.mode_financement,
  e.nb_communes, e.population, e.annee_population, e.superficie_km2,
  round(e.population / e.superficie_km2, 1) AS densite,
  e.latitude, e.longitude,
  e.departement, d.nom AS departement_nom,
  e.region, r.nom AS region_nom,
  (SELECT group_concat(departement, ', ') FROM epci_departements x WHERE x.siren = e.siren) AS departements
FROM epci e
LEFT JOIN departements d ON d.code = e.departement
LEFT JOIN regions r ON r.code = e.region
WHERE e.siren = :siren
