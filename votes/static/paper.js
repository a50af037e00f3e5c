// Paper-ballot entry by keyboard: H/C/L (T/K), X, 0 or - mark the current row and move on.
// The page works without this file: every row is a group of radio buttons.
(function () {
  "use strict";
  var form = document.getElementById("paper-form");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(form.querySelectorAll("fieldset.paper-row"));
  var current = 0;

  function focusRow(index) {
    if (index >= rows.length) {
      document.getElementById("add-ballot").focus();
      current = rows.length;
      return;
    }
    current = Math.max(0, index);
    var row = rows[current];
    var input = row.querySelector("input:checked") || row.querySelector("input");
    if (input) { input.focus(); }
  }

  form.addEventListener("focusin", function (event) {
    var row = event.target.closest ? event.target.closest("fieldset.paper-row") : null;
    if (row) { current = rows.indexOf(row); }
  });

  form.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var key = event.key.toUpperCase();
    if (key === "0") { key = "-"; }
    if (key === "BACKSPACE" && current > 0) {
      event.preventDefault();
      focusRow(current - 1);
      return;
    }
    if (current >= rows.length || key.length !== 1) { return; }
    var input = rows[current].querySelector('input[data-key="' + key + '"]');
    if (!input) { return; }
    event.preventDefault();
    input.checked = true;
    focusRow(current + 1);
  });

  if (!form.querySelector(".error-summary")) { focusRow(0); }
}());
