// Paper-ballot entry by keyboard: the digit of the printed column (1, 2, 3; 1, 2 for a vote of
// confidence), X for several boxes, 0 or - for none marks the current row, shows the choice in
// words beside it, and moves on. The page works without this file: every row is a group of
// radio buttons whose labels say each choice in words.
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

  function showWord(row) {
    var input = row.querySelector("input:checked");
    var output = row.querySelector("output.choice-word");
    if (output) {
      output.textContent = input ? input.getAttribute("data-key") + " — " + input.getAttribute("data-word") : "";
    }
  }

  rows.forEach(function (row) {
    row.addEventListener("change", function () { showWord(row); });
  });

  form.addEventListener("focusin", function (event) {
    var row = event.target.closest ? event.target.closest("fieldset.paper-row") : null;
    if (row) { current = rows.indexOf(row); }
  });

  form.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var key = event.key.toUpperCase();
    if (key === "-") { key = "0"; }
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
    showWord(rows[current]);
    focusRow(current + 1);
  });

  if (!form.querySelector(".error-summary")) { focusRow(0); }
}());
