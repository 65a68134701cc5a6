-- title: Publications concernant un territoire
-- description: Les publications liées à un territoire et à ses territoires parents (commune → EPCI → département → région).
--   Paramètres : niveau (region, departement, epci, commune) et code (code INSEE, SIREN de l'EPCI, code du
--   département ou de la région). La colonne direct vaut 1 pour le territoire lui-même, methode dit comment le
--   lien a été établi.
-- params: niveau, code
-- example: niveau=commune&code=35238
WITH cible(niveau, code) AS (
  SELECT :niveau, :code
  UNION SELECT 'epci', epci FROM communes WHERE :niveau = 'commune' AND code_insee = :code AND epci IS NOT NULL
  UNION SELECT 'departement', departement FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION SELECT 'region', region FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION SELECT 'departement', departement FROM epci_departements WHERE :niveau = 'epci' AND siren = :code
  UNION SELECT 'region', region FROM epci WHERE :niveau = 'epci' AND siren = :code
  UNION SELECT 'region', region FROM departements WHERE :niveau = 'departement' AND code = :code
),
liens AS (
  SELECT pt.publication, pt.niveau, pt.code, pt.methode,
         CASE WHEN pt.niveau = :niveau AND pt.code = :code THEN 1 ELSE 0 END AS direct,
         CASE pt.niveau WHEN 'commune' THEN 0 WHEN 'epci' THEN 1 WHEN 'departement' THEN 2 ELSE 3 END AS ordre,
         row_number() OVER (PARTITION BY pt.publication ORDER BY
           CASE pt.niveau WHEN 'commune' THEN 0 WHEN 'epci' THEN 1 WHEN 'departement' THEN 2 ELSE 3 END) AS rang
  FROM cible JOIN publications_territoires pt ON pt.niveau = cible.niveau AND pt.code = cible.code
)
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.type, t.libelle AS type_libelle,
       p.organisation, o.nom AS organisation_nom, p.themes,
       liens.niveau AS territoire_niveau, liens.code AS territoire_code, liens.methode, liens.direct
FROM liens
JOIN publications p ON p.id = liens.publication
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
WHERE liens.rang = 1
ORDER BY liens.ordre, coalesce(p.date_publication, substr(p.premiere_vue, 1, 10)) DESC, p.id DESC
