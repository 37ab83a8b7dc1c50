// The scoring form's submit bar: "N of M criteria picked", kept live as the judge picks.
// Progressive enhancement: without this script the bar shows the count the page was rendered with.
(function () {
  "use strict";
  var form = document.querySelector("form.score-form");
  var bar = form && form.querySelector(".submit-bar");
  var out = bar && bar.querySelector("#picked");
  if (!out) return;
  var total = Number(bar.getAttribute("data-total"));
  function update() {
    var names = {};
    form.querySelectorAll("fieldset.criterion input[type=radio]:checked").forEach(function (input) {
      names[input.name] = true;
    });
    var absent = form.querySelector("input[name=absent]");
    var conflict = form.querySelector("input[name=conflict]");
    if ((absent && absent.checked) || (conflict && conflict.checked)) {
      out.textContent = "No levels needed: " + (absent && absent.checked ? "team absent" : "conflict of interest");
    } else {
      out.textContent = Object.keys(names).length + " of " + total + " criteria picked";
    }
  }
  form.addEventListener("change", update);
  update();
})();
