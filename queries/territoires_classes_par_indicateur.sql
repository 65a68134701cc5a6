-- title: Communes ou EPCI d'un département classés par un indicateur
-- description: Les communes d'un département (niveau commune) ou les EPCI à fiscalité propre dont c'est le département
--   principal (niveau epci), de la plus forte à la plus faible valeur d'un indicateur, à son millésime principal (le
--   plus récent qui couvre au moins la moitié des territoires du niveau : vue valeurs_dernier_millesime). Paramètres :
--   niveau (commune ou epci), code du département (par exemple 35 ou 2A) et code de l'indicateur (par exemple densite,
--   population_municipale, evolution_population_pct).
-- params: niveau, departement, indicateur
-- example: niveau=commune&departement=35&indicateur=densite
WITH territoires_du_departement(code, nom) AS (
  SELECT code_insee, nom FROM communes WHERE :niveau = 'commune' AND departement = :departement
  UNION ALL SELECT siren, nom FROM epci WHERE :niveau = 'epci' AND departement = :departement
)
SELECT
  t.code,
  t.nom,
  v.valeur,
  i.unite,
  v.annee,
  rank() OVER (ORDER BY v.valeur DESC) AS rang
FROM territoires_du_departement t
JOIN valeurs_dernier_millesime v ON v.niveau = :niveau AND v.code = t.code AND v.indicateur = :indicateur
JOIN indicateurs i ON i.code = v.indicateur
ORDER BY v.valeur DESC, t.code
