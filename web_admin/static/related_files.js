/* Archivos relacionados (vendored, no build step; both pages work without it).
   - The admin page (#owner-picker, a GET form): choosing in a select clears the selects after it
     and submits the form, so that the next select lists the chosen one's choices.
   - Nueva atención (#new-ticket-form): when Proyecto, Torre/Bloque, Dpto./Unidad or N° de contrato
     change, the card #archivos-relacionados is fetched again from the script tag's
     data-fragment-url (?project=&subdivision=&unit=&contract_number=) and swapped in. */
(function () {
  "use strict";
  var script = document.currentScript;

  var picker = document.getElementById("owner-picker");
  if (picker) {
    var selects = Array.prototype.slice.call(picker.querySelectorAll("select"));
    selects.forEach(function (select, i) {
      select.addEventListener("change", function () {
        selects.slice(i + 1).forEach(function (later) { later.value = ""; later.disabled = true; });
        picker.submit();
      });
    });
  }

  var form = document.getElementById("new-ticket-form");
  var url = script && script.getAttribute("data-fragment-url");
  if (!form || !url) { return; }
  var names = ["project", "subdivision", "unit", "contract_number"];
  var timer = null;
  var last = null;

  function refresh() {
    var params = new URLSearchParams();
    names.forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) { params.append(name, field.value); }
    });
    var query = params.toString();
    if (query === last) { return; }
    last = query;
    fetch(url + "?" + query, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var card = document.getElementById("archivos-relacionados");
        if (html === null || !card || query !== last) { return; }
        card.outerHTML = html;
      })
      .catch(function () { /* the card is filled again after the next submit */ });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 250);
  }

  names.forEach(function (name) {
    var field = form.elements[name];
    if (!field) { return; }
    field.addEventListener("change", later);
    field.addEventListener("input", later);
  });
})();
