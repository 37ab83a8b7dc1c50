// The phone's own store, shared by the judge's pages and the service worker (importScripts):
// drafts (what the judge picked but did not submit) and the outbox (submitted sheets, kept until
// the server has answered). Everything is in IndexedDB, which survives reloads, crashes and going
// offline. The server makes delivery exactly once: every sheet carries its own idempotency key and
// the time it was edited on the phone, so a replay is recognised and an older edit never wins.
(function (root) {
  "use strict";
  var DB = "expo-judge", VERSION = 1, LOCK = "expo-outbox";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore("drafts", { keyPath: "id" });      // id = judge + ":" + team code
        var out = db.createObjectStore("outbox", { keyPath: "key" });  // key = the idempotency key
        out.createIndex("judge", "judge");
        db.createObjectStore("meta", { keyPath: "name" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // Run fn(stores) in one transaction; resolves with fn's result once the transaction commits.
  function tx(names, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(names, mode), result;
        var stores = {};
        names.forEach(function (n) { stores[n] = t.objectStore(n); });
        Promise.resolve(fn(stores)).then(function (r) { result = r; }, reject);
        t.oncomplete = function () { db.close(); resolve(result); };
        t.onerror = t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }

  function all(store) { return req(store.getAll()); }

  var Store = {
    // ---- who the phone belongs to: the signed-in judge (an id), or "" when nobody is signed in
    owner: function () {
      return tx(["meta"], "readonly", function (s) {
        return req(s.meta.get("owner")).then(function (row) { return row ? row.value : ""; });
      });
    },
    // A judge signs in on this phone: drafts of any other judge are deleted (never shown to the
    // next judge). Other judges' queued sheets stay, dormant: they are only ever sent under their
    // own judge's session. Returns whether the owner changed.
    claim: function (judge) {
      judge = String(judge || "");
      return tx(["meta", "drafts"], "readwrite", function (s) {
        return req(s.meta.get("owner")).then(function (row) {
          var before = row ? row.value : "";
          if (before === judge) return false;
          s.meta.put({ name: "owner", value: judge });
          return all(s.drafts).then(function (drafts) {
            drafts.forEach(function (d) { if (d.judge !== judge) s.drafts.delete(d.id); });
            return true;
          });
        });
      });
    },
    // Signing out of a shared phone: everything this judge left in the store goes (queued, refused,
    // sent and draft sheets: their comments and private notes with them), and nobody owns the phone.
    // Another judge's dormant sheets stay. Waits for a send in progress (the outbox lock), so that a
    // sheet being sent is never written back after it was removed.
    // keepUnsent: the judge's session had already ended, so their unsent sheets stay (dormant, sent
    // when a new badge signs them in here); only the sent ones and the drafts go.
    forget: function (judge, keepUnsent) {
      judge = String(judge);
      var run = function () {
        return tx(["meta", "drafts", "outbox"], "readwrite", function (s) {
          s.meta.put({ name: "owner", value: "" });
          return Promise.all([all(s.outbox), all(s.drafts)]).then(function (found) {
            found[0].forEach(function (i) {
              if (i.judge === judge && !(keepUnsent && i.state !== "sent")) s.outbox.delete(i.key);
            });
            found[1].forEach(function (d) { if (d.judge === judge || !d.judge) s.drafts.delete(d.id); });
          });
        });
      };
      if (root.navigator && root.navigator.locks) return root.navigator.locks.request(LOCK, run);
      return run();
    },
    setMeta: function (name, value) {
      return tx(["meta"], "readwrite", function (s) { s.meta.put({ name: name, value: value }); });
    },
    getMeta: function (name) {  // e.g. "later-start": when the service worker keeps the other forms
      return tx(["meta"], "readonly", function (s) {
        return req(s.meta.get(name)).then(function (row) { return row ? row.value : undefined; });
      });
    },

    // ---- drafts
    saveDraft: function (draft) {
      draft.id = draft.judge + ":" + draft.code;
      return tx(["drafts"], "readwrite", function (s) { s.drafts.put(draft); });
    },
    draft: function (judge, code) {
      return tx(["drafts"], "readonly", function (s) { return req(s.drafts.get(judge + ":" + code)); });
    },
    dropDraft: function (judge, code) {
      return tx(["drafts"], "readwrite", function (s) { s.drafts.delete(judge + ":" + code); });
    },
    drafts: function () { return tx(["drafts"], "readonly", function (s) { return all(s.drafts); }); },

    // ---- the outbox
    // Queue a submitted sheet. It replaces any older unsent sheet of the same judge for the same
    // team (the newer edit is the one the judge wants), and the draft it came from.
    enqueue: function (item) {
      item.state = "pending";
      item.queuedAt = Date.now();
      return tx(["outbox", "drafts"], "readwrite", function (s) {
        return req(s.outbox.index("judge").getAll(item.judge)).then(function (items) {
          items.forEach(function (old) {
            if (old.code === item.code && old.state !== "sent") s.outbox.delete(old.key);
          });
          s.outbox.put(item);
          s.drafts.delete(item.judge + ":" + item.code);
        });
      });
    },
    items: function (judge) {
      return tx(["outbox"], "readonly", function (s) {
        var r = judge === undefined ? s.outbox.getAll() : s.outbox.index("judge").getAll(String(judge));
        return req(r).then(function (items) {
          return items.sort(function (a, b) { return a.editedAt - b.editedAt; });
        });
      });
    },
    update: function (key, changes) {
      return tx(["outbox"], "readwrite", function (s) {
        return req(s.outbox.get(key)).then(function (item) {
          if (!item) return;
          Object.keys(changes).forEach(function (k) { item[k] = changes[k]; });
          s.outbox.put(item);
        });
      });
    },
    // Answered sheets are kept a day (to correct a page copy older than the answer), then dropped.
    prune: function () {
      var cutoff = Date.now() - 24 * 3600 * 1000;
      return tx(["outbox"], "readwrite", function (s) {
        return all(s.outbox).then(function (items) {
          items.forEach(function (i) { if (i.state === "sent" && i.answeredAt < cutoff) s.outbox.delete(i.key); });
        });
      });
    },

    // ---- sending
    // Send every waiting sheet of the judge whose session this browser holds right now, oldest edit
    // first. The judge is whoever the server says (GET /judge/csrf), never whoever queued last, so
    // one judge's sheets are never sent under another judge's session. Returns a summary.
    flush: function () {
      var run = function () { return send(); };
      if (root.navigator && root.navigator.locks) return root.navigator.locks.request(LOCK, run);
      return run();
    },
  };

  function announce(summary) {
    try { new BroadcastChannel(LOCK).postMessage(summary); } catch (e) { /* old browser: pages poll on load */ }
    return summary;
  }

  // A request on a hall's Wi-Fi can hang for minutes: give up after `ms` (the body included) and try
  // again later. Resolves with {status, ok, body}; body is the parsed JSON, or {} for anything else.
  function fetchJson(url, options, ms) {
    var abort = root.AbortController ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, ms) : null;
    if (abort) options.signal = abort.signal;
    return fetch(url, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        clearTimeout(timer);
        return { status: r.status, ok: r.ok, body: body };
      });
    }).catch(function (error) { clearTimeout(timer); throw error; });
  }

  function fetchToken() {
    return fetchJson("/judge/csrf", { credentials: "same-origin", cache: "no-store",
                                      headers: { Accept: "application/json" } }, 10000);
  }

  // Retry a refused sheet only where trying again can change the answer: a session that ended (the
  // judge may scan a new badge) or scoring that was closed (it may reopen). A sheet the server found
  // wrong (422) waits for the judge to correct it.
  function retryable(item) {
    return item.state === "pending" || item.state === "sending" || (item.state === "refused" && item.retry);
  }

  function send() {
    var summary = { offline: false, sent: 0, refused: 0, judge: null };
    return Store.items().then(function (items) {
      if (!items.some(retryable)) return null;  // nothing to send: no request at all
      return fetchToken();
    }).then(function (answer) {
      if (answer === null) return summary;
      if (answer.status === 401) {
        // Nobody is signed in: the owner's waiting sheets say so, and stay.
        return Store.owner().then(function (owner) {
          return Store.items(owner).then(function (items) {
            return Promise.all(items.filter(retryable).map(function (i) {
              summary.refused++;
              return Store.update(i.key, { state: "refused", retry: true, reason: answer.body.reason });
            }));
          });
        }).then(function () { return summary; });
      }
      if (answer.status !== 200) { summary.offline = true; return summary; }
      var judge = String(answer.body.judge_id), token = answer.body.csrf_token;
      summary.judge = judge;
      return Store.items(judge).then(function (items) {
        var queue = items.filter(retryable);
        var next = function () {
          var item = queue.shift();
          if (!item) return summary;
          return post(item, token).then(function (result) {
            if (result === "offline") { summary.offline = true; return summary; }
            if (result === "sent") summary.sent++; else summary.refused++;
            return next();
          });
        };
        return next();
      });
    }, function () { summary.offline = true; return summary; })
      .then(function (s) { return Store.prune().then(function () { return announce(s); }); });
  }

  function post(item, token) {
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    body.set("csrf_token", token);
    body.set("idempotency_key", item.key);
    body.set("edited_at", String(item.editedAt));
    body.set("judge_id", item.judge);  // the server refuses a sheet made by another judge than the session's
    return Store.update(item.key, { state: "sending", tries: (item.tries || 0) + 1, triedAt: Date.now() })
      .then(function () {
        return fetchJson(item.url, { method: "POST", body: body, credentials: "same-origin", cache: "no-store",
                                     headers: { Accept: "application/json", "Idempotency-Key": item.key } }, 20000);
      })
      .then(function (r) {
        var answer = r.body;
        if (r.ok && answer.status) {
          return Store.update(item.key, { state: "sent", answeredAt: Date.now(), outcome: answer.status,
                                          message: answer.message, savedText: answer.saved_text,
                                          revision: answer.revision, reason: null })
            .then(function () { return "sent"; });
        }
        if (answer.status === "not_saved" || answer.status === "refused") {
          // Kept, marked with the server's reason. 422: the sheet itself was refused.
          return Store.update(item.key, { state: "refused", retry: r.status !== 422, reason: answer.reason,
                                          answeredAt: Date.now() })
            .then(function () { return "refused"; });
        }
        // A server error or an answer from something in between (a captive portal): try later.
        return Store.update(item.key, { state: "pending" }).then(function () { return "offline"; });
      }, function () {
        return Store.update(item.key, { state: "pending" }).then(function () { return "offline"; });
      });
  }

  root.ExpoStore = Store;
})(self);
