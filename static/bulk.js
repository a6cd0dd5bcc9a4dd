// Bulk selection on the contacts and deals tables (views/bulk.templ): the
// rows' checkboxes belong to the bulk form; shift-click ticks a range; the
// header box ticks the page; "select all matching" adds a hidden field that
// any change of the ticks takes away again. The action select shows only
// the value fields of the chosen action.
(function () {
  "use strict";
  var last = null;
  function rows(form) { return Array.prototype.slice.call(document.querySelectorAll('input[data-bulk-row][form="' + form.id + '"]')); }
  function formOf(el) { var id = el.getAttribute("form"); return id ? document.getElementById(id) : el.closest("form"); }
  function clearAll(form) {
    var all = form.querySelector(".bulk-all");
    if (all) all.innerHTML = "";
  }
  function count(form) {
    var n = rows(form).filter(function (r) { return r.checked; }).length;
    var el = form.querySelector("[data-bulk-count]");
    if (el) el.textContent = n === 0 ? "No rows selected" : n + (n === 1 ? " row selected" : " rows selected");
  }
  function showValues(form) {
    var sel = form.querySelector("[data-bulk-action]");
    if (!sel) return;
    form.querySelectorAll("[data-bulk-value]").forEach(function (el) {
      el.hidden = el.getAttribute("data-bulk-value") !== sel.value;
    });
  }
  document.addEventListener("click", function (ev) {
    var box = ev.target.closest && ev.target.closest("input[data-bulk-row]");
    if (!box) return;
    var form = formOf(box);
    if (!form) return;
    var list = rows(form);
    if (ev.shiftKey && last && last !== box && list.indexOf(last) >= 0) {
      var a = list.indexOf(last), b = list.indexOf(box);
      var lo = Math.min(a, b), hi = Math.max(a, b);
      for (var i = lo; i <= hi; i++) list[i].checked = box.checked;
    }
    last = box;
    clearAll(form);
    count(form);
  });
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches && t.matches("input[data-bulk-page]")) {
      var form = formOf(t);
      rows(form).forEach(function (r) { r.checked = t.checked; });
      clearAll(form);
      count(form);
    } else if (t.matches && t.matches("[data-bulk-action]")) {
      showValues(t.form);
    }
  });
  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("form[data-bulk-form]").forEach(function (f) { showValues(f); count(f); });
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
})();
