// Fiche map: reads the JSON data island #carte-donnees ({points: [{nom, lat, lon, url}], tuiles: {url, options}})
// and draws it with Leaflet, the ES module bundled by datasette-leaflet (URL in data-leaflet).
// Leaflet (40 KB compressed) and the tiles are fetched only when the map comes on screen: on a
// phone the map is below the first screen, and a visitor who does not scroll down does not pay for it.
// Without JavaScript the page stays complete.
document.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("carte");
  var source = document.getElementById("carte-donnees");
  if (!element || !source || !element.dataset.leaflet) return;
  var load = function () {
    if (element.dataset.leafletCss) {  // Leaflet's stylesheet too, with the map rather than in every fiche's head
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = element.dataset.leafletCss;
      document.head.appendChild(link);
    }
    import(element.dataset.leaflet).then(function (L) { draw(L, element, JSON.parse(source.textContent)); });
  };
  if (!("IntersectionObserver" in window)) return load();
  var observer = new IntersectionObserver(function (entries) {
    if (entries.some(function (entry) { return entry.isIntersecting; })) {
      observer.disconnect();
      load();
    }
  });
  observer.observe(element);
});

function draw(L, element, data) {
  var map = L.map(element, { scrollWheelZoom: false });
  L.tileLayer(data.tuiles.url, data.tuiles.options).addTo(map);
  var bounds = [];
  data.points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], { radius: data.points.length > 1 ? 5 : 8, weight: 1,
      color: "#000091", fillColor: "#6a6af4", fillOpacity: 0.8 }).addTo(map);
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.nom;
    marker.bindPopup(link);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) map.setView(bounds[0], 11);
  else map.fitBounds(bounds, { padding: [20, 20] });
}
