// The unit filter: hides the rows of the units table that do not contain the text typed.
// The filter can be given in the address too: index.html#q=宝鸡
(function () {
  var input = document.getElementById("unit-filter");
  var table = document.getElementById("units");
  var count = document.getElementById("unit-count");
  if (!input || !table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  function apply() {
    var needle = input.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var match = needle === "" || row.textContent.toLowerCase().indexOf(needle) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + " / " + rows.length + " units";
    table.setAttribute("data-shown", String(shown));
  }
  var match = /(?:^|&)q=([^&]*)/.exec(window.location.hash.replace(/^#/, ""));
  if (match) { input.value = decodeURIComponent(match[1]); }
  input.addEventListener("input", apply);
  apply();
})();
