-- title: Fiche d'un département
-- description: Identité d'un département (région, préfecture, population, superficie, nombre de communes et d'EPCI), à partir
--   de son code.
-- params: code
-- example: code=35
SELECT
  d.code, d.nom, d.zone, z.libelle AS zone_libelle,
  d.population, d.annee_population, d.superficie_km2, d.superficie_methode,
  round(d.population / d.superficie_km2, 1) AS densite,
  d.nb_communes, d.nb_epci, d.nb_arrondissements,
  d.region, r.nom AS region_nom,
  d.chef_lieu, c.nom AS chef_lieu_nom
FROM departements d
JOIN regions r ON r.code = d.region
JOIN zones z ON z.code = d.zone
LEFT JOIN communes c ON c.code_insee = d.chef_lieu
WHERE d.code = :code
