/* The ticket view: choosing an "Email" template proposes its text (the form works without it). */
(function () {
  var data = document.getElementById("email-templates");
  var select = document.getElementById("email-template");
  var text = document.getElementById("email-text");
  if (!data || !select || !text) return;
  var templates = JSON.parse(data.textContent);
  select.addEventListener("change", function () {
    var t = templates[select.value];
    if (t) text.value = t[1];
  });
})();
