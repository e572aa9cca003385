// asc-access console: the only script. Live sync progress by polling the API with the
// session cookie (read-only GETs, so no CSRF header is needed). Nothing else is scripted.
(function () {
  "use strict";

  function setBar(el, done, total) {
    var bar = el.querySelector(".progress > span");
    var label = el.querySelector(".count");
    var pct = total ? Math.min(100, Math.round((100 * done) / total)) : 0;
    if (bar) bar.style.width = (total ? pct : 5) + "%";
    if (label) label.textContent = total ? done + " / " + total : done ? String(done) : "…";
  }

  function poll(box) {
    var url = box.getAttribute("data-progress-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) {
        if (!doc) { return; }
        var progress = doc.progress || {};
        Object.keys(progress).forEach(function (name) {
          var row = box.querySelector('[data-stream="' + name + '"]');
          if (row) setBar(row, progress[name].done || 0, progress[name].total || 0);
        });
        var status = box.querySelector("[data-status]");
        if (status && doc.status) status.textContent = doc.status;
        if (doc.status && doc.status !== "running") {
          // Finished: reload once to show the summary (or the failure and its fix).
          window.setTimeout(function () { window.location.reload(); }, 400);
          return;
        }
        window.setTimeout(function () { poll(box); }, 700);
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 2000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-stream]").forEach(function (row) {
      setBar(row, Number(row.getAttribute("data-done")), Number(row.getAttribute("data-total")));
    });
    document.querySelectorAll("[data-progress-url]").forEach(poll);
  });
})();
