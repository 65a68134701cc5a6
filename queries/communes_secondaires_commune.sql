-- title: Communes déléguées, associées et arrondissements municipaux d'une commune
-- description: Les communes déléguées ou associées et les arrondissements municipaux rattachés à une commune (code INSEE).
-- params: code
-- example: code=75056
SELECT code_insee, nom, type_libelle, population
FROM communes_secondaires
WHERE commune_parente = :code
ORDER BY type, code_insee
