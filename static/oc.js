// Site-wide enhancements (the pages read the same without JavaScript):
// - the "Recherche" skip link opens the header's search when it is folded in a dialog (mobile) and
//   puts the cursor in it;
// - a table wider than the screen says that it scrolls sideways, and can be scrolled from the keyboard;
// - a long list (data-oc-replier="10") shows its first rows and a button for the others.
(function () {
  "use strict";

  function visible(element) {  // the closed DSFR dialog keeps its layout but is invisible
    return element.getClientRects().length > 0 && getComputedStyle(element).visibility === "visible";
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href="#recherche"]');
    var input = document.getElementById("recherche");
    if (!link || !input) return;
    event.preventDefault();
    var opener = document.getElementById("bouton-recherche");
    if (!visible(input) && opener) opener.click();
    var tries = 0;
    (function focusWhenShown() {
      if (visible(input) || tries++ > 40) input.focus();
      else setTimeout(focusWhenShown, 25);
    })();
  });

  function markScrollable(container) {
    var table = container.closest(".fr-table") || container;
    var scrolls = container.scrollWidth > container.clientWidth + 1;
    var hint = table.querySelector(":scope > .oc-defile-aide");
    if (!hint) {
      hint = document.createElement("p");
      hint.className = "oc-defile-aide";
      hint.setAttribute("aria-hidden", "true");
      // a table of years opens on its latest years (right-to-left scrolling box, static/oc.css)
      hint.textContent = getComputedStyle(container).direction === "rtl"
        ? "↔ Tableau large : les dernières années d'abord, les précédentes à gauche (faites-le défiler)."
        : "↔ Tableau large : faites-le défiler horizontalement.";
      table.insertBefore(hint, table.firstChild);
    }
    hint.hidden = !scrolls;
    if (scrolls && !container.hasAttribute("tabindex")) {
      var caption = container.querySelector("caption");
      container.setAttribute("tabindex", "0");
      container.setAttribute("role", "region");
      container.setAttribute("aria-label", (caption ? caption.textContent.trim() + " : " : "") +
        "tableau défilant horizontalement");
    }
  }

  function markAll() {
    document.querySelectorAll(".fr-table__container, .oc-defilable").forEach(markScrollable);
  }

  function fold(wrapper) {
    var limit = parseInt(wrapper.dataset.ocReplier, 10);
    var table = wrapper.querySelector("table");
    var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
    if (!limit || rows.length <= limit + 2) return;  // never a button to show one or two rows
    var rest = rows.slice(limit);
    var what = wrapper.dataset.ocLibelle || "lignes";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "fr-btn fr-btn--tertiary fr-btn--sm oc-replier";
    if (table.id) button.setAttribute("aria-controls", table.id);
    function show(open) {
      rest.forEach(function (row) { row.hidden = !open; });
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "Réduire la liste aux " + limit + " premières lignes"
        : "Afficher les " + rest.length + " autres " + what + " (" + rows.length + " en tout)";
    }
    button.addEventListener("click", function () { show(button.getAttribute("aria-expanded") !== "true"); });
    show(false);
    wrapper.parentNode.insertBefore(button, wrapper.nextSibling);
  }

  function init() {
    document.querySelectorAll("[data-oc-replier]").forEach(fold);
    markAll();
    var timer = null;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(markAll, 150); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
