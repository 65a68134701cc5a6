-- title: Chiffres clés d'un territoire, comparés à son territoire parent et à la France
-- description: Pour un territoire (niveau : commune, epci, departement ou region ; code INSEE ou SIREN) et une liste
--   d'indicateurs (codes séparés par des virgules), la valeur de chacun à son dernier millésime, celle du territoire
--   parent au même millésime (le département d'une commune ou d'un EPCI, la région d'un département) et celle de
--   la France (métropole et DROM, table valeurs_france : france_exclues nomme les régions laissées de côté à ce
--   millésime), avec leur source. C'est le bandeau « Chiffres clés » des fiches. Les valeurs sont lues dans la vue
--   valeurs, filtrée par niveau et code (SQLite ne lit alors que les lignes du territoire dans chaque table de
--   valeurs) ; celles du parent, au seul niveau du parent.
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
),
du_territoire AS (  -- the territory's values, each indicator's latest year marked
  SELECT indicateur, annee, valeur, source, max(annee) OVER (PARTITION BY indicateur) AS dernier_millesime
  FROM valeurs WHERE niveau = :niveau AND code = :code
),
du_parent AS (  -- the parent's values: those of the indicators asked, at the parent's level (a few hundred
                -- territories; the view reads only these columns), then the parent's
  SELECT w.indicateur, w.annee, w.valeur
  FROM valeurs w JOIN parent p ON p.code = w.code
  WHERE w.niveau = CASE :niveau WHEN 'departement' THEN 'region' WHEN 'region' THEN '' ELSE 'departement' END
    AND instr(',' || replace(:indicateurs, ' ', '') || ',', ',' || w.indicateur || ',') > 0
)
SELECT
  i.code AS indicateur, i.libelle, i.unite, i.decimales,
  v.annee, v.valeur,
  s.producteur, s.titre AS source, s.url AS source_url, s.millesime,
  p.niveau AS parent_niveau, p.code AS parent_code, t.nom AS parent_nom, vp.valeur AS valeur_parent,
  f.valeur AS valeur_france, f.exclues AS france_exclues
FROM demandes d
JOIN indicateurs i ON i.code = d.indicateur
JOIN du_territoire v ON v.indicateur = i.code AND v.annee = v.dernier_millesime
JOIN sources_donnees s ON s.id = v.source
LEFT JOIN parent p
LEFT JOIN territoires t ON t.type = p.niveau AND t.code = p.code
LEFT JOIN du_parent vp ON vp.indicateur = i.code AND vp.annee = v.annee
LEFT JOIN valeurs_france f ON f.indicateur = i.code AND f.annee = v.annee
ORDER BY d.rang
