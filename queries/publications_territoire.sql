-- title: Publications concernant un territoire
-- description: Les publications liées à un territoire, à ses territoires parents (commune → EPCI → département →
--   région) et, pour une région, à ses départements. Paramètres : niveau (region, departement, epci, commune) et
--   code (code INSEE, SIREN de l'EPCI, code du département ou de la région). Chaque publication paraît une fois, au
--   territoire le plus proche : direct vaut 1 pour le territoire lui-même ; relation dit « territoire »,
--   « parent » ou « departement de la region » ; methode dit comment le lien a été établi. Les publications sont
--   groupées par territoire (nb_groupe publications, rang_groupe leur rang), les plus lourdes (poids) puis les plus
--   récentes d'abord. Les publications masquées n'y figurent pas.
-- params: niveau, code
-- example: niveau=commune&code=35238
WITH cible(niveau, code, ordre, relation) AS (
  SELECT :niveau, :code, 0, 'territoire'
  UNION SELECT 'epci', epci, 1, 'parent' FROM communes WHERE :niveau = 'commune' AND code_insee = :code AND epci IS NOT NULL
  UNION SELECT 'departement', departement, 2, 'parent' FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION SELECT 'region', region, 3, 'parent' FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION SELECT 'departement', departement, 2, 'parent' FROM epci_departements WHERE :niveau = 'epci' AND siren = :code
  UNION SELECT 'region', region, 3, 'parent' FROM epci WHERE :niveau = 'epci' AND siren = :code
  UNION SELECT 'region', region, 3, 'parent' FROM departements WHERE :niveau = 'departement' AND code = :code
  UNION SELECT 'departement', code, 1, 'departement de la region' FROM departements WHERE :niveau = 'region' AND region = :code
),
liens AS (
  SELECT pt.publication, pt.niveau, pt.code, pt.methode, cible.ordre, cible.relation,
         row_number() OVER (PARTITION BY pt.publication ORDER BY cible.ordre, pt.code) AS rang
  FROM cible JOIN publications_territoires pt ON pt.niveau = cible.niveau AND pt.code = cible.code
)
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.annee, p.type, t.libelle AS type_libelle,
       p.organisation, o.nom AS organisation_nom, o.sigle AS organisation_sigle, p.themes, p.poids,
       liens.niveau AS territoire_niveau, liens.code AS territoire_code, terr.nom AS territoire_nom,
       d.type_liaison AS territoire_type_liaison, liens.methode, liens.ordre = 0 AS direct, liens.relation,
       liens.ordre,
       count(*) OVER groupe AS nb_groupe, row_number() OVER (groupe ORDER BY p.poids DESC,
         p.date_tri IS NULL, p.date_tri DESC, p.id DESC) AS rang_groupe
FROM liens
JOIN publications p ON p.id = liens.publication
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
LEFT JOIN territoires terr ON terr.type = liens.niveau AND terr.code = liens.code
LEFT JOIN departements d ON liens.niveau = 'departement' AND d.code = liens.code
WHERE liens.rang = 1 AND p.masquee = 0
WINDOW groupe AS (PARTITION BY liens.niveau, liens.code)
ORDER BY liens.ordre, terr.nom, rang_groupe
