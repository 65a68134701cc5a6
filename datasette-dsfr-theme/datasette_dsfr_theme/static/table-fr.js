/* datasette-dsfr-theme : traduit en français les éléments ajoutés par table.js de Datasette
   (menu des colonnes, bouton de retrait des filtres). Chargé en defer juste après table.js. */
(function () {
  var LABELS = {
    "dropdown-sort-asc": "Trier par ordre croissant",
    "dropdown-sort-desc": "Trier par ordre décroissant",
    "dropdown-facet": "Facette sur cette colonne",
    "dropdown-hide-column": "Masquer cette colonne",
    "dropdown-show-all-columns": "Afficher toutes les colonnes",
    "dropdown-not-blank": "Lignes où cette colonne n’est pas vide",
  };
  function translateMenu(root) {
    Object.keys(LABELS).forEach(function (cls) {
      (root || document).querySelectorAll("a." + cls).forEach(function (a) {
        a.textContent = LABELS[cls];
      });
    });
  }
  function translateType(p) {
    if (p.textContent.indexOf("Type: ") === 0) {
      p.textContent = "Type : " + p.textContent.slice(6).replace(" NOT NULL", " (non nul)");
    }
  }
  function run() {
    translateMenu(document);
    document.querySelectorAll("svg.dropdown-menu-icon").forEach(function (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", "Actions sur la colonne");
      svg.setAttribute("focusable", "false");
    });
    document.querySelectorAll('.filter-row a[aria-label="Remove this filter"]').forEach(function (a) {
      a.setAttribute("aria-label", "Retirer ce filtre");
      a.setAttribute("title", "Retirer ce filtre");
    });
    document.querySelectorAll(".dropdown-menu .dropdown-column-type").forEach(function (p) {
      new MutationObserver(function () { translateType(p); }).observe(p, { childList: true, characterData: true, subtree: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
