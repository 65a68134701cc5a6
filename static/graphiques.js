// The fiches' charts: each <bar-chart> element (its attributes: x, the labels as [[…]]; y, one list of values
// per series; name, the series' names; stacked="true" to stack them; unit-tooltip, the unit) is drawn here as
// an SVG bar chart, with its legend in HTML. The drawing takes everything from the theme: the bars' colours
// are CSS variables of static/oc.css (--oc-graphique-1…, light and dark), the axes' text and lines the DSFR's
// (or the neutral theme's) text and border colours, so both modes keep their contrasts (text ≥ 4.5:1), and a
// change of display settings recolours the charts at once. Numbers are French (Intl, fr-FR).
// Each chart's figures are in a table beside it, readable without JavaScript and by screen readers: the
// drawing itself is hidden from them (aria-hidden on its container, in the templates).
// A few kilobytes instead of a 135 KB charting library (@gouvfr/dsfr-chart, whose axes ignored the dark mode).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var FONT_PX = 12;
  var NARROW_PX = 576;
  var COLOURS = 8;  // --oc-graphique-1 to 8 (static/oc.css): the DSFR charts' categorical palette  // on a phone a chart is drawn less elongated, its bars stay readable
  var number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });

  function read(chart, name, fallback) {
    try { return JSON.parse(chart.getAttribute(name)) || fallback; } catch (e) { return fallback; }
  }

  function element(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function niceStep(span, count) {  // 1, 2, 2.5 or 5 times a power of ten, for about `count` steps
    var raw = span / count || 1;
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var factor = [1, 2, 2.5, 5, 10].filter(function (f) { return f * power >= raw; })[0];
    return factor * power;
  }

  function draw(chart) {
    var labels = read(chart, "x", [[]])[0] || [];
    var series = read(chart, "y", []);
    var names = read(chart, "name", []);
    var stacked = chart.getAttribute("stacked") === "true";
    var unit = chart.getAttribute("unit-tooltip") || "";
    var width = Math.floor(chart.clientWidth);
    if (!width || !labels.length || !series.length) return;
    chart.dataset.ocLargeur = width;
    var height = Math.round(Math.max(180, Math.min(320, width / (width < NARROW_PX ? 1.3 : 2))));

    var top = [], bottom = [];  // the extent of each label's bar (stacked) or bars
    labels.forEach(function (_, i) {
      var up = 0, down = 0;
      series.forEach(function (values) {
        var v = Number(values[i]) || 0;
        if (stacked) { if (v >= 0) up += v; else down += v; }
        else { up = Math.max(up, v); down = Math.min(down, v); }
      });
      top.push(up); bottom.push(down);
    });
    var step = niceStep(Math.max.apply(null, top) - Math.min.apply(null, bottom), 5);
    var high = Math.ceil(Math.max.apply(null, top) / step) * step || step;
    var low = Math.floor(Math.min.apply(null, bottom) / step) * step;
    var ticks = [];
    for (var t = low; t <= high + step / 2; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
    var left = 8 + Math.max.apply(null, ticks.map(function (v) { return number.format(v).length; })) * FONT_PX * 0.62;
    var plot = { x: left, y: FONT_PX, w: width - left - 4, h: height - FONT_PX - 2.5 * FONT_PX };
    function y(value) { return plot.y + plot.h * (high - value) / (high - low); }

    var svg = element("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
                               "class": "oc-graphique__svg", focusable: "false" });
    ticks.forEach(function (value) {
      element("line", { x1: plot.x, x2: plot.x + plot.w, y1: y(value), y2: y(value),
                        "class": value === 0 ? "oc-graphique__zero" : "oc-graphique__grille" }, svg);
      element("text", { x: plot.x - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "middle",
                        "class": "oc-graphique__axe" }, svg).textContent = number.format(value);
    });
    var band = plot.w / labels.length;
    var groups = stacked ? 1 : series.length;
    var barWidth = Math.min(64, band * 0.6 / groups);
    labels.forEach(function (label, i) {
      var centre = plot.x + band * (i + 0.5);
      var up = 0, down = 0;
      series.forEach(function (values, s) {
        var v = Number(values[i]) || 0;
        var from = 0;
        if (stacked) { from = v >= 0 ? up : down; if (v >= 0) up += v; else down += v; }
        var x = centre - barWidth * groups / 2 + (stacked ? 0 : s * barWidth);
        var rect = element("rect", { x: x, width: barWidth, y: Math.min(y(from), y(from + v)),
                                     height: Math.abs(y(from + v) - y(from)),
                                     style: "fill: var(--oc-graphique-" + (s % COLOURS + 1) + ")" }, svg);
        element("title", {}, rect).textContent = label + (names[s] ? " — " + names[s] : "") + " : " +
          number.format(v) + (unit ? "\u00a0" + unit : "");
      });
      element("text", { x: centre, y: plot.y + plot.h + 1.5 * FONT_PX, "text-anchor": "middle",
                        "class": "oc-graphique__axe" }, svg).textContent = label;
    });

    chart.textContent = "";
    chart.appendChild(svg);
    if (names.length > 1) {
      var legend = document.createElement("ul");
      legend.className = "oc-graphique__legende";
      names.forEach(function (name, s) {
        var item = document.createElement("li");
        var key = document.createElement("span");
        key.className = "oc-graphique__cle";
        key.style.background = "var(--oc-graphique-" + (s % COLOURS + 1) + ")";
        item.appendChild(key);
        item.appendChild(document.createTextNode(name));
        legend.appendChild(item);
      });
      chart.appendChild(legend);
    }
  }

  function drawAll() {
    document.querySelectorAll("bar-chart").forEach(function (chart) {
      if (String(Math.floor(chart.clientWidth)) !== chart.dataset.ocLargeur) draw(chart);
    });
  }

  function init() {
    drawAll();
    var timer = null;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(drawAll, 150); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
