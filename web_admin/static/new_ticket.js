/* Nueva atención: Enter in a "Buscar por" field runs "Buscar" (keeping what was typed in the rest
   of the form). Enter anywhere else runs the form's default button, a hidden "Crear atención"
   placed first in the form: that part needs no script. */
(function () {
  "use strict";
  var buscar = document.getElementById("buscar");
  if (!buscar) { return; }
  ["search_document", "search_contract"].forEach(function (id) {
    var input = document.getElementById(id);
    if (!input) { return; }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        buscar.click();
      }
    });
  });
})();
