// One submission per click: a POST form that is being sent ignores further submits, so that a
// double click on «Comentar», «Agregar» or «Crear» does not make two comments, follow-ups or
// tickets. The form's buttons are disabled once the browser has read the clicked one's name and
// value; a page restored by the browser's «Atrás» gets them back. Loaded by every page (base.html).
const sendingButtons = (form) => form.querySelectorAll("button, input[type=submit]");

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method.toLowerCase() !== "post" || form.target) return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  setTimeout(() => sendingButtons(form).forEach((button) => { button.disabled = true; }), 0);
});

window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-sending]").forEach((form) => {
    delete form.dataset.sending;
    sendingButtons(form).forEach((button) => { button.disabled = false; });
  });
});
