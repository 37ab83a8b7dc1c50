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
  var gone = false;           // the judge has signed out: nothing more is written to the phone

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
      if (review && shownKeys !== null && !gone) return unsentOf(judge).then(renderReview);
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
          if (waiting && judge && !gone) {
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
        location.replace(location.pathname + "?saved=1");  // the server says where next (and counts no new visit)
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
      if (gone) return Promise.resolve();
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
  // A phone is shared: after sign-out nothing this judge wrote may be left on it. Signing out first
  // sends what waits, as every page does. Sheets the server still does not have (refused, or not
  // sent) are shown on the sign-out page (GET /logout), each team with its scores, comment and
  // private note as plain text to copy, and go only when the judge taps "Remove ... and sign out".
  // Then everything of this judge goes: queued, refused, sent and draft sheets (IndexedDB), this
  // tab's sessionStorage, localStorage, and the pages kept for offline use (the worker's cache).
  // Without script the form posts as it is (a phone without script keeps nothing).
  var review = document.getElementById("unsent-review");
  var shownKeys = null;  // the keys of the unsent sheets the judge has been shown on this page
  var signingOut = false;
  var SIGNED_OUT = "expo-sign-out";

  function unsentOf(who) {
    return Store.items(who).then(function (items) {
      return items.filter(function (i) { return i.state !== "sent"; });
    });
  }

  // Who the server says is signed in, with a fresh token for the sign-out form; and proof that the
  // network reaches the server before anything is removed. Rejects when it does not.
  function askServer() {
    var abort = self.AbortController ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, 10000) : null;
    return fetch("/judge/csrf", { credentials: "same-origin", cache: "no-store", signal: abort ? abort.signal : undefined,
                                  headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        clearTimeout(timer);
        if (r.status !== 200 && r.status !== 401) throw new Error("no answer");
        return { status: r.status, body: body };
      });
    }, function (error) { clearTimeout(timer); throw error; });
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function field(item, name) {
    var pair = item.fields.filter(function (p) { return p[0] === name; })[0];
    return pair ? pair[1] : "";
  }

  // One sheet the server does not have, every word of it as plain, selectable text.
  function sheetCard(item, criteria, n) {
    var card = make("section", "card unsent-sheet");
    var id = "unsent-" + n;
    card.setAttribute("aria-labelledby", id);
    var head = make("h3", "", item.teamName || item.code);
    head.id = id;
    card.appendChild(head);
    card.appendChild(make("p", "sync-state sync-error", item.state === "refused"
      ? "Not saved: " + (item.reason || "the server refused this sheet.")
      : "Not saved: not sent yet (the server could not be reached)."));
    var scores = make("ul", "unsent-scores");
    var line = function (label, value) {  // "Criterion: 4", a line as it reads when copied
      var li = make("li", "", label + ": ");
      li.appendChild(make("strong", "", value));
      scores.appendChild(li);
    };
    if (field(item, "absent")) line("Instead of a score", "Team absent");
    else if (field(item, "conflict")) line("Instead of a score", "Conflict of interest");
    else criteria.forEach(function (c) { line(c[1], field(item, "criterion_" + c[0]) || "not picked"); });
    card.appendChild(scores);
    [["comment", "Comment for the team"], ["private_note", "Private note for the organisers"]].forEach(function (f) {
      card.appendChild(make("h4", "criterion-name", f[1]));
      var text = field(item, f[0]);
      var box = make("div", "comment");
      box.appendChild(make("p", text ? "copy-text" : "muted", text || "(none)"));
      card.appendChild(box);
    });
    if (item.state === "refused" && !item.retry) {  // a sheet the judge can still correct and submit
      var fix = make("a", "button-secondary", "Correct this sheet instead");
      fix.href = item.url || "/t/" + encodeURIComponent(item.code);
      var p = make("p");
      p.appendChild(fix);
      card.appendChild(p);
    }
    return card;
  }

  // The sign-out page: what this phone still holds of the judge's that the server does not have.
  // focus: the list appears after a tap on this page (at load the page reads from the top anyway).
  function renderReview(unsent, focus) {
    if (!review) return;
    var checking = document.getElementById("sign-out-checking");
    var button = document.getElementById("sign-out-button");
    var keys = unsent.map(function (i) { return i.key; }).sort().join(" ");
    if (shownKeys !== null && keys === shownKeys.slice().sort().join(" ")) return;  // as shown: keep the reader's place
    shownKeys = unsent.map(function (i) { return i.key; });
    review.textContent = "";
    review.hidden = !unsent.length;
    if (checking) {  // the page's status line says what was found
      checking.hidden = !!unsent.length;
      checking.textContent = "No score sheets are waiting on this phone: the server has everything you submitted. " +
        "Signing out also removes your unfinished picks and the pages kept for offline use.";
    }
    if (!unsent.length) {
      if (button) { button.textContent = "Sign out"; button.className = "button-primary button-wide"; }
      return;
    }
    var criteria = [];
    try { criteria = JSON.parse(review.getAttribute("data-criteria") || "[]"); } catch (e) { /* names unknown */ }
    var one = unsent.length === 1;
    var summary = make("section", "form-errors unsent-summary");
    var title = make("h2", "", "Not saved: " + unsent.length + (one ? " score sheet" : " score sheets"));
    title.id = "unsent-title";
    title.tabIndex = -1;
    summary.appendChild(title);
    summary.appendChild(make("p", "", "The server does not have " + (one ? "this sheet" : "these sheets") + ". Signing out " +
      "removes " + (one ? "it" : "them") + " from this phone, with everything else of yours on it. To keep what you wrote, " +
      "select the text below and copy it first, or stay signed in."));
    review.appendChild(summary);
    unsent.forEach(function (item, n) { review.appendChild(sheetCard(item, criteria, n)); });
    if (button) {
      button.textContent = "Remove " + (one ? "this unsaved sheet" : "these " + unsent.length + " unsaved sheets") + " and sign out";
      button.className = "button-danger button-wide";
    }
    if (focus) title.focus();
  }

  // The pages kept for offline use (they hold the saved comments and notes) go, in the page and in the worker.
  function forgetPages() {
    var drop = function () {
      if (!self.caches) return null;
      return caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) { return n.indexOf("expo-pages-") === 0; })
          .map(function (n) { return caches.delete(n); }));
      });
    };
    var worker = new Promise(function (resolve) {  // the worker may be caching pages right now: it says when it is done
      if (!navigator.serviceWorker || !self.MessageChannel) return resolve();
      setTimeout(resolve, 3000);
      navigator.serviceWorker.getRegistration("/").then(function (registration) {
        if (!registration || !registration.active) return resolve();
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { resolve(); };
        registration.active.postMessage({ type: "signed-out" }, [channel.port2]);
      }, resolve);
    });
    return Promise.all([drop(), worker]).then(drop);
  }

  // Remove everything of this judge from the phone, then end the session on the server: if that fails,
  // the judge is still signed in on a phone that holds nothing of theirs. keepUnsent: the session had
  // already ended (a new badge sends those sheets), so only what is saved or unfinished goes.
  function leave(out, keepUnsent) {
    gone = true;
    clearTimeout(retryTimer);
    var wiped = Store.forget(judge, keepUnsent).catch(function () {}).then(forgetPages).catch(function () {})
      .then(function () {
        try { sessionStorage.clear(); } catch (e) { /* no storage */ }
        try { localStorage.clear(); } catch (e) { /* no storage */ }
      });
    return wiped.then(function () {
      return fetch(out.action, { method: "POST", body: new URLSearchParams(new FormData(out)), credentials: "same-origin",
                                 cache: "no-store", redirect: "manual" });
    }).then(function (r) {
      // (with the session already ended, any answer will do: nobody is signed in)
      if (r.type !== "opaqueredirect" && !r.ok && !keepUnsent) throw new Error("refused");
      if (review) { review.textContent = ""; review.hidden = true; }
      if (signedOutChannel) signedOutChannel.postMessage({ judge: judge });  // (a channel never hears itself)
      location.replace("/");  // where the server's answer leads, with its "You are signed out."
    }).catch(function () {
      notice("Everything of yours is removed from this phone, but the sign-out did not reach the server: you are " +
             "still signed in. Tap Sign out again when the network is back.", "error");
    });
  }

  function signOut(out) {
    if (signingOut) return;
    signingOut = true;
    flush().catch(function () {}).then(askServer).then(function (answer) {
      if (answer.status === 200 && String(answer.body.judge_id) !== judge) {
        location.reload();  // another judge signed in since this page was made: start again as them
        return;
      }
      if (answer.status === 200 && out.elements.csrf_token) out.elements.csrf_token.value = answer.body.csrf_token;
      if (answer.status === 401) return leave(out, true);  // the session had ended: nothing unsent is lost
      return unsentOf(judge).then(function (unsent) {
        var seen = shownKeys || [];
        if (unsent.some(function (i) { return seen.indexOf(i.key) < 0; })) {
          if (!review) { location.assign(out.action); return; }  // the sign-out page shows them first
          renderReview(unsent, true);
          notice("Check the sheets listed here first: they are not saved.", "error");
          return;
        }
        return leave(out, false);
      });
    }, function () {
      notice("No network: signing out needs the network. Nothing was removed: your scores stay on this phone " +
             "and are sent when the network returns.", "error");
    }).then(function () { signingOut = false; });
  }

  if (judge) document.querySelectorAll("form.sign-out").forEach(function (out) {
    out.addEventListener("submit", function (event) {
      event.preventDefault();
      signOut(out);
    });
  });

  // The judge signed out in another tab: this one keeps nothing more and shows nothing more (a page of
  // its own, with no request: the server's "You are signed out." is for the tab that signed out).
  var signedOutChannel = null;
  try {
    signedOutChannel = new BroadcastChannel(SIGNED_OUT);
    signedOutChannel.onmessage = function (e) {
      if (!judge || !e.data || String(e.data.judge) !== judge || gone) return;
      gone = true;
      clearTimeout(retryTimer);
      clearTimeout(saving);
      try { sessionStorage.clear(); } catch (err) { /* no storage */ }
      var main = document.getElementById("main") || document.body;
      main.textContent = "";
      var card = make("section", "card");
      card.appendChild(make("h1", "", "Signed out"));
      card.appendChild(make("p", "", "You signed out of this phone in another tab: nothing of yours is kept on it."));
      var home = make("a", "button-secondary", "Expo Judge home");
      home.href = "/";
      var p = make("p");
      p.appendChild(home);
      card.appendChild(p);
      main.appendChild(card);
      document.title = "Signed out · Expo Judge";
    };
  } catch (e) { /* no BroadcastChannel: that tab's next request finds the session ended */ }

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
  // The other teams' forms, one at a time while a judge page is open: the service worker keeps them
  // from a moment it drew at sign-in, so a hall full of phones that signed in at the same moment spreads
  // these requests over minutes (protocol 2). The page only asks, every gap, from its first second.
  var trickle = null;
  function keepTheRest(d) {
    if (trickle || gone) return;
    var gap = Math.max(1, d.later_gap_s || 6) * 1000;
    trickle = setTimeout(function step() {
      if (gone || trickle === "done") return;
      if (document.visibilityState === "visible" && navigator.onLine && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "precache-more", judge: judge });
      }
      if (trickle !== "done") trickle = setTimeout(step, gap);
    }, gap);
  }
  if (navigator.serviceWorker && judge) {
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.type === "offline-ready" && e.data.judge === judge) {
        var d = e.data, kept = d.kept === undefined ? d.pages - 1 : d.kept;
        if (ready) {
          ready.textContent = d.now === undefined || d.now >= d.teams
            ? "Ready without network: " + (d.pages - 1) + " of " + d.teams + " team forms are kept on this phone."
            : "Ready without network: the " + (d.pages - 1) + " team" + (d.pages === 2 ? "" : "s") + " of your route " +
              (d.pages === 2 ? "is" : "are") + " kept on this phone (" + kept + " of " + d.teams + " team forms so far).";
          ready.hidden = false;
        }
        document.documentElement.setAttribute("data-offline-ready", String(d.pages - 1));
        document.documentElement.setAttribute("data-offline-kept", String(kept));
        if (d.later > 0 && kept < d.teams) keepTheRest(d);
        else if (kept >= d.teams && trickle) { clearTimeout(trickle); trickle = "done"; }
      }
    });
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      registration.active.postMessage({ type: "judge", judge: judge });
    }).catch(function () { /* no worker (a private window): drafts and the outbox still work */ });
  }

  var checking = document.getElementById("sign-out-checking");
  if (review && judge && checking) checking.hidden = false;
  (judge ? Store.claim(judge) : Promise.resolve())
    .then(restore)
    .then(render)
    .then(function () { return judge ? flush() : render(); })
    .catch(function () {})
    .then(function () { if (review && judge && !gone) return unsentOf(judge).then(renderReview); });
})();
