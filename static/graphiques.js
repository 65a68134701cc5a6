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
  function fetchLibrary() {
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "/-/dsfr-chart/BarChart/BarChart.css";
    document.head.appendChild(style);
    import("/-/dsfr-chart/BarChart/BarChart.js");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
