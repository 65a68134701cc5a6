-- title: Fichiers des producteurs attendus pour un niveau de territoire
-- description: Les fichiers de producteurs (comptes de l'OFGL, comparateur de l'INSEE…) que les mappings lisent pour un
--   niveau (commune, epci, departement ou region), chargés ou non lors de la dernière construction de la base, avec
--   la raison quand ils ne l'ont pas été. Les fiches s'en servent pour dire quelles données manquent.
-- params: niveau
-- example: niveau=commune
SELECT mapping, producteur, titre, bloc, page, charge, motif, url, millesime, date_recuperation
FROM fichiers_producteurs
WHERE ',' || niveaux || ',' LIKE '%,' || :niveau || ',%'
ORDER BY bloc, mapping
