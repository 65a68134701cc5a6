-- title: Conseillers départementaux d'un département
-- description: Les conseillers de l'assemblée départementale élus dans les cantons d'un département (code), avec leur
--   fonction (président, vice-présidents et leur rang) et les dates de début du mandat et de la fonction. Pour le
--   Bas-Rhin et le Haut-Rhin, ceux de la Collectivité européenne d'Alsace élus dans ce département.
-- params: departement
-- example: departement=35
SELECT e.canton, e.canton_nom, e.prenom, e.nom, e.fonction, e.ordre_fonction, e.date_debut_mandat,
  e.date_debut_fonction, e.conseil
FROM elus_departementaux e
WHERE e.departement = :departement
ORDER BY CASE e.fonction WHEN 'Président' THEN 0 WHEN 'Vice-président' THEN 1 ELSE 2 END, e.ordre_fonction, e.nom,
  e.prenom
