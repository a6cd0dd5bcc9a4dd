// The pipeline board (views/board.templ): cards are dragged with SortableJS
// (static/sortable-*.min.js) and every move is posted by htmx, exactly as
// the card's own "Move to…" form would post it. A drop on Closed Won or
// Closed Lost, or "Move to…" a closed stage, opens the closing dialog
// first. A refused move puts the card back where it was, and the server's
// message shows above the board. The live poll waits while a card is being
// moved, so a teammate's change never swaps the board under the pointer.
(function () {
  "use strict";
  var dragging = false;
  var pending = null; // the dropped card and where it came from, until the server answers

  function snapBack() {
    if (!pending) return;
    var p = pending;
    pending = null;
    if (!document.body.contains(p.from)) return; // the board was swapped meanwhile
    var ref = p.from.children[p.oldIndex] || null;
    p.from.insertBefore(p.item, ref);
  }

  function isClosed(stage) { return stage === "Closed Won" || stage === "Closed Lost"; }

  function post(card, to) {
    var form = card.querySelector(".move-form");
    if (!form || !window.htmx) { snapBack(); return; }
    htmx.ajax("POST", form.getAttribute("hx-post"), { source: form, values: { to: to }, target: "#board", swap: "outerHTML" });
  }

  function openDialog(card, to) {
    var dialog = document.getElementById("close-dialog");
    if (!dialog) { snapBack(); return; }
    var form = dialog.querySelector("form");
    form.elements.deal.value = card.getAttribute("data-id");
    form.elements.to.value = to;
    form.elements.amount.value = card.getAttribute("data-amount") || "";
    form.elements.lost_reason.value = "";
    form.elements.lost_note.value = "";
    dialog.classList.toggle("won", to === "Closed Won");
    dialog.classList.toggle("lost", to === "Closed Lost");
    document.getElementById("close-title").textContent = to === "Closed Won" ? "Close as won" : "Close as lost";
    document.getElementById("close-deal-name").textContent = card.getAttribute("data-name") || "";
    document.getElementById("close-error").textContent = "";
    dialog.showModal();
    var first = to === "Closed Won" ? form.elements.amount : form.elements.lost_reason;
    if (first) first.focus();
  }

  function move(card, to) {
    if (isClosed(to)) openDialog(card, to); else post(card, to);
  }

  function init(root) {
    if (!window.Sortable || !root || !root.querySelectorAll) return;
    root.querySelectorAll(".board-cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: { name: "board", pull: !list.hasAttribute("data-closed"), put: true },
        sort: false,
        draggable: ".board-card:not(.locked)",
        filter: "a, select, button, input, .board-more",
        preventOnFilter: false,
        forceFallback: true,
        fallbackTolerance: 4,
        animation: 120,
        onStart: function () { dragging = true; },
        onEnd: function (ev) {
          dragging = false;
          if (ev.from === ev.to) return;
          pending = { item: ev.item, from: ev.from, oldIndex: ev.oldIndex };
          move(ev.item, ev.to.getAttribute("data-stage"));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });

  // "Move to…" a closed stage asks for the closing values first.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("move-form")) return;
    var to = form.elements.to.value;
    if (!isClosed(to)) return;
    ev.preventDefault();
    ev.stopPropagation();
    openDialog(form.closest(".board-card"), to);
  }, true);

  document.addEventListener("click", function (ev) {
    if (!ev.target.closest("[data-close-dialog]")) return;
    var dialog = document.getElementById("close-dialog");
    if (dialog) dialog.close();
  });
  document.addEventListener("close", function (ev) {
    if (ev.target.id === "close-dialog") snapBack();
  }, true);

  // A card is being moved: dragged, posted, or waiting in the dialog.
  function moving() {
    var dialog = document.getElementById("close-dialog");
    return dragging || pending || (dialog && dialog.open);
  }

  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail.elt;
    if (elt && elt.id === "board" && moving()) ev.preventDefault();
  });
  // A poll already on its way when the drag began must not swap the board
  // under the pointer either: its change shows with the next poll.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var path = ev.detail.pathInfo && ev.detail.pathInfo.requestPath;
    if (path && path.indexOf("/deals/board/poll") === 0 && moving()) ev.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    var elt = ev.detail.elt;
    if (!elt || !elt.closest) return;
    var isMove = elt.classList.contains("move-form") || elt.id === "close-form";
    if (!isMove) return;
    // htmx counts a swapped 422 as successful; a move succeeded only on a 2xx.
    var xhr = ev.detail.xhr;
    if (xhr && xhr.status >= 200 && xhr.status < 300) {
      pending = null;
      var dialog = document.getElementById("close-dialog");
      if (dialog && dialog.open) dialog.close();
      var msg = document.getElementById("board-message");
      if (msg) msg.textContent = "";
    } else if (elt.id !== "close-form") {
      snapBack();
    }
  });
})();
