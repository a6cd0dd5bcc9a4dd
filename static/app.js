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
