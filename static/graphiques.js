// The fiches' charts: DSFR charts (npm @gouvfr/dsfr-chart, served under /-/dsfr-chart/), loaded only
// when a chart of the page comes on screen (the library weighs some 450 KB: a visitor who does not
// scroll down to it does not pay for it). Each chart's figures are also in a table beside it, readable
// without JavaScript.
(function () {
  "use strict";
  function load() {
    var charts = document.querySelectorAll("bar-chart");
    if (!charts.length) return;
    if (!("IntersectionObserver" in window)) return fetchLibrary();
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        fetchLibrary();
      }
    });
    // each chart's section: a chart element has no size until the library defines it
    charts.forEach(function (chart) { observer.observe(chart.closest("section") || chart.parentNode); });
  }
  // French numbers on every chart's axes. The library's tooltips format in fr-FR, but its axis ticks come
  // from Chart.js, which calls Intl.NumberFormat(chart.options.locale, …); dsfr-chart 2.0.4 (package.json)
  // never sets that option and offers no attribute for it, so the ticks followed the browser's language
  // ("250,000" in an English browser). Here a number format asked without a locale is a French one
  // (narrow no-break space between thousands, decimal comma); an explicit locale is left alone. Installed
  // once, before the library loads; the site is in French, no other script of its pages relies on the default.
  function frenchNumbersByDefault() {
    var NumberFormat = Intl.NumberFormat;
    if (NumberFormat.ocFrench) return;
    var French = function (locales, options) {
      return new NumberFormat(locales === undefined ? "fr-FR" : locales, options);
    };
    French.prototype = NumberFormat.prototype;
    French.supportedLocalesOf = NumberFormat.supportedLocalesOf;
    French.ocFrench = true;
    Intl.NumberFormat = French;
  }
  // Each chart draws in a shadow root: dsfr-chart 2.0.4 passes { shadowRoot: false } to
  // customElements.define, which ignores it, instead of to Vue's defineCustomElement. The page's
  // stylesheets do not reach inside, and without them the legend loses its colour keys and its layout:
  // the library's stylesheet and the DSFR's (its legend uses DSFR classes; both are already in the
  // browser's cache) are linked into every chart's shadow root.
  var CHART_STYLE = "/-/dsfr-chart/BarChart/BarChart.css";
  function styleCharts() {
    var dsfr = document.querySelector('link[rel="stylesheet"][href*="/dsfr/dsfr.min.css"]');
    var sheets = (dsfr ? [dsfr.href] : []).concat([CHART_STYLE]);
    document.querySelectorAll("bar-chart").forEach(function (chart) {
      var root = chart.shadowRoot;
      if (!root || root.querySelector("link[data-oc-style]")) return;
      sheets.slice().reverse().forEach(function (href) {
        var link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = href;
        link.setAttribute("data-oc-style", "");
        root.insertBefore(link, root.firstChild);
      });
    });
  }
  // The library draws a chart twice as wide as high: on a phone its bars would be a few pixels high,
  // so a chart narrower than 36em is drawn less elongated (read once, when the chart is created).
  function fitNarrowCharts() {
    document.querySelectorAll("bar-chart:not([aspect-ratio])").forEach(function (chart) {
      if (chart.parentNode.clientWidth < 576) chart.setAttribute("aspect-ratio", "1.3");
    });
  }
  function fetchLibrary() {
    frenchNumbersByDefault();
    fitNarrowCharts();
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = CHART_STYLE;
    document.head.appendChild(style);
    import("/-/dsfr-chart/BarChart/BarChart.js").then(styleCharts);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
