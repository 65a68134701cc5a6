/* datasette-dsfr-theme, thème neutre : choix clair / sombre / système, mémorisé dans localStorage. */
(function () {
  var root = document.documentElement;
  var fieldset = document.querySelector(".dsfr-theme-scheme");
  function current() {
    try { return localStorage.getItem("scheme") || "system"; } catch (e) { return "system"; }
  }
  function apply(value) {
    if (value === "light" || value === "dark") {
      root.setAttribute("data-theme", value);
    } else {
      root.removeAttribute("data-theme");
    }
    try { localStorage.setItem("scheme", value); } catch (e) {}
  }
  if (!fieldset) { return; }
  fieldset.hidden = false;
  var value = current();
  fieldset.querySelectorAll("input[type=radio]").forEach(function (input) {
    input.checked = input.value === value;
    input.addEventListener("change", function () { apply(input.value); });
  });
})();
