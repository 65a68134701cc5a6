-- title: Recherche dans les publications
-- description: Publications, jeux de données, outils et sites, filtrés. Tous les paramètres sont facultatifs (vides = pas de
--   filtre) : q (mots cherchés dans le titre, le résumé et le producteur, sans accents), theme (code d'un thème),
--   type (code d'un type de ressource), producteur (identifiant d'organisation), annee, niveau (type de territoire :
--   region, departement, epci ou commune — les publications liées à un territoire de ce niveau ou utiles à tous —,
--   ou national pour celles qui ne sont liées à aucun territoire), territoire (niveau:code, par exemple
--   commune:35238 : les publications liées à ce territoire), du et au (dates AAAA-MM-JJ). Les plus lourdes (poids)
--   puis les plus récentes d'abord ; les publications masquées n'y figurent pas.
-- params: q, theme, type, producteur, annee, niveau, territoire, du, au
-- param_labels: theme=Code du thème&type=Code du type de ressource&producteur=Identifiant du producteur&annee=Année de publication&niveau=Type de territoire (region, departement, epci, commune ou national)
-- example: q=population&theme=&type=&producteur=&annee=&niveau=&territoire=&du=&au=
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.date_mise_a_jour, p.annee,
       p.type, t.libelle AS type_libelle, p.organisation AS producteur, o.nom AS producteur_nom,
       o.sigle AS producteur_sigle, p.themes, p.type_territoire, p.poids, p.premiere_vue,
       (SELECT group_concat(pt.niveau || ':' || pt.code, ' ') FROM publications_territoires pt
        WHERE pt.publication = p.id) AS territoires
FROM publications p
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
WHERE p.masquee = 0
  AND (:q = '' OR p.rang IN (SELECT rowid FROM publications_fts WHERE publications_fts MATCH '"' || replace(:q, '"', ' ') || '"'))
  AND (:theme = '' OR EXISTS (SELECT 1 FROM json_each(p.themes) WHERE json_each.value = :theme))
  AND (:type = '' OR p.type = :type)
  AND (:producteur = '' OR p.organisation = :producteur)
  AND (:annee = '' OR p.annee = CAST(:annee AS INTEGER))
  AND (:niveau = ''
       OR (:niveau = 'national' AND NOT EXISTS (SELECT 1 FROM publications_territoires pt WHERE pt.publication = p.id))
       OR EXISTS (SELECT 1 FROM publications_territoires pt WHERE pt.publication = p.id AND pt.niveau = :niveau)
       OR (',' || p.type_territoire || ',') LIKE '%,' || :niveau || ',%')
  AND (:territoire = '' OR p.id IN (
        SELECT pt.publication FROM publications_territoires pt
        WHERE pt.niveau = substr(:territoire, 1, instr(:territoire, ':') - 1)
          AND pt.code = substr(:territoire, instr(:territoire, ':') + 1)))
  AND (:du = '' OR p.date_tri >= :du)
  AND (:au = '' OR p.date_tri <= :au)
ORDER BY p.poids DESC, p.date_tri IS NULL, p.date_tri DESC, p.id DESC
