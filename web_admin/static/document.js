// The document preview's "Imprimir" button (web_admin.documents): the browser's print dialog.
document.getElementById("print-document")?.addEventListener("click", () => window.print());
