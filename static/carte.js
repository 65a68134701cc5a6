// Fiche map: reads the data island #carte-donnees (oc_site/fiches/routes.py, map_config) and draws with Leaflet,
// the ES module bundled by datasette-leaflet (URL in data-leaflet):
// - a commune: its outline;
// - an EPCI, a département, a région: its communes coloured by the chosen indicator (radio buttons); the
//   classes are computed here for the communes shown (oc_site/fiches/maps.py says how) and written in
//   each layer's legend; the outlines and values come from the canned query contours_communes (JSON), one
//   request per département for a région.
// The map fits the territory closely (fractional zoom); a popup opens clear of the zoom buttons; a commune's
// name links to its fiche, at the address the level registry gives (config.fiche).
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
  return ((signed && value > 0 ? "+" : "") + text).replace("-", "\u2212");
}

function roundedLimit(value, down) {  // two significant figures: 4 592 → 4 600 (down: 4 500), 0,456 → 0,46
  if (!value) return 0;
  var step = Math.pow(10, Math.floor(Math.log10(Math.abs(value))) - 1);
  return Number(((down ? Math.floor : Math.round)(value / step) * step).toPrecision(2));
}

// The classes of a layer for the values of the communes shown: {seuils, couleurs, note}.
function classesFor(layer, values, communes) {
  var sorted = values.slice().sort(function (a, b) { return a - b; });
  var palette = layer.couleurs, limits = [];
  var first = sorted[0], last = sorted[sorted.length - 1];
  var kept = function (limit) {  // every class keeps at least one commune
    return limit > first && limit <= last && (!limits.length || limit > limits[limits.length - 1]);
  };
  if (layer.divergente) {  // symmetric around 0: the spread of nine communes in ten, and a fifth of it
    var spread = roundedLimit(sorted.map(Math.abs).sort(function (a, b) { return a - b; })[
      Math.floor(0.9 * (sorted.length - 1))]);
    limits = spread ? [-spread, -roundedLimit(spread / 5), roundedLimit(spread / 5), spread] : [];
    return { seuils: limits, couleurs: limits.length ? palette : [palette[Math.floor(palette.length / 2)]],
             note: "Classes symétriques autour de 0, d'après les " + formatNumber(communes) + " communes de la carte." };
  }
  var count = Math.min(palette.length, new Set(sorted).size);
  for (var j = 1; j < count; j++) {
    // the first value of the j-th class of about equal numbers, rounded down: it stays in that class
    var limit = roundedLimit(sorted[Math.floor(j * sorted.length / count)], true);
    if (kept(limit)) limits.push(limit);
  }
  var colours = limits.map(function (_, i) { return i; }).concat([limits.length]).map(function (i) {
    return palette[limits.length ? Math.round(i * (palette.length - 1) / limits.length) : 0];
  });
  return { seuils: limits, couleurs: colours,
           note: "Classes calculées sur les " + formatNumber(communes) + " communes de la carte, d'effectifs voisins." };
}

function writeLegend(legend, layer, classes, missing) {
  var list = legend.querySelector(".oc-legende__classes");
  var limits = classes.seuils, text = function (v) { return formatNumber(v, null, layer.divergente); };
  var labels = limits.length ? ["moins de " + text(limits[0])].concat(limits.slice(1).map(function (high, i) {
    return text(limits[i]) + " à " + text(high);
  }), [text(limits[limits.length - 1]) + " ou plus"]) : ["toutes les communes"];
  var items = labels.map(function (label, i) { return [classes.couleurs[i], label]; });
  if (missing) items.push([layer.sans_donnee, "sans donnée"]);
  list.textContent = "";
  items.forEach(function (item) {
    var li = document.createElement("li");
    var key = document.createElement("span");
    key.className = "oc-legende__couleur";
    key.style.background = item[0];
    key.setAttribute("aria-hidden", "true");
    li.appendChild(key);
    li.appendChild(document.createTextNode(item[1]));
    list.appendChild(li);
  });
  var note = legend.querySelector(".oc-legende__note") || document.createElement("p");
  note.className = "oc-legende__note";
  note.textContent = classes.note;
  list.parentNode.insertBefore(note, list.nextSibling);
}

function draw(L, element, config) {
  "use strict";
  var wrapper = element.closest(".oc-carte__interactive");
  if (wrapper) wrapper.hidden = false;
  // fractional zoom: the territory fills the frame instead of the nearest whole zoom level's third of it
  var map = L.map(element, { scrollWheelZoom: false, zoomControl: false, zoomSnap: 0.25 });
  // a popup opens clear of the zoom buttons (top left: 34 × 68 px after a 10 px margin)
  var popupOptions = { autoPanPaddingTopLeft: L.point(56, 90), autoPanPadding: L.point(12, 12) };
  L.control.zoom({ zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière" }).addTo(map);
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com" title="Bibliothèque JavaScript de cartes interactives">Leaflet</a>');
  if (config.tuiles && config.tuiles.url) L.tileLayer(config.tuiles.url, config.tuiles.options).addTo(map);
  var layers = config.couches || [];
  var current = layers[0];
  var classes = {};  // per layer, for the communes shown

  function style(feature) {
    if (!current) return { color: "#000091", weight: 2, fillColor: "#6a6af4", fillOpacity: 0.25 };
    var value = (feature.properties.valeurs || {})[current.code];
    var own = classes[current.code];
    var colour = value == null || !own ? current.sans_donnee : own.couleurs[classIndex(value, own.seuils)];
    return { color: "#ffffff", weight: 0.6, fillColor: colour, fillOpacity: 0.85 };
  }

  function ficheAddress(code) {
    return (config.fiche || "").replace("{code}", encodeURIComponent(code));
  }

  function popup(layer) {
    var p = layer.feature.properties;
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = ficheAddress(p.code_insee);
    link.textContent = p.nom;
    box.appendChild(link);
    layers.forEach(function (c) {
      var value = (p.valeurs || {})[c.code];
      var line = document.createElement("div");
      line.textContent = c.libelle + " : " + (value == null ? "sans donnée"
        : formatNumber(value, c.decimales, c.divergente) + (c.unite ? "\u00a0" + c.unite : ""));
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
      marker.bindPopup(link, popupOptions);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length === 1) map.setView(bounds[0], 11);
    else if (bounds.length) map.fitBounds(bounds, { padding: [12, 12] });
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
    layers.forEach(function (layer) {
      var values = rows.map(function (row) { return (row.valeurs || {})[layer.code]; })
        .filter(function (value) { return value != null; });
      if (!values.length) return;
      classes[layer.code] = classesFor(layer, values, rows.length);
      var legend = document.querySelector('.oc-legende[data-couche="' + layer.code + '"]');
      if (legend) writeLegend(legend, layer, classes[layer.code], values.length < rows.length);
    });
    var shapes = L.geoJSON({ type: "FeatureCollection", features: features }, { style: style }).addTo(map);
    shapes.bindPopup(popup, popupOptions);
    map.fitBounds(shapes.getBounds(), { padding: [4, 4] });
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
