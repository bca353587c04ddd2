// Sortable tables of the HTML report (inline in the page; allowed by its hash in the Content-Security-Policy).
// A heading button sorts by its column (numbers by their data-sort value), a second click reverses; ties keep
// the original order.
(function () {
  "use strict";
  function value(cell, numeric) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    return numeric ? parseFloat(raw) : raw.trim().toLowerCase();
  }
  function sortBy(table, column, heading) {
    var ascending = heading.getAttribute("aria-sort") !== "ascending";
    var numeric = heading.getAttribute("data-type") === "number";
    var headings = table.tHead.rows[0].cells;
    for (var i = 0; i < headings.length; i++) { headings[i].removeAttribute("aria-sort"); }
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[column], numeric), y = value(b.cells[column], numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      if (!ascending) { order = -order; }
      return order || (Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order")));
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, column) {
      var button = heading.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(table, column, heading); }); }
    });
  });
})();
