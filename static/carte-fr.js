// The maps of Datasette's table and query pages, drawn by datasette-cluster-map with Leaflet:
// - drawn only when asked for: the plugin would fetch Leaflet and the positions of up to 5,000 rows at once
//   (734 KB on /oc/communes, on every visit, for a map below the first screen of a phone); a button
//   « Afficher la carte » takes its place and draws it on request;
// - in French: their strings are written in English in those plugins' scripts, so they are translated once
//   drawn (zoom buttons, "Showing 5,000 of 34,969 (14.3%) load all", the popup's close button, markers).
(function () {
  "use strict";

  // The plugin's module draws its map on DOMContentLoaded when the table has its latitude column. This classic
  // script's listener runs before the module's (registered earlier): it hides the column's name from the
  // plugin until the button is pressed, then evaluates the module once more (a "#" address is a module of
  // its own, the file comes from the cache) with its DOMContentLoaded listener run at once, the page being
  // already loaded.
  var ON_REQUEST = "#a-la-demande";
  function onRequest() {
    var latitude = window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN;
    var plugin = document.querySelector('script[type="module"][src*="datasette-cluster-map.js"]');
    var table = document.querySelector(".table-wrapper") || document.querySelector("table.rows-and-columns");
    if (typeof latitude !== "string" || !plugin || !table) return;
    window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "\u0000";  // no column has that name: no map yet
    var box = document.createElement("p");
    box.className = "oc-carte-demande";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "fr-btn fr-btn--secondary fr-btn--sm";
    button.textContent = "Afficher la carte";
    var hint = document.createElement("span");
    hint.className = "fr-hint-text";
    hint.textContent = "Les positions des lignes (jusqu'à 5\u00a0000 à la fois) se chargent à la demande.";
    box.appendChild(button);
    box.appendChild(hint);
    table.parentNode.insertBefore(box, table);
    button.addEventListener("click", function () {
      window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = latitude;
      box.setAttribute("role", "status");
      box.textContent = "Chargement de la carte…";
      var add = document.addEventListener;
      document.addEventListener = function (type, listener) {
        if (type === "DOMContentLoaded") return listener.call(document, new Event(type));
        return add.apply(this, arguments);
      };
      import(plugin.src + ON_REQUEST).finally(function () { document.addEventListener = add; });
      (function focusWhenDrawn(tries) {  // the keyboard goes on to the map, its zoom buttons next
        var map = document.querySelector(".leaflet-container");
        if (map) { box.remove(); map.focus(); }
        else if (tries < 200) setTimeout(function () { focusWhenDrawn(tries + 1); }, 50);
      })(0);
    });
  }
  document.addEventListener("DOMContentLoaded", onRequest);
  var TITLES = {
    "Zoom in": "Zoom avant", "Zoom out": "Zoom arrière", "Close popup": "Fermer",
    "A JS library for interactive maps": "Bibliothèque JavaScript de cartes interactives"
  };
  var BUTTONS = { "load all": "tout charger", "pause": "pause" };

  function number(text) { return Number(text.replace(/[^\d]/g, "")).toLocaleString("fr-FR"); }

  function translate(root) {
    root.querySelectorAll("[title], [aria-label]").forEach(function (element) {
      ["title", "aria-label"].forEach(function (name) {
        var value = element.getAttribute(name);
        if (value && TITLES[value]) element.setAttribute(name, TITLES[value]);
      });
    });
    root.querySelectorAll("img.leaflet-marker-icon[alt='Marker'], img.leaflet-marker-icon[alt='']").forEach(function (img) {
      img.setAttribute("alt", "Lieu");
    });
    root.querySelectorAll(".leaflet-container").forEach(function (map) {
      if (!map.hasAttribute("aria-label")) {
        map.setAttribute("role", "region");
        map.setAttribute("aria-label", "Carte des lignes ayant une latitude et une longitude");
      }
      var progress = map.nextElementSibling;
      if (!progress || progress.tagName !== "DIV") return;
      var text = progress.firstChild;
      var match = text && text.nodeType === 3 && /^Showing ([\d,.\s\u202f]+) of ([\d,.\s\u202f]+)(?: \(([\d.]+)%\))?/.exec(text.nodeValue);
      if (match) {
        text.nodeValue = "Affichage de " + number(match[1]) + " lignes sur " + number(match[2]) +
          (match[3] ? " (" + String(match[3]).replace(".", ",") + "\u00a0%)" : "") + " ";
      }
      progress.querySelectorAll("button").forEach(function (button) {
        var label = BUTTONS[button.textContent.trim()];
        if (label && button.textContent !== label) button.textContent = label;
      });
    });
  }

  function init() {
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; translate(document); });
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
    translate(document);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
