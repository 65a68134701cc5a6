// The fiches' charts: DSFR charts (npm @gouvfr/dsfr-chart, served under /-/dsfr-chart/), loaded only
// when a page has one. Each chart's figures are also in a table beside it, readable without JavaScript.
(function () {
  "use strict";
  function load() {
    if (!document.querySelector("bar-chart")) return;
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "/-/dsfr-chart/BarChart/BarChart.css";
    document.head.appendChild(style);
    import("/-/dsfr-chart/BarChart/BarChart.js");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
