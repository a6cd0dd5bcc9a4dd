// Keyboard for Sherpa's lists and record pages (loaded on every page, no
// inline scripts):
//  - Edit (a table row, or the contact/deal page's details) moves focus to
//    the edit form's first field (its first refused one after a refusal);
//    Escape cancels, Enter saves, and after save or cancel focus returns to
//    that record's Edit button;
//  - tabs (role=tablist) move with the arrow keys, Home and End;
//  - "/" focuses the page's search box, or the top bar's search on pages
//    without one;
//  - the top bar's search (#global-search) answers as you type; the arrow
//    keys walk its results and Enter opens one.
(function () {
  "use strict";

  // ---- Edit forms -------------------------------------------------------
  // The region (a table row or a details card) whose edit is in flight, by
  // id: when it comes back as its read-only self, its Edit button gets focus.
  var returnTo = null;

  function firstField(root) {
    return root.querySelector('[aria-invalid="true"]') ||
      root.querySelector('input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])');
  }

  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    var region = elt && elt.closest && elt.closest(".editing[id]");
    if (region) returnTo = region.id;
  });

  document.addEventListener("htmx:load", function (ev) {
    var el = ev.detail && ev.detail.elt;
    if (!el || !el.matches) return;
    if (el.matches(".editing")) {
      returnTo = null;
      var f = firstField(el);
      if (f) { f.focus(); if (f.select && f.tagName === "INPUT") f.select(); }
      return;
    }
    if (returnTo && el.id === returnTo) {
      returnTo = null;
      var b = el.querySelector("[data-edit-button]");
      if (b) b.focus();
    }
  });

  document.addEventListener("keydown", function (ev) {
    var region = ev.target.closest && ev.target.closest(".editing");
    if (!region) return;
    if (ev.key === "Escape") {
      var cancel = region.querySelector("[data-edit-cancel]");
      if (cancel) { ev.preventDefault(); cancel.click(); }
      return;
    }
    if (ev.key !== "Enter" || ev.shiftKey || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var t = ev.target;
    // The contact picker's search box searches; Enter there picks nothing.
    if (t.name === "contact_q") { ev.preventDefault(); return; }
    // Enter in a text field submits its form natively; in a select it does
    // not, so it is done here.
    if (t.tagName === "SELECT") {
      var form = t.form || t.closest("form");
      if (form) { ev.preventDefault(); form.requestSubmit(); }
    }
  });

  // ---- Tabs (WAI-ARIA tabs pattern, automatic activation) ---------------
  function selectTab(list, tab) {
    list.querySelectorAll('[role="tab"]').forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.setAttribute("tabindex", on ? "0" : "-1");
    });
    var panel = document.getElementById(tab.getAttribute("aria-controls") || "");
    if (panel && tab.id) panel.setAttribute("aria-labelledby", tab.id);
  }

  document.addEventListener("click", function (ev) {
    var tab = ev.target.closest && ev.target.closest('[role="tab"]');
    var list = tab && tab.closest('[role="tablist"]');
    if (list) selectTab(list, tab);
  });

  document.addEventListener("keydown", function (ev) {
    var tab = ev.target.closest && ev.target.closest('[role="tab"]');
    var list = tab && tab.closest('[role="tablist"]');
    if (!list || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));
    var i = tabs.indexOf(tab), next = -1;
    if (ev.key === "ArrowRight") next = (i + 1) % tabs.length;
    else if (ev.key === "ArrowLeft") next = (i - 1 + tabs.length) % tabs.length;
    else if (ev.key === "Home") next = 0;
    else if (ev.key === "End") next = tabs.length - 1;
    else return;
    ev.preventDefault();
    tabs[next].focus();
    tabs[next].click();
  });

  // ---- "/" focuses search -----------------------------------------------
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    var box = document.querySelector("main [data-slash-search]") || document.getElementById("global-search-q");
    if (!box) return;
    ev.preventDefault();
    box.focus();
    if (box.select) box.select();
  });

  // ---- Global search in the top bar -------------------------------------
  function results() { return document.getElementById("global-search-results"); }
  function links() {
    var r = results();
    return r ? Array.prototype.slice.call(r.querySelectorAll("a[data-result]")) : [];
  }
  function setOpen(open) {
    var r = results();
    if (r) r.hidden = !open;
  }

  document.addEventListener("htmx:afterSwap", function (ev) {
    var r = results();
    if (r && ev.detail && ev.detail.target === r) {
      var q = document.getElementById("global-search-q");
      setOpen(!!(q && q.value.trim() !== "" && r.children.length > 0));
    }
  });

  document.addEventListener("keydown", function (ev) {
    var box = document.getElementById("global-search");
    if (!box || !box.contains(ev.target)) return;
    var q = document.getElementById("global-search-q");
    var all = links();
    var i = all.indexOf(ev.target);
    if (ev.key === "ArrowDown") {
      if (!all.length) return;
      ev.preventDefault();
      setOpen(true);
      all[i < 0 ? 0 : Math.min(i + 1, all.length - 1)].focus();
    } else if (ev.key === "ArrowUp") {
      if (i < 0) return;
      ev.preventDefault();
      if (i === 0) q.focus(); else all[i - 1].focus();
    } else if (ev.key === "Escape") {
      // The first Escape closes the results (keeping the words); the next
      // one is the search box's own (it clears).
      var r = results();
      if (r && !r.hidden) { ev.preventDefault(); setOpen(false); }
      q.focus();
    } else if (ev.key === "Home" && i >= 0) {
      ev.preventDefault(); all[0].focus();
    } else if (ev.key === "End" && i >= 0) {
      ev.preventDefault(); all[all.length - 1].focus();
    }
  });

  // Closing the results when focus or a click leaves the search.
  document.addEventListener("focusin", function (ev) {
    var box = document.getElementById("global-search");
    if (box && !box.contains(ev.target)) setOpen(false);
  });
  document.addEventListener("click", function (ev) {
    var box = document.getElementById("global-search");
    if (box && !box.contains(ev.target)) setOpen(false);
  });
})();
