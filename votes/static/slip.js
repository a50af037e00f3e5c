// The slip's QR code opens /b#CODE: the code travels after '#', which the browser never sends
// to a server, so no request line and no log carries it. This script moves the code from the
// address into the code form and sends it (POST), after taking it out of the address bar and
// the history. Without scripts the page is the ordinary code form: the voter types the code.
(function () {
  "use strict";
  var fragment = window.location.hash.replace(/^#/, "");
  if (!fragment) { return; }
  var code;
  try { code = decodeURIComponent(fragment); } catch (error) { code = fragment; }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  var form = document.querySelector("form.code-form");
  var input = form ? form.querySelector("input[name=code]") : null;
  if (!input || code.length > 64) { return; }
  input.value = code;
  if (/^[A-Za-z0-9 \-]{12,20}$/.test(code)) { form.submit(); }
}());
