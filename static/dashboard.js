// Live dashboard: poll the JSON twin of the page with its ETag and swap the content when the data
// changed. Without JavaScript the page is a plain page (reload to refresh).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-url");
  var version = live.getAttribute("data-version");
  var PERIOD = 5000;
  var stopped = false;

  function say(text) { if (status) { status.textContent = text; } }

  function poll() {
    fetch(url, { headers: { "If-None-Match": '"' + version + '"', "Accept": "application/json" },
                 credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) { say("Live: up to date at " + new Date().toLocaleTimeString()); return null; }
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") !== 0) {
          // The session ended and the poll landed on the sign-in page: say so and stop polling.
          stopped = true;
          say("Signed out: reload the page and sign in again to keep the dashboard live.");
          return null;
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (data) {
          // Keep open the "What is this?" explanations the organiser is reading.
          var open = Array.prototype.map.call(live.querySelectorAll("details[open][id]"), function (d) { return d.id; });
          live.innerHTML = data.html;
          open.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
          version = data.version;
          say("Live: updated at " + new Date().toLocaleTimeString());
        }
      })
      .catch(function () { say("Connection lost: retrying…"); })
      .then(function () { if (!stopped) { window.setTimeout(poll, PERIOD); } });
  }
  say("Live: refreshes every " + PERIOD / 1000 + " seconds");
  window.setTimeout(poll, PERIOD);
})();
