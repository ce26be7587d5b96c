/* Atención — dependent choices: Torre/Bloque follows Proyecto and Dpto./Unidad follows Torre/Bloque
   (vendored, no build step; the forms work without it). Used by the list's filter form and by
   "Nueva atención". The script tag says where:
     data-options-url  the JSON of choices (/filtros/opciones?project=&subdivision=)
     data-form         the form's id (default "filters")
     data-fields       the ids of the Proyecto select, the Torre/Bloque select and the units'
                       datalist (default "f-project f-subdivision dl-unit")
   Their choices are fetched when the parent changes. On submit of a GET form (the list's filters),
   empty fields are left out so that the shared URL holds only the filters in use. */
(function () {
  "use strict";
  var script = document.currentScript;
  var optionsUrl = script && script.getAttribute("data-options-url");
  var form = document.getElementById((script && script.getAttribute("data-form")) || "filters");
  if (!form || !optionsUrl) { return; }
  var ids = ((script.getAttribute("data-fields")) || "f-project f-subdivision dl-unit").split(/\s+/);
  var project = document.getElementById(ids[0]);
  var subdivision = document.getElementById(ids[1]);
  var units = document.getElementById(ids[2]);

  function chosen(select) {  /* the selected values (several in a multiple select) */
    return Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value; })
      .map(function (o) { return o.value; });
  }

  function refresh(resetSubdivision) {
    var params = new URLSearchParams();
    if (project) { chosen(project).forEach(function (v) { params.append("project", v); }); }
    if (!resetSubdivision && subdivision) {
      chosen(subdivision).forEach(function (v) { params.append("subdivision", v); });
    }
    fetch(optionsUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (resetSubdivision && subdivision) {
          var keep = chosen(subdivision);
          Array.prototype.slice.call(subdivision.options).forEach(function (o) {
            if (o.value) { subdivision.removeChild(o); }  /* "Todos" stays */
          });
          data.subdivisions.forEach(function (name) {
            var selected = keep.indexOf(name) >= 0;
            subdivision.add(new Option(name, name, selected, selected));
          });
        }
        if (units) {
          units.innerHTML = "";
          data.units.forEach(function (n) { units.appendChild(new Option(n, n)); });
        }
      })
      .catch(function () { /* the form still works: the server lists the choices after a submit */ });
  }

  if (project) { project.addEventListener("change", function () { refresh(true); }); }
  if (subdivision) { subdivision.addEventListener("change", function () { refresh(false); }); }
  if ((form.getAttribute("method") || "get").toLowerCase() !== "get") { return; }

  /* A catalog filter's boxes (<details class="checks">): the summary names the checked ones as they
     change, and a click elsewhere closes the open list. */
  var checks = form.querySelectorAll("details.checks");
  Array.prototype.forEach.call(checks, function (box) {
    box.addEventListener("change", function () {
      var names = [];
      Array.prototype.forEach.call(box.querySelectorAll("input:checked"), function (input) {
        names.push(input.parentNode.textContent.trim());
      });
      box.querySelector("summary").textContent = names.length ? names.join(", ") : "Todos";
    });
  });
  document.addEventListener("click", function (event) {
    Array.prototype.forEach.call(checks, function (box) {
      if (box.open && !box.contains(event.target)) { box.open = false; }
    });
  });

  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && !el.value) { el.disabled = true; }
    });
  });
  window.addEventListener("pageshow", function () {  /* back button: re-enable the fields */
    Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
  });
})();
