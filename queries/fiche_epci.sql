-- title: Fiche d'un EPCI
-- description: Identité d'un EPCI à fiscalité propre (nature juridique, population, superficie, département et région
--   principaux, tous les départements et toutes les régions de ses communes), à partir de son SIREN.
-- params: siren
-- example: siren=243500139
SELECT
  e.siren, e.nom, e.type, e.type_libelle, e.mode_financement,
  e.nb_communes, e.population, e.annee_population, e.superficie_km2,
  round(e.population / e.superficie_km2, 1) AS densite,
  e.latitude, e.longitude,
  e.departement, d.nom AS departement_nom,
  e.region, r.nom AS region_nom,
  (SELECT group_concat(departement, ', ') FROM epci_departements x WHERE x.siren = e.siren) AS departements,
  (SELECT group_concat(code, '|') FROM (
    SELECT DISTINCT g.code FROM epci_departements x JOIN departements y ON y.code = x.departement
    JOIN regions g ON g.code = y.region WHERE x.siren = e.siren ORDER BY g.code)) AS regions,
  (SELECT group_concat(nom, '|') FROM (
    SELECT DISTINCT g.code, g.nom FROM epci_departements x JOIN departements y ON y.code = x.departement
    JOIN regions g ON g.code = y.region WHERE x.siren = e.siren ORDER BY g.code)) AS regions_noms
FROM epci e
LEFT JOIN departements d ON d.code = e.departement
LEFT JOIN regions r ON r.code = e.region
WHERE e.siren = :siren
