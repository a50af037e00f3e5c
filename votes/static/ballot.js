// The ballot as the voter fills it in: the counter "12 / 25" follows every choice, and the red
// "choose a level" of a person disappears as soon as a level is chosen for that person (from
// the list at the top too). Without scripts the ballot works the same, only without these.
(function () {
  "use strict";
  var form = document.querySelector("form.ballot-form");
  if (!form) { return; }
  var counter = form.querySelector(".progress-count");
  var items = form.querySelectorAll("fieldset.item");

  function chosen(fieldset) {
    return fieldset.querySelector("input[type=radio]:checked") !== null;
  }

  function count() {
    var done = 0;
    for (var i = 0; i < items.length; i += 1) { if (chosen(items[i])) { done += 1; } }
    if (counter) { counter.textContent = done + " / " + items.length; }
  }

  function clearError(fieldset) {
    if (!fieldset.classList.contains("has-error")) { return; }
    fieldset.classList.remove("has-error");
    fieldset.removeAttribute("aria-describedby");
    var error = fieldset.querySelector("p.error");
    if (error) { error.parentNode.removeChild(error); }
    var order = fieldset.id.replace("item-", "");
    var summary = document.querySelector(".error-summary");
    if (!summary) { return; }
    var entry = summary.querySelector("li[data-order='" + order + "']");
    if (entry) { entry.parentNode.removeChild(entry); }
    if (!summary.querySelector("li")) { summary.parentNode.removeChild(summary); }
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || target.type !== "radio") { return; }
    var fieldset = target.closest("fieldset.item");
    if (fieldset) { clearError(fieldset); }
    count();
  });
  count();
}());
