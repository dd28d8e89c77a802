// jqlgate console: small progressive enhancements. Every page works
// without this file; it only adds copy buttons and live log rows.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-copy]");
    if (!b) return;
    var el = document.querySelector(b.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      var t = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = t; }, 1500);
    });
  });

  // Tables with data-poll fetch their rows again every few seconds, unless
  // the reader has a row open or a control focused inside the table.
  document.querySelectorAll("table[data-poll]").forEach(function (table) {
    var url = table.getAttribute("data-poll");
    setInterval(function () {
      if (document.hidden || table.querySelector("details[open]") || table.contains(document.activeElement)) return;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
          var rows = doc.querySelector("tbody");
          var old = table.querySelector("tbody");
          if (rows && old) old.replaceWith(document.importNode(rows, true));
        })
        .catch(function () {});
    }, 3000);
  });
})();
