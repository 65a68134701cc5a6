-- title: Conseillers régionaux d'une région
-- description: Les conseillers régionaux d'une région (code), avec leur section départementale, leur fonction
--   (président, vice-présidents et leur rang) et les dates de début du mandat et de la fonction.
-- params: region
-- example: region=53
SELECT e.prenom, e.nom, e.fonction, e.ordre_fonction, e.section_departementale, e.date_debut_mandat,
  e.date_debut_fonction, e.conseil
FROM elus_regionaux e
WHERE e.region = :region
ORDER BY CASE e.fonction WHEN 'Président' THEN 0 WHEN 'Vice-président' THEN 1 ELSE 2 END, e.ordre_fonction, e.nom,
  e.prenom
