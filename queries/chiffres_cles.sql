-- title: Chiffres clés d'un territoire, comparés à son territoire parent et à la France
-- description: Pour un territoire (niveau : commune, epci, departement ou region ; code INSEE ou SIREN) et une liste
--   d'indicateurs (codes séparés par des virgules), la valeur de chacun à son dernier millésime, celle du territoire
--   parent au même millésime (le département d'une commune ou d'un EPCI, la région d'un département) et celle de
--   la France (métropole et DROM, table valeurs_france : france_exclues nomme les régions laissées de côté à ce
--   millésime), avec leur source. C'est le bandeau « Chiffres clés » des
--   fiches.
-- params: niveau, code, indicateurs
-- example: niveau=commune&code=35238&indicateurs=population_municipale,evolution_population_pct,densite,superficie
WITH demandes AS (  -- "population_municipale,densite" → the rows population_municipale and densite, in that order
  SELECT key AS rang, value AS indicateur
  FROM json_each('["' || replace(replace(replace(replace(:indicateurs, '\', ''), '"', ''), ' ', ''), ',', '","') || '"]')
),
parent(niveau, code) AS (
  SELECT 'departement', departement FROM communes WHERE :niveau = 'commune' AND code_insee = :code
  UNION ALL SELECT 'departement', departement FROM epci WHERE :niveau = 'epci' AND siren = :code
  UNION ALL SELECT 'region', region FROM departements WHERE :niveau = 'departement' AND code = :code
)
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales,
  v.annee, v.valeur,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime,
  p.niveau AS parent_niveau, p.code AS parent_code, t.nom AS parent_nom, vp.valeur AS valeur_parent,
  f.valeur AS valeur_france, f.exclues AS france_exclues
FROM demandes d
JOIN indicateurs i ON i.code = d.indicateur
JOIN valeurs v ON v.niveau = :niveau AND v.code = :code AND v.indicateur = i.code
  AND v.annee = (SELECT max(w.annee) FROM valeurs w WHERE w.niveau = :niveau AND w.code = :code AND w.indicateur = i.code)
JOIN sources_donnees s ON s.id = v.source
LEFT JOIN parent p
LEFT JOIN territoires t ON t.type = p.niveau AND t.code = p.code
LEFT JOIN valeurs vp ON vp.niveau = p.niveau AND vp.code = p.code AND vp.indicateur = i.code AND vp.annee = v.annee
LEFT JOIN valeurs_france f ON f.indicateur = i.code AND f.annee = v.annee
ORDER BY d.rang
