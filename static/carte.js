// Fiche map: reads the data island #carte-donnees (oc_site/fiches/routes.py, map_config) and draws with Leaflet,
// the ES module bundled by datasette-leaflet (URL in data-leaflet):
// - a commune: its outline;
// - an EPCI, a département, a région: its communes coloured by the chosen indicator (radio buttons),
//   with the legends written in the page; the outlines and values come from the canned query
//   contours_communes (JSON), one request per département for a région.
// Strings in French, zoom buttons reachable and visible at the keyboard. Without JavaScript the page
// stays complete: the map's content is in its tables.
// Leaflet, its stylesheet and the tiles are fetched only when the map comes on screen: on a phone the
// map is below the first screen, and a visitor who does not scroll down does not pay for it.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var element = document.getElementById("carte-leaflet");
  var source = document.getElementById("carte-donnees");
  if (!element || !source || !element.dataset.leaflet) return;
  var config = JSON.parse(source.textContent);
  // the map's section: the map itself stays hidden until drawn (see draw), and a hidden element never shows
  onScreen(element.closest("section") || element, function () {
    if (element.dataset.leafletCss) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = element.dataset.leafletCss;
      document.head.appendChild(link);
    }
    import(element.dataset.leaflet).then(function (L) { draw(L, element, config); });
  });
});

function onScreen(element, callback) {  // once, when the element first comes on screen
  if (!("IntersectionObserver" in window)) return callback();
  var observer = new IntersectionObserver(function (entries) {
    if (entries.some(function (entry) { return entry.isIntersecting; })) {
      observer.disconnect();
      callback();
    }
  });
  observer.observe(element);
}

function classIndex(value, thresholds) {
  var index = 0;
  while (index < thresholds.length && value >= thresholds[index]) index++;
  return index;
}

function formatNumber(value, decimals, signed) {
  var text = Number(value).toLocaleString("fr-FR", { maximumFractionDigits: decimals == null ? 2 : decimals });
  return (signed && value > 0 ? "+" : "") + text;
}

function draw(L, element, config) {
  "use strict";
  var wrapper = element.closest(".oc-carte__interactive");
  if (wrapper) wrapper.hidden = false;
  var map = L.map(element, { scrollWheelZoom: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière" }).addTo(map);
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com" title="Bibliothèque JavaScript de cartes interactives">Leaflet</a>');
  if (config.tuiles && config.tuiles.url) L.tileLayer(config.tuiles.url, config.tuiles.options).addTo(map);
  var layers = config.couches || [];
  var current = layers[0];

  function style(feature) {
    if (!current) return { color: "#000091", weight: 2, fillColor: "#6a6af4", fillOpacity: 0.25 };
    var value = (feature.properties.valeurs || {})[current.code];
    var colour = value == null ? "#d9d9d9" : current.couleurs[classIndex(value, current.seuils)];
    return { color: "#ffffff", weight: 0.6, fillColor: colour, fillOpacity: 0.85 };
  }

  function popup(layer) {
    var p = layer.feature.properties;
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/commune/" + encodeURIComponent(p.code_insee);
    link.textContent = p.nom;
    box.appendChild(link);
    layers.forEach(function (c) {
      var value = (p.valeurs || {})[c.code];
      var line = document.createElement("div");
      line.textContent = c.libelle + " : " + (value == null ? "sans donnée"
        : formatNumber(value, c.decimales, c.signe) + (c.unite ? "\u00a0" + c.unite : ""));
      box.appendChild(line);
    });
    return box;
  }

  function drawPoints(points) {
    var bounds = [];
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], { radius: points.length > 1 ? 5 : 8, weight: 1,
        color: "#000091", fillColor: "#6a6af4", fillOpacity: 0.8 }).addTo(map);
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.nom;
      marker.bindPopup(link);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length === 1) map.setView(bounds[0], 11);
    else if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] });
    else map.setView([46.6, 2.4], 5);
  }

  Promise.all((config.donnees || []).map(function (url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : []; }).catch(function () { return []; });
  })).then(function (answers) {
    var rows = [].concat.apply([], answers);
    if (!rows.length) { drawPoints(config.points || []); return; }
    var features = rows.map(function (row) {
      return { type: "Feature", geometry: row.contour,
        properties: { code_insee: row.code_insee, nom: row.nom, valeurs: row.valeurs || {} } };
    });
    var shapes = L.geoJSON({ type: "FeatureCollection", features: features }, { style: style }).addTo(map);
    shapes.bindPopup(popup);
    map.fitBounds(shapes.getBounds(), { padding: [10, 10] });
    document.querySelectorAll('input[name="carte-couche"]').forEach(function (input) {
      input.addEventListener("change", function () {
        current = layers.filter(function (c) { return c.code === input.value; })[0] || current;
        shapes.setStyle(style);
        document.querySelectorAll(".oc-legende[data-couche]").forEach(function (legend) {
          legend.hidden = legend.dataset.couche !== current.code;
        });
      });
    });
  });
}
