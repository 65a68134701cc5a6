// French for the maps of Datasette's table and query pages, drawn by datasette-cluster-map with Leaflet:
// their strings are written in English in those plugins' scripts, so they are translated once drawn
// (zoom buttons, "Showing 5,000 of 34,969 (14.3%) load all", the popup's close button, markers).
(function () {
  "use strict";
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
