/* Atención — the list's filter form (vendored, no build step; the form works without it).
   Torre/Bloque follows Proyecto and Dpto./Unidad follows Torre/Bloque: their choices are fetched
   from /filtros/opciones when the parent changes. On submit, empty fields are left out so that
   the shared URL holds only the filters in use. */
(function () {
  "use strict";
  var script = document.currentScript;
  var optionsUrl = script && script.getAttribute("data-options-url");
  var form = document.getElementById("filters");
  if (!form || !optionsUrl) { return; }
  var project = document.getElementById("f-project");
  var subdivision = document.getElementById("f-subdivision");
  var units = document.getElementById("dl-unit");

  function refresh(resetSubdivision) {
    var params = new URLSearchParams();
    if (project && project.value) { params.set("project", project.value); }
    if (!resetSubdivision && subdivision && subdivision.value) { params.set("subdivision", subdivision.value); }
    fetch(optionsUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (resetSubdivision && subdivision) {
          var keep = subdivision.value;
          while (subdivision.options.length > 1) { subdivision.remove(1); }
          data.subdivisions.forEach(function (name) {
            subdivision.add(new Option(name, name, false, name === keep));
          });
          if (data.subdivisions.indexOf(keep) < 0) { subdivision.value = ""; }
        }
        if (units) {
          units.innerHTML = "";
          data.units.forEach(function (n) { units.appendChild(new Option(n, n)); });
        }
      })
      .catch(function () { /* the form still works: choices refresh after "Filtrar" */ });
  }

  if (project) { project.addEventListener("change", function () { refresh(true); }); }
  if (subdivision) { subdivision.addEventListener("change", function () { refresh(false); }); }
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && !el.value) { el.disabled = true; }
    });
  });
  window.addEventListener("pageshow", function () {  /* back button: re-enable the fields */
    Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
  });
})();
