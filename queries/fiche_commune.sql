-- title: Fiche d'une commune
-- description: Identité et rattachements d'une commune (département, région, EPCI, arrondissement) et son maire (ou
--   pourquoi le Répertoire national des élus n'en donne pas), à partir de son code INSEE ; sa superficie contrôlée avec celle de la DGCL (superficie_controle) et la densité calculée sur
--   la superficie retenue (superficie_source).
-- params: code
-- example: code=35238
SELECT
  c.code_insee, c.nom, c.siren, c.zone, z.libelle AS zone_libelle,
  c.chef_lieu, cl.libelle AS chef_lieu_libelle,
  c.population, c.annee_population, c.superficie_km2, c.superficie_note,
  c.superficie_source, c.superficie_controle, c.superficie_douteuse,
  c.superficie_dgcl_km2, c.superficie_dgcl_annee, sd.url AS superficie_dgcl_url,
  -- the density on the area the fiche shows: the outlines', or the DGCL's for a commune without outline
  round(c.population / CASE c.superficie_source WHEN 'contours' THEN c.superficie_km2
                                                 WHEN 'dgcl' THEN c.superficie_dgcl_km2 END, 1) AS densite,
  c.latitude, c.longitude, c.anciens_codes,
  c.departement, d.nom AS departement_nom,
  c.region, r.nom AS region_nom,
  c.arrondissement, a.nom AS arrondissement_nom,
  c.epci, e.nom AS epci_nom, e.type_libelle AS epci_type,
  c.ept, t.nom AS ept_nom,
  (SELECT group_concat(code_postal, ', ') FROM
    (SELECT code_postal FROM codes_postaux p WHERE p.code_insee = c.code_insee ORDER BY code_postal)
  ) AS codes_postaux,
  c.mairie_adresse, c.mairie_telephone, c.mairie_email, c.mairie_site,
  m.prenom AS maire_prenom, m.nom AS maire_nom, m.date_debut_fonction AS maire_depuis,
  sm.explication AS maire_absent
FROM communes c
JOIN departements d ON d.code = c.departement
JOIN regions r ON r.code = c.region
JOIN zones z ON z.code = c.zone
LEFT JOIN chefs_lieux_types cl ON cl.code = c.chef_lieu
LEFT JOIN arrondissements a ON a.code = c.arrondissement
LEFT JOIN epci e ON e.siren = c.epci
LEFT JOIN ept t ON t.siren = c.ept
LEFT JOIN maires m ON m.code_insee = c.code_insee
LEFT JOIN communes_sans_maire sm ON sm.code_insee = c.code_insee
LEFT JOIN sources_donnees sd ON sd.id = c.superficie_dgcl_source
WHERE c.code_insee = :code
