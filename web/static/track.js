// The private link from the receipt carries the access code after "#" (/lacak/LPR-XXXXXXXX#token=...): browsers
// never send that part, so no server or proxy log holds it. Here it leaves the address bar and goes to the server
// in the lookup form's POST body, which answers with the case's cookie and the case page. Without script the
// citizen types the code (the receipt mail prints it).
(function () {
  var match = /^#token=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  var form = document.getElementById("lookup");
  if (!match || !form) {
    return;
  }
  history.replaceState(null, "", window.location.pathname);
  form.elements.token.value = match[1];
  form.submit();
})();
