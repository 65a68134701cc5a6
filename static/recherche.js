// Search autocomplete, following the WAI-ARIA combobox pattern (list autocomplete, manual selection).
// Progressive enhancement: without JavaScript the search forms simply submit to /recherche.
// A field with data-oc-cible="ID" is a territory picker (the publications' territory filter): choosing a
// suggestion writes "niveau:code" into the hidden field ID and the name into the field, instead of
// opening the fiche; typing again clears the hidden field (the server then looks the typed name up).
// On a field with data-oc-niveau, suggestions are territories of that level; with data-oc-comparer (the
// codes already compared), choosing one adds it to the comparison in one step, and when the text only
// matches territories of other levels, they are offered as a switch of level.
// The levels' names come from the site's registry of levels (oc_site/levels.py) through /niveaux.json,
// read once, with the first suggestions.
(function () {
  "use strict";
  var counter = 0;
  var levelNames = null;  // a promise of { commune: { libelle: "commune", pluriel: "communes" }, … }

  function names() {
    if (!levelNames) {
      levelNames = fetch("/niveaux.json").then(function (r) { return r.json(); })
        .catch(function (e) { levelNames = null; throw e; });
    }
    return levelNames;
  }

  function searchUrl(q, level, limit) {
    return "/recherche.json?limit=" + limit + (level ? "&niveau=" + encodeURIComponent(level) : "") +
      "&q=" + encodeURIComponent(q);
  }

  function enhance(input) {
    if (input.dataset.ocEnhanced) return;
    input.dataset.ocEnhanced = "1";
    var id = "oc-suggestions-" + (++counter);
    var wrapper = input.parentNode;
    wrapper.classList.add("oc-autocomplete");
    var list = document.createElement("ul");
    list.id = id;
    list.className = "oc-suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Territoires suggérés");
    list.hidden = true;
    wrapper.appendChild(list);
    var status = document.createElement("div");
    status.className = "fr-sr-only";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");

    var items = [], active = -1, timer = null, last = "";
    var target = input.dataset.ocCible ? document.getElementById(input.dataset.ocCible) : null;
    var level = input.dataset.ocNiveau || "";
    var compared = input.dataset.ocComparer !== undefined
      ? input.dataset.ocComparer.split(",").filter(Boolean) : null;

    // Where choosing a suggestion leads: its fiche, or the comparison with it added (or of its level)
    function destination(r) {
      if (compared === null) return r.url;
      if (r.type !== level) return "/comparer?niveau=" + r.type + "&codes=" + encodeURIComponent(r.code);
      return "/comparer?niveau=" + level + "&codes=" + compared.concat([r.code]).map(encodeURIComponent).join(",");
    }

    function suggestions(q) {
      var found = fetch(searchUrl(q, level, 8)).then(function (r) { return r.json(); }).then(function (found) {
        if (compared !== null) found = found.filter(function (r) { return compared.indexOf(r.code) < 0; });
        if (found.length || !level) return found;
        return fetch(searchUrl(q, "", 5)).then(function (r) { return r.json(); });
      });
      return Promise.all([names(), found]);
    }

    function choose(r) {
      if (!target) { window.location.href = destination(r); return; }
      target.value = r.type + ":" + r.code;
      input.value = r.libelle;
      close();
      status.textContent = r.libelle + " choisi";
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(results, levels) {
      items = results;
      list.textContent = "";
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var other = compared !== null && r.type !== level;
        li.textContent = (compared !== null && !other ? "Ajouter " : "") + r.libelle + " ";
        var small = document.createElement("small");
        var names = levels[r.type] || { libelle: r.type, pluriel: r.type };
        small.textContent = other ? names.libelle + " : comparer des " + names.pluriel : (r.categorie || names.libelle);
        li.appendChild(small);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(r); });
        list.appendChild(li);
      });
      status.textContent = results.length
        ? results.length + " territoire" + (results.length > 1 ? "s" : "") + " suggéré" + (results.length > 1 ? "s" : "") + ", flèches haut et bas pour parcourir"
        : "Aucun territoire trouvé";
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
      active = -1;
    }

    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (target) target.value = "";
      clearTimeout(timer);
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        last = q;
        suggestions(q)
          .then(function (found) { if (q === last) render(found[1], found[0]); })
          .catch(close);
      }, 120);
    });

    input.addEventListener("keydown", function (e) {
      var open = !list.hidden && items.length;
      if (e.key === "ArrowDown" && open) { e.preventDefault(); highlight((active + 1) % items.length); }
      else if (e.key === "ArrowUp" && open) { e.preventDefault(); highlight(active <= 0 ? items.length - 1 : active - 1); }
      else if (e.key === "Enter" && open && active >= 0) { e.preventDefault(); choose(items[active]); }
      else if (e.key === "Escape") { if (open) { e.preventDefault(); close(); } }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init() {
    document.querySelectorAll('form[action$="/recherche"] input[name="q"], input[data-oc-autocomplete]').forEach(enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
