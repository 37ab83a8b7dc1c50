// The judge's pages on a phone: drafts kept as the judge picks, submissions through the outbox
// (store.js), and the state always in words: "Saved", "Waiting for network (N pending)" or
// "Not saved: <reason>". Progressive enhancement: without this script every page works as a plain
// form, and the server prints the same words for the states it knows.
(function () {
  "use strict";
  var Store = self.ExpoStore;
  var form = document.querySelector("form.score-form");
  var bar = form && form.querySelector(".submit-bar");
  var picked = bar && bar.querySelector("#picked");
  var total = bar ? Number(bar.getAttribute("data-total")) : 0;

  // ------------------------------------------------------------------ the count in the submit bar
  function count() {
    if (!picked) return;
    var names = {};
    form.querySelectorAll("fieldset.criterion input[type=radio]:checked").forEach(function (input) {
      names[input.name] = true;
    });
    var absent = form.querySelector("input[name=absent]"), conflict = form.querySelector("input[name=conflict]");
    if ((absent && absent.checked) || (conflict && conflict.checked)) {
      picked.textContent = "No levels needed: " + (absent && absent.checked ? "team absent" : "conflict of interest");
    } else {
      picked.textContent = Object.keys(names).length + " of " + total + " criteria picked";
    }
  }
  if (form) { form.addEventListener("change", count); count(); }

  // Without IndexedDB (a private window on an old phone) the form posts as it does without script.
  if (!Store || !self.indexedDB || !self.Promise) return;

  function meta(name) {
    var m = document.querySelector('meta[name="expo-' + name + '"]');
    return m ? m.getAttribute("content") : "";
  }
  var judge = meta("judge");
  var code = form ? form.getAttribute("data-team") : "";
  var teamName = form ? form.getAttribute("data-team-name") : "";
  var revisionField = form && form.querySelector("input[name=revision]");
  var pageRevision = revisionField ? Number(revisionField.value || 0) : 0;
  var savedEdited = form ? Number(form.getAttribute("data-saved-edited") || 0) : 0;  // the saved sheet's edit time
  var stateEl = document.getElementById("sync-state");
  var syncButton = document.getElementById("sync-now");
  var serverState = stateEl ? { text: stateEl.textContent.trim(), kind: stateEl.getAttribute("data-kind") } : null;
  var renderedAt = Number(meta("rendered") || 0);
  var lastEdit = 0;           // when the judge last changed this form (ms), for "the later edit wins"

  function setState(text, kind) {
    if (!stateEl) return;
    stateEl.hidden = false;
    stateEl.textContent = text;
    stateEl.setAttribute("data-kind", kind);
    stateEl.className = "sync-state sync-" + kind;
  }

  function notice(text, kind) {
    var box = document.getElementById("phone-notice");
    if (!box) return;
    box.textContent = text;
    box.className = "flash flash-" + kind;
    box.hidden = false;
  }

  // ------------------------------------------------------------------------------ the form's data
  var SKIP = { csrf_token: 1, idempotency_key: 1, edited_at: 1 };
  function fieldsOf() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) { if (!SKIP[name]) pairs.push([name, String(value)]); });
    return pairs;
  }

  function fill(pairs) {
    var has = {};
    pairs.forEach(function (p) { has[p[0] + "=" + p[1]] = true; has[p[0]] = p[1]; });
    form.querySelectorAll("input, textarea").forEach(function (el) {
      if (SKIP[el.name] || el.name === "revision" || !el.name) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = !!has[el.name + "=" + el.value];
      else if (el.tagName === "TEXTAREA" || el.type === "text") el.value = has[el.name] !== undefined ? has[el.name] : "";
    });
    count();
  }

  // The same checks and the same words as the server, so that a sheet is never queued only to be
  // refused later, and the page looks as it does when the server refuses a plain form.
  function problems() {
    var found = { form: [], fields: [] };
    var absent = form.querySelector("input[name=absent]:checked"), conflict = form.querySelector("input[name=conflict]:checked");
    if (absent && conflict) {
      found.form.push("Tick one of \"Team absent\" and \"I have a conflict of interest\", not both: " +
                      "a team you did not meet cannot be a conflict, and a conflict means you do not score.");
    } else if (!absent && !conflict) {
      form.querySelectorAll("fieldset.criterion[data-criterion]").forEach(function (fs) {
        if (fs.querySelector("input[type=radio]:checked")) return;
        var values = Array.prototype.map.call(fs.querySelectorAll("input[type=radio]"), function (i) { return Number(i.value); });
        var name = fs.getAttribute("data-criterion");
        found.fields.push([fs, "Choose a score for " + name + " (" + Math.min.apply(null, values) + "–" +
                               Math.max.apply(null, values) + ")."]);
      });
      if (found.fields.length) found.form.push("Your score was not saved. Fix the highlighted parts and submit again.");
    }
    return found;
  }

  function showProblems(found) {
    form.querySelectorAll(".form-errors, fieldset .error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("fieldset.has-error").forEach(function (fs) {
      fs.classList.remove("has-error");
      fs.removeAttribute("aria-describedby");
    });
    if (!found.form.length) return;
    var box = document.createElement("div");
    box.className = "form-errors";
    box.setAttribute("role", "alert");
    found.form.forEach(function (text) { var p = document.createElement("p"); p.textContent = text; box.appendChild(p); });
    if (found.fields.length) {
      var list = document.createElement("ul");
      found.fields.forEach(function (pair) {
        var fs = pair[0], li = document.createElement("li"), a = document.createElement("a");
        a.href = "#" + fs.id;
        a.textContent = fs.getAttribute("data-criterion");
        li.appendChild(a);
        list.appendChild(li);
        var error = document.createElement("p");
        error.className = "error";
        error.id = fs.id + "-err";
        error.textContent = pair[1];
        var after = fs.querySelector(".hint") || fs.querySelector("legend");
        after.insertAdjacentElement("afterend", error);
        fs.classList.add("has-error");
        fs.setAttribute("aria-describedby", error.id);
      });
      box.appendChild(list);
    }
    form.insertBefore(box, form.querySelector("fieldset"));
    serverState = { text: "Not saved: " + found.form[0], kind: "error" };  // until the next submit
    setState(serverState.text, serverState.kind);
    box.scrollIntoView({ block: "center" });
  }

  function newKey() {
    var bytes = new Uint8Array(18);
    self.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // --------------------------------------------------------------------------- showing the state
  function pendingWords(n) { return "Waiting for network (" + n + " pending)"; }

  function refusedWords(item) {
    var what = item.retry ? "" : " Open this team's page, correct the sheet and submit again.";
    return "Not saved: " + (item.reason || "the server refused this sheet.") + what;
  }

  function render() {
    return Store.items(judge || undefined).then(function (items) {
      if (!judge) {  // signed out or session ended: what this phone still holds, and why
        return Store.owner().then(function (owner) {
          var held = items.filter(function (i) { return i.state !== "sent" && (!owner || i.judge === owner); });
          if (!held.length || !stateEl) return;
          var refused = held.filter(function (i) { return i.state === "refused"; })[0];
          setState(refused ? refusedWords(refused) + " (" + held.length + " kept on this phone)"
                           : "Not saved yet: " + held.length + (held.length === 1 ? " score is" : " scores are") +
                             " kept on this phone, and sent when their judge scans their badge again.", "error");
        });
      }
      Store.items().then(function (everyone) {  // another judge's unsent sheets: counted, never shown
        var others = everyone.filter(function (i) { return i.judge !== judge && i.state !== "sent"; }).length;
        var line = document.getElementById("others-held");
        if (!line) return;
        line.hidden = !others;
        line.textContent = others ? others + (others === 1 ? " score" : " scores") + " of another judge " +
          (others === 1 ? "is" : "are") + " kept on this phone: sent when that judge signs in here again." : "";
      });
      var waiting = items.filter(function (i) { return i.state === "pending" || i.state === "sending"; });
      var refused = items.filter(function (i) { return i.state === "refused"; });
      if (syncButton) syncButton.hidden = waiting.length + refused.filter(function (i) { return i.retry; }).length === 0;
      document.querySelectorAll("[data-code]").forEach(function (li) {  // the judge home's list
        var mine = items.filter(function (i) { return i.code === li.getAttribute("data-code"); })
          .sort(function (a, b) { return b.queuedAt - a.queuedAt; })[0];
        var badge = li.querySelector(".badge");
        if (!mine || !badge) return;
        if (mine.state === "sent") {
          if (mine.answeredAt < renderedAt) return;  // the server's own words on this page are newer
          var has = function (name) { return mine.fields.some(function (p) { return p[0] === name; }); };
          badge.textContent = has("absent") ? "Absent" : has("conflict") ? "Conflict" : "Scored";
          badge.className = "badge badge-done";
        } else {
          badge.textContent = mine.state === "refused" ? "Not saved" : "Pending";
          badge.className = "badge " + (mine.state === "refused" ? "badge-error" : "badge-pending");
        }
      });
      if (form) return renderSheet(items, waiting);
      if (refused.length) setState(refusedWords(refused[0]) + (refused.length > 1 ? " (" + refused.length + " sheets)" : ""), "error");
      else if (waiting.length) setState(pendingWords(waiting.length), "pending");
      else if (items.some(function (i) { return i.state === "sent" && i.answeredAt > renderedAt; }))
        setState("Saved: every score you submitted is on the server.", "saved");
      else if (serverState) setState(serverState.text, serverState.kind);
    });
  }

  function renderSheet(items, waiting) {
    var mine = items.filter(function (i) { return i.code === code; })
      .sort(function (a, b) { return b.queuedAt - a.queuedAt; })[0];
    if (mine && mine.state === "refused") return setState(refusedWords(mine), "error");
    if (mine && mine.state !== "sent") return setState(pendingWords(waiting.length), "pending");
    if (mine && mine.state === "sent" && (mine.revision > pageRevision || mine.answeredAt > renderedAt)) {
      pageRevision = Math.max(pageRevision, mine.revision || 0);
      if (revisionField) revisionField.value = String(pageRevision);
      var head = document.getElementById("saved-detail");
      if (head && mine.savedText) { head.textContent = mine.savedText + "."; head.className = "saved-state"; }
      if (mine.outcome === "stale") return setState("Not saved: a newer edit of this sheet is already saved (this older one is kept in the log).", "error");
      return setState(mine.savedText || "Saved", "saved");
    }
    if (waiting.length) return setState(pendingWords(waiting.length), "pending");
    if (serverState) setState(serverState.text, serverState.kind);
  }

  // ------------------------------------------------------------------------------------ sending
  // One send at a time from this page; a sheet queued while one runs gets a second round. While
  // anything waits, try again by itself (5 s, then doubling up to a minute): Safari and Firefox have
  // no Background Sync, and a Wi-Fi that leads nowhere fires no "online" event.
  var flushing = null, again = false, retryTimer = null, retryDelay = 5000;
  function flush() {
    if (flushing) { again = true; return flushing; }
    again = false;
    flushing = Store.flush().then(function (summary) {
      flushing = null;
      return render().then(function () {
        if (again) return flush();
        return Store.items(judge).then(function (items) {
          var waiting = items.some(function (i) { return i.state === "pending" || i.state === "sending"; });
          clearTimeout(retryTimer);
          if (waiting && judge) {
            retryTimer = setTimeout(flush, retryDelay);
            retryDelay = Math.min(retryDelay * 2, 60000);
          } else {
            retryDelay = 5000;
          }
          return summary;
        });
      });
    }, function (error) { flushing = null; throw error; });
    return flushing;
  }

  // The answer to a sheet submitted on this page. Saved: the page is loaded again from the server
  // (as the plain form does), with the message; kept for later or refused: say so here.
  function afterOwnSubmit(key) {
    return Store.items(judge).then(function (items) {
      var item = items.filter(function (i) { return i.key === key; })[0];
      if (!item) return;
      if (item.state === "sent") {
        try { sessionStorage.setItem("expo-notice", JSON.stringify([item.message, item.outcome === "stale" ? "error" : "success"])); }
        catch (e) { /* storage full or disabled: the page still says "Saved" */ }
        location.replace(location.pathname);
      } else if (item.state === "refused") {
        notice(refusedWords(item), "error");
      } else {
        notice("No network: your score is kept on this phone and sent as soon as the network answers (while a judge " +
               "page is open, or when you next open one). You can go on to the next team.", "info");
      }
    });
  }

  try {  // the message of a sheet sent just before this page loaded
    var carried = JSON.parse(sessionStorage.getItem("expo-notice") || "null");
    sessionStorage.removeItem("expo-notice");
    if (carried) notice(carried[0], carried[1]);
  } catch (e) { /* no storage: no message, the state line still says "Saved" */ }

  if (form) {
    // Drafts: every change is kept on the phone at once (typing, a moment later), so a reload or a
    // crash loses nothing.
    var saving = null;
    var writeDraft = function () {
      clearTimeout(saving);
      saving = null;
      return Store.saveDraft({ judge: judge, code: code, fields: fieldsOf(), editedAt: lastEdit, baseRevision: pageRevision });
    };
    form.addEventListener("change", function () { lastEdit = Date.now(); writeDraft(); });
    form.addEventListener("input", function (event) {
      lastEdit = Date.now();
      if (event.target.tagName !== "TEXTAREA") return;  // radios and boxes also fire "change"
      clearTimeout(saving);
      saving = setTimeout(writeDraft, 300);
    });
    self.addEventListener("pagehide", function () { if (saving) writeDraft(); });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var found = problems();
      showProblems(found);
      if (found.form.length) return;
      clearTimeout(saving);
      var item = { key: newKey(), judge: judge, code: code, url: location.pathname, teamName: teamName,
                   fields: fieldsOf(), editedAt: lastEdit || Date.now() };
      Store.enqueue(item).catch(function () {
        form.submit();  // the phone cannot keep it (storage full, a private window): send it as a plain form
        throw new Error("not kept");
      }).then(render).then(function () {
        if (self.navigator.serviceWorker && "SyncManager" in self) {  // an extra where the browser has it
          navigator.serviceWorker.ready.then(function (r) { return r.sync.register("expo-outbox"); }).catch(function () {});
        }
        return flush();
      }).then(function () { return afterOwnSubmit(item.key); }).catch(function () {});
    });
  }

  // ------------------------------------------------------------------------- restoring on load
  function restore() {
    if (!form) return Promise.resolve();
    return Promise.all([Store.items(judge), Store.draft(judge, code)]).then(function (found) {
      var item = found[0].filter(function (i) { return i.code === code; })
        .sort(function (a, b) { return b.queuedAt - a.queuedAt; })[0];
      var draft = found[1];
      if (draft && (!item || draft.editedAt > item.editedAt) &&
          (draft.baseRevision >= pageRevision || draft.editedAt > savedEdited)) {
        fill(draft.fields);
        lastEdit = draft.editedAt;
        notice("Your unsent picks for this team were kept on this phone: check them and submit.", "info");
      } else if (item && (item.state !== "sent" || item.revision > pageRevision)) {
        fill(item.fields);  // what is waiting (or was saved after this copy of the page was made)
        lastEdit = item.editedAt;
      } else if (draft) {
        Store.dropDraft(judge, code);  // older than the saved sheet: the saved one stands
      }
    });
  }

  // ------------------------------------------------------------------------------- signing out
  // Signing out clears this judge's drafts and kept pages. Unsent sheets stay (they are sent when the
  // judge signs in here again), but the judge is told first, and signing out needs the network.
  document.querySelectorAll("form.sign-out").forEach(function (out) {
    var warned = false;
    out.addEventListener("submit", function (event) {
      if (out.getAttribute("data-cleared")) return;
      event.preventDefault();
      var clearPages = function () {
        if (!self.caches) return null;
        return caches.keys().then(function (names) {
          return Promise.all(names.filter(function (n) { return n.indexOf("expo-pages-") === 0; })
            .map(function (n) { return caches.delete(n); }));
        });
      };
      var leave = function () {
        return Store.release(judge).then(clearPages).catch(function () {}).then(function () {
          out.setAttribute("data-cleared", "1");
          out.submit();
        });
      };
      (judge ? flush() : Promise.resolve({ offline: false })).then(function (summary) {
        if (summary && summary.offline && !navigator.onLine) {
          notice("No network: signing out needs the network. Your scores stay on this phone.", "error");
          return;
        }
        return Store.items(judge).then(function (items) {
          var unsent = items.filter(function (i) { return i.state !== "sent"; }).length;
          if (unsent && !warned) {
            warned = true;
            notice(unsent + (unsent === 1 ? " score is" : " scores are") + " not sent yet: they stay on this phone and " +
                   "are sent when you sign in here again with your badge. Tap Sign out again to sign out anyway.", "error");
            return;
          }
          return leave();
        });
      }, leave);
    });
  });

  // ------------------------------------------------------------------------------------- start
  if (syncButton) syncButton.addEventListener("click", function () {
    setState("Sending…", "pending");
    flush();
  });
  self.addEventListener("online", function () { flush(); });
  self.addEventListener("pageshow", function (e) { if (e.persisted) flush(); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") flush(); });
  try {
    new BroadcastChannel("expo-outbox").onmessage = function () { render(); };
  } catch (e) { /* no BroadcastChannel: the page shows its state at load and after its own sends */ }

  if (!navigator.onLine) notice("No network: this is the copy of the page kept on this phone. Scores you submit are kept and sent when the network returns.", "info");

  var ready = document.getElementById("offline-ready");
  if (navigator.serviceWorker && judge) {
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.type === "offline-ready" && e.data.judge === judge) {
        if (ready) {
          ready.textContent = "Ready without network: " + (e.data.pages - 1) + " of " + e.data.teams + " team forms are kept on this phone.";
          ready.hidden = false;
        }
        document.documentElement.setAttribute("data-offline-ready", String(e.data.pages - 1));
      }
    });
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      registration.active.postMessage({ type: "judge", judge: judge });
    }).catch(function () { /* no worker (a private window): drafts and the outbox still work */ });
  }

  // Tell the server this judge is at this table now (live routing keeps others away from a crowd).
  // Only for a page fresh from the server: a copy kept on the phone is not a visit.
  if (form && judge && navigator.onLine && Date.now() - renderedAt < 60000) {
    var token = form.querySelector("input[name=csrf_token]");
    fetch("/judge/visiting/" + encodeURIComponent(code), {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token ? token.value : "" }
    }).catch(function () { /* no network: nothing to tell */ });
  }

  (judge ? Store.claim(judge) : Promise.resolve())
    .then(restore)
    .then(render)
    .then(function () { return judge ? flush() : render(); });
})();
