/* The diary's behaviour: service colours, keyboard moves through the grid, clicking an empty
 * slot to book, dragging an appointment to reschedule it, the now-line.
 * No inline script or style anywhere (strict CSP): colours arrive as data-colour and become a
 * CSS custom property here; everything else is classes. */
(function () {
  "use strict";

  var HEX = /^#[0-9a-fA-F]{6}$/;

  function root() {
    return document.getElementById("diary");
  }

  function say(message, isError) {
    var status = document.getElementById("diary-status");
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function paint(scope) {
    scope.querySelectorAll("[data-colour]").forEach(function (element) {
      var colour = element.getAttribute("data-colour");
      if (HEX.test(colour)) element.style.setProperty("--service-colour", colour);
    });
  }

  /* ---- Which slot a cell is ---- */

  function header(cell) {
    return cell.closest("table").querySelector('thead th[data-col="' + cell.dataset.col + '"]');
  }

  function slotStart(cell) {
    var row = cell.parentElement;
    var th = header(cell);
    var exact = row.dataset.start || "";
    // The day view's rows are exact instants (right even when the clocks change); the week
    // view's columns are different days, so there it is the column's date at the row's time.
    if (exact.slice(0, 10) === th.dataset.date) return exact;
    return th.dataset.date + "T" + row.dataset.time;
  }

  function bookSlot(cell) {
    var diary = root();
    var th = header(cell);
    var params = new URLSearchParams({ practitioner: th.dataset.practitioner, start: slotStart(cell) });
    var location = document.querySelector(".diary-controls select[name=location]");
    if (location && location.value) params.set("location", location.value);
    window.htmx.ajax("GET", diary.dataset.bookUrl + "?" + params.toString(), { target: "#diary-panel" });
  }

  /* ---- Keyboard: one tab stop for the grid, arrows inside it ---- */

  function cells(table) {
    return table.querySelectorAll("tbody td");
  }

  function cellAt(rows, rowIndex, col, direction) {
    // The cell for `col` in row `rowIndex`, or the appointment cell whose rowspan covers it.
    for (var i = rowIndex; i >= 0 && i < rows.length; i += direction) {
      var found = rows[i].querySelector('td[data-col="' + col + '"]');
      if (found) return found;
      if (direction === 0) break;
    }
    return null;
  }

  function covering(rows, rowIndex, col) {
    for (var i = rowIndex; i >= 0; i -= 1) {
      var found = rows[i].querySelector('td[data-col="' + col + '"]');
      if (found) return found;
    }
    return null;
  }

  function focusCell(cell) {
    if (!cell) return;
    var table = cell.closest("table");
    cells(table).forEach(function (other) {
      other.tabIndex = -1;
    });
    cell.tabIndex = 0;
    cell.focus();
  }

  function onKey(event) {
    var cell = event.target.closest("tbody td");
    if (!cell || event.target !== cell) return;
    var table = cell.closest("table");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var rowIndex = rows.indexOf(cell.parentElement);
    var col = Number(cell.dataset.col);
    var span = cell.rowSpan || 1;
    var columns = table.tHead.rows[0].cells.length - 1;
    var next = null;
    switch (event.key) {
      case "ArrowDown":
        next = cellAt(rows, rowIndex + span, col, 1);
        break;
      case "ArrowUp":
        next = rowIndex > 0 ? covering(rows, rowIndex - 1, col) : null;
        break;
      case "ArrowRight":
        next = col + 1 < columns ? covering(rows, rowIndex, col + 1) : null;
        break;
      case "ArrowLeft":
        next = col > 0 ? covering(rows, rowIndex, col - 1) : null;
        break;
      case "Enter":
      case " ":
        event.preventDefault();
        if (cell.classList.contains("slot")) bookSlot(cell);
        else {
          var button = cell.querySelector("button.appt");
          if (button) button.focus();
        }
        return;
      default:
        return;
    }
    event.preventDefault();
    focusCell(next);
  }

  function prepareGrid(scope) {
    var table = scope.querySelector ? scope.querySelector("table.diary-grid") : null;
    if (!table && scope.matches && scope.matches("table.diary-grid")) table = scope;
    if (!table) return;
    var all = cells(table);
    all.forEach(function (cell) {
      cell.tabIndex = -1;
    });
    var start = table.querySelector("tbody tr.now td") || table.querySelector("tbody td.slot.in") || all[0];
    if (start) start.tabIndex = 0;
    table.addEventListener("keydown", onKey);
    table.addEventListener("click", function (event) {
      var cell = event.target.closest("td.slot");
      if (cell) bookSlot(cell);
    });
    table.addEventListener("focusin", function (event) {
      var cell = event.target.closest("tbody td");
      if (cell && event.target === cell) {
        cells(table).forEach(function (other) {
          other.tabIndex = other === cell ? 0 : -1;
        });
      }
    });
    enableDragging(table);
    markNow(table);
  }

  /* ---- Drag to reschedule ---- */

  var dragged = null;

  function enableDragging(table) {
    table.addEventListener("dragstart", function (event) {
      var block = event.target.closest("button.appt");
      if (!block) return;
      dragged = block;
      block.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", block.dataset.appointment);
    });
    table.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      table.querySelectorAll(".drop-target").forEach(function (cell) {
        cell.classList.remove("drop-target");
      });
    });
    table.addEventListener("dragover", function (event) {
      var cell = event.target.closest("td.slot");
      if (!cell || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      cell.classList.add("drop-target");
    });
    table.addEventListener("dragleave", function (event) {
      var cell = event.target.closest("td.slot");
      if (cell) cell.classList.remove("drop-target");
    });
    table.addEventListener("drop", function (event) {
      var cell = event.target.closest("td.slot");
      if (!cell || !dragged) return;
      event.preventDefault();
      cell.classList.remove("drop-target");
      move(dragged, cell);
    });
  }

  function move(block, cell) {
    var diary = root();
    var url = diary.dataset.moveUrlTemplate.replace("00000000-0000-0000-0000-000000000000", block.dataset.appointment);
    var body = new URLSearchParams({
      version: block.dataset.version,
      start: slotStart(cell),
      practitioner: header(cell).dataset.practitioner,
    });
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": diary.dataset.csrf, Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok && data.ok, data: data };
        });
      })
      .then(function (result) {
        if (result.ok) {
          say(result.data.message, false);
          window.htmx.trigger(document.body, "diary-changed");
        } else {
          // The block never left its cell: it "snaps back" by staying put. Say why.
          say("Not moved: " + result.data.message, true);
          block.classList.add("refused");
          window.setTimeout(function () {
            block.classList.remove("refused");
          }, 1500);
          block.focus();
        }
      })
      .catch(function () {
        say("Not moved: the diary could not be reached. Try again.", true);
      });
  }

  /* ---- The now-line ---- */

  function markNow(table) {
    var today = table.querySelector("thead th.today");
    if (!today) return;
    var wrap = table.closest("[data-slot-minutes]");
    var minutes = Number(wrap ? wrap.dataset.slotMinutes : 15);
    var now = Date.now();
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var start = Date.parse(row.dataset.start);
      row.classList.toggle("now", start <= now && now < start + minutes * 60000);
    });
  }

  window.setInterval(function () {
    var table = document.querySelector("table.diary-grid");
    if (table) markNow(table);
  }, 60000);

  /* ---- HTMX glue ---- */

  document.addEventListener("htmx:beforeSwap", function (event) {
    // Form errors (400) and refusals (409) carry the form back: show them in the panel.
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if ((status === 400 || status === 409) && target && target.id === "diary-panel") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "diary-panel") {
      var heading = target.querySelector("h2[tabindex]");
      var problem = target.querySelector(".error-summary, .error-message, .message.error");
      (problem ? target.querySelector(".has-error input, .has-error select, h2[tabindex]") : heading || target).focus();
    }
  });

  function init(scope) {
    paint(scope);
    prepareGrid(scope);
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  }
})();
