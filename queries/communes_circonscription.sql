-- title: Communes d'une circonscription législative
-- description: Les communes d'une circonscription législative (code, par exemple 35-08), avec la part de leur
--   superficie qui s'y trouve (100 % sauf pour les communes partagées) et leur population.
-- params: circonscription
-- example: circonscription=35-08
SELECT
  cc.code_insee, co.nom, co.departement, co.population, cc.part_superficie, cc.methode
FROM communes_circonscriptions cc
JOIN communes co ON co.code_insee = cc.code_insee
WHERE cc.circonscription = :circonscription
ORDER BY co.population DESC
