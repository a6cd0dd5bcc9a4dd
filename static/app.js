// Sherpa's only script besides htmx: guards against double submits of plain
// forms and keeps confirmation checkboxes honest. No inline scripts anywhere,
// so the Content-Security-Policy can forbid them.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-put") || form.hasAttribute("hx-delete")) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { ev.preventDefault(); return; }
    if (form.dataset.submitted === "1") { ev.preventDefault(); return; }
    form.dataset.submitted = "1";
    form.setAttribute("aria-busy", "true");
    // Re-enable after a while in case the browser kept the page (back button).
    setTimeout(function () { delete form.dataset.submitted; form.removeAttribute("aria-busy"); }, 8000);
  }, true);
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.getElementById(btn.dataset.copy);
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.value || el.textContent).then(function () { btn.textContent = "Copied"; });
    }
  });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-dismiss]");
    if (btn) { var box = btn.closest(".flash"); if (box) box.remove(); }
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (f) { delete f.dataset.submitted; f.removeAttribute("aria-busy"); });
  });
})();

// Times arrive in UTC inside <time datetime> elements; show them in the
// viewer's own time zone, after every htmx swap too.
(function () {
  "use strict";
  var fmt = {
    datetime: new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }),
    date: new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" }),
    time: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })
  };
  function localize(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      var f = fmt[el.dataset.local] || fmt.datetime;
      if (!isNaN(d)) { el.textContent = f.format(d); el.title = d.toString(); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { localize(ev.target); });
})();

// Tabs loaded by htmx: mark the clicked tab as the selected one.
document.addEventListener("click", function (ev) {
  var tab = ev.target.closest('[role="tab"]');
  if (!tab) return;
  var list = tab.closest('[role="tablist"]');
  if (!list) return;
  list.querySelectorAll('[role="tab"]').forEach(function (t) { t.setAttribute("aria-selected", t === tab ? "true" : "false"); });
});

// The browser's time zone: forms with a hidden tz field (the meeting form)
// get it, on page load and in every fragment htmx swaps in, and htmx sends
// it with each request as X-Time-Zone, so the server can tell "today".
(function () {
  "use strict";
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz = ""; }
  function fill(root) {
    if (!tz || !root || !root.querySelectorAll) return;
    root.querySelectorAll('input[name="tz"]').forEach(function (el) { if (!el.value) el.value = tz; });
    root.querySelectorAll("[data-timezone-label]").forEach(function (el) { if (el.textContent === "—") el.textContent = tz; });
  }
  document.addEventListener("DOMContentLoaded", function () { fill(document); });
  document.addEventListener("htmx:load", function (ev) { fill(ev.detail.elt); });
  document.addEventListener("htmx:configRequest", function (ev) { if (tz) ev.detail.headers["X-Time-Zone"] = tz; });
})();

// The live dashboard polls with htmx (see views/dashboard.templ). A failed
// poll keeps the charts on screen and marks the indicator offline instead of
// swapping an error panel over them; the next good answer clears the mark.
(function () {
  "use strict";
  function isPoll(ev) { return ev.detail && ev.detail.elt && ev.detail.elt.id === "dashboard"; }
  function offline(on) {
    var el = document.getElementById("dashboard");
    if (el) el.classList.toggle("offline", on);
  }
  document.addEventListener("htmx:beforeSwap", function (ev) {
    if (!isPoll(ev)) return;
    if (ev.detail.xhr.status >= 400) { ev.detail.shouldSwap = false; ev.detail.isError = false; offline(true); }
    else offline(false);
  });
  document.addEventListener("htmx:sendError", function (ev) { if (isPoll(ev)) offline(true); });
})();
