// The judge's phone in a hall with bad Wi-Fi. Served from the site root as /sw.js, so that its
// scope covers the team pages (/t/...) and the judge home (/judge). The server writes the release
// into VERSION: a new deployment is a new worker, with new caches; the old ones are deleted.
//
// - Static files: from the cache first (they change only with a release).
// - The judge's pages: from the network, with the cached copy as the fallback when the network is
//   gone or too slow. After sign-in the worker caches the judge home and the judge's route at once,
//   and the other teams' forms one at a time over the next minutes, while a judge page asks for them
//   (/judge/offline.json says which are which), so a QR code scanned offline still opens its form.
// - The cached pages belong to one judge. A page answered for another judge, or for nobody, empties
//   the cache first (the X-Expo-Judge header says who the server answered for).
// - The outbox (store.js) is sent when the worker starts, when a page asks, and on Background Sync
//   where the browser has it.
"use strict";
var VERSION = "__VERSION__";
var SHELL = "expo-shell-" + VERSION, PAGES = "expo-pages-" + VERSION;
var SHELL_FILES = __SHELL_FILES__;
var NETWORK_WAIT_MS = 4000;
importScripts("/static/judge/store.js?v=" + VERSION);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(SHELL_FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("expo-") === 0 && n !== SHELL && n !== PAGES; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
  // A release re-caches the owner's pages, without holding up the pages waiting for this worker.
  ExpoStore.owner().then(function (owner) { if (owner) precache(owner); }).catch(function () {});
});

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  } else if (request.mode === "navigate") {
    if (url.pathname.indexOf("/j/") === 0) {
      // A badge is being scanned: whoever's pages are kept must not be shown to the judge signing in.
      event.waitUntil(caches.delete(PAGES).then(function () { return ExpoStore.setMeta("owner", ""); }));
      return;
    }
    event.respondWith(page(request, url));
  }
});

// A request on a hall's Wi-Fi can hang for minutes: give up after `ms`.
function fetchWithin(url, options, ms) {
  var abort = new AbortController(), timer = setTimeout(function () { abort.abort(); }, ms);
  options.signal = abort.signal;
  return fetch(url, options).then(function (r) { return r.clone().blob().then(function () { clearTimeout(timer); return r; }); })
    .catch(function (error) { clearTimeout(timer); throw error; });
}

function isJudgePage(url) {
  return url.pathname === "/judge" || /^\/t\/[^/]+$/.test(url.pathname);
}

function cacheKey(url) {
  return url.origin + (url.pathname.indexOf("/t/") === 0 ? url.pathname.toUpperCase().replace("/T/", "/t/") : url.pathname);
}

// Network first, the cached copy if the network fails or keeps us waiting.
function page(request, url) {
  var network = fetch(request).then(function (response) {
    return own(response.headers.get("X-Expo-Judge")).then(function (owner) {
      // A page with a query (?saved=1: "where next" after a save) is not the copy to keep of the form.
      if (response.ok && isJudgePage(url) && !url.search && owner && response.headers.get("X-Expo-Judge") === owner) {
        var copy = response.clone();
        caches.open(PAGES).then(function (cache) { return keep(cache, cacheKey(url), copy, owner); });
      }
      return response;
    });
  });
  if (!isJudgePage(url)) return network;
  // Only a copy made for the judge this phone belongs to (as the last answer from the server said).
  var fallback = function () {
    return Promise.all([caches.open(PAGES).then(function (cache) { return cache.match(cacheKey(url)); }),
                        ExpoStore.owner()]).then(function (found) {
      var hit = found[0], owner = found[1];
      return hit && owner && hit.headers.get("X-Expo-Judge") === owner ? hit : undefined;
    });
  };
  return new Promise(function (resolve, reject) {
    var settled = false;
    var timer = setTimeout(function () {
      fallback().then(function (hit) { if (hit && !settled) { settled = true; resolve(hit); } });
    }, NETWORK_WAIT_MS);
    network.then(function (response) {
      clearTimeout(timer);
      if (!settled) { settled = true; resolve(response); }
    }, function (error) {
      clearTimeout(timer);
      fallback().then(function (hit) {
        if (settled) return;
        settled = true;
        resolve(hit || offlinePage(url));
      }, function () { if (!settled) { settled = true; reject(error); } });
    });
  });
}

function offlinePage(url) {
  var body = "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width, initial-scale=1'>" +
    "<title>Offline · Expo Judge</title><link rel=stylesheet href='/static/app.css'>" +
    "<main id=main><section class=card><h1>No network, and this page is not on this phone</h1>" +
    "<p class='sync-state sync-error' role=status>Not saved: nothing was sent from this page.</p>" +
    "<p>This phone keeps the pages of the judge signed in on it. Go back to <a href='/judge'>your teams</a>, " +
    "or try again when the network returns.</p></section></main></html>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// Whom the cached pages belong to. A response for another judge (or for nobody: signed out, badge
// withdrawn) empties the page cache before anything else is cached.
// Drafts of the judge whose session merely ended stay (a new badge brings them back); the next
// judge to sign in removes them (ExpoStore.claim).
function own(judge) {
  if (judge === null) return ExpoStore.owner();  // a response that does not say: no change
  return ExpoStore.owner().then(function (owner) {
    if (owner === judge) return owner;
    return caches.delete(PAGES).then(function () {
      return judge ? ExpoStore.claim(judge) : ExpoStore.setMeta("owner", "");
    }).then(function () { return judge; });
  });
}

// Put a judge's page in the cache only while the phone still belongs to that judge: a page fetched
// just before the judge signed out must not be written back after the sign-out emptied the cache.
function keep(cache, key, response, judge) {
  return ExpoStore.owner().then(function (owner) {
    if (owner === judge) return cache.put(key, response);
  });
}

var precaching = null;
// What is still to keep for the owner (protocol 2 of /judge/offline.json): the `later` pages, taken
// one at a time when a judge page asks ("precache-more"), from a moment drawn once per sign-in in
// `later_start_s` (kept with the owner in ExpoStore, so that the judge walking from page to page does
// not start the wait again), so that a hall full of phones signing in at once asks the server for
// their own route first and the rest of the forms over the following minutes. The manifest is asked
// for again after MANIFEST_MAX_AGE_MS only: not on every page the judge opens.
var later = null;
var MANIFEST_MAX_AGE_MS = 5 * 60 * 1000;

function laterStart(judge, manifest) {
  return ExpoStore.getMeta("later-start").then(function (kept) {
    if (kept && kept.judge === judge) return kept.at;
    var window_ = manifest.later_start_s || [20, 120];
    var at = Date.now() + (window_[0] + Math.random() * Math.max(0, window_[1] - window_[0])) * 1000;
    return ExpoStore.setMeta("later-start", { judge: judge, at: at }).then(function () { return at; });
  }).catch(function () { return Date.now(); });
}

// Fetch one page for the offline copy and keep it. `hit`: the copy already kept, revalidated with its
// ETag when `force` is set (a 304 keeps it). Resolves to whether the phone has the page afterwards.
function keepPage(cache, path, judge, hit, force) {
  var url = new URL(path, self.location.origin);
  if (hit && !force) return Promise.resolve(true);
  // Marked as a copy for offline use: the server counts no visit to the table for it.
  var headers = { "X-Expo-Precache": "1" };
  if (hit && hit.headers.get("ETag")) headers["If-None-Match"] = hit.headers.get("ETag");
  return fetchWithin(url, { credentials: "same-origin", headers: headers }, 15000).then(function (response) {
    if (response.status === 304 && hit) return true;
    if (response.ok && response.headers.get("X-Expo-Judge") === judge) {
      return keep(cache, cacheKey(url), response, judge).then(function () { return true; });
    }
    return false;
  }, function () { return !!hit; /* offline midway: what is cached stays cached */ });
}

// How many of `paths` the phone keeps.
function countKept(cache, paths) {
  return Promise.all(paths.map(function (path) {
    return cache.match(cacheKey(new URL(path, self.location.origin)));
  })).then(function (hits) { return hits.filter(Boolean).length; });
}

function report(cache, judge, manifest) {
  var now = manifest.now || manifest.urls;
  return Promise.all([countKept(cache, now), countKept(cache, manifest.urls)]).then(function (counts) {
    var kept = counts[1];
    return tell({ type: "offline-ready", judge: judge, pages: counts[0], teams: manifest.urls.length - 1,
                  now: (manifest.now || manifest.urls).length - 1, kept: kept - 1,
                  later: later ? later.paths.length : 0,
                  later_start_s: manifest.later_start_s || [20, 120], later_gap_s: manifest.later_gap_s || 6 });
  });
}

// Cache the judge home and the judge's route (`now`) for the signed-in judge, 3 at a time, and note
// the other forms (`later`) for precacheMore. Pages already kept are fetched again only when forced.
// Reports to the pages how many forms are on the phone.
function precache(judge, force) {
  if (precaching) return precaching;
  judge = String(judge);
  var fresh = later && later.judge === judge && !force && Date.now() - later.fetchedAt < MANIFEST_MAX_AGE_MS;
  var asked = fresh ? Promise.resolve(later.manifest)
    : fetchWithin("/judge/offline.json", { credentials: "same-origin", cache: "no-store" }, 10000)
      .then(function (r) { return r.ok ? r.json() : null; });
  precaching = asked
    .then(function (manifest) {
      if (!manifest || String(manifest.judge_id) !== judge) return null;
      var now = (manifest.now || manifest.urls).slice();
      if (!fresh) later = { judge: judge, paths: (manifest.later || []).slice(), manifest: manifest, fetchedAt: Date.now() };
      return caches.open(PAGES).then(function (cache) {
        var queue = now.slice();
        var worker = function () {
          var path = queue.shift();
          if (!path) return null;
          return Promise.all([cache.match(cacheKey(new URL(path, self.location.origin))), ExpoStore.owner()])
            .then(function (found) {
              if (found[1] !== judge) { queue = []; return null; }  // signed out meanwhile: stop
              return keepPage(cache, path, judge, found[0], force);
            }).then(worker);
        };
        return Promise.all([worker(), worker(), worker()]).then(function () {
          return report(cache, judge, manifest);
        });
      });
    })
    .catch(function () { return null; })
    .then(function (r) { precaching = null; return r; });
  return precaching;
}

// Keep the next `later` page the phone does not have yet (one request at most), then report.
function precacheMore(judge) {
  judge = String(judge);
  var ready = later && later.judge === judge ? Promise.resolve() : precache(judge);
  return ready.then(function () {
    if (!later || later.judge !== judge) return null;
    return Promise.all([caches.open(PAGES), ExpoStore.owner(), laterStart(judge, later.manifest)]).then(function (found) {
      var cache = found[0];
      if (found[1] !== judge || Date.now() < found[2]) return null;  // not this phone's moment yet
      var step = function () {
        var path = later.paths.shift();
        if (!path) return report(cache, judge, later.manifest);
        return cache.match(cacheKey(new URL(path, self.location.origin))).then(function (hit) {
          if (hit) return step();  // kept already (the judge opened it): the next one
          return keepPage(cache, path, judge, null, false).then(function () {
            return report(cache, judge, later.manifest);
          });
        });
      };
      return step();
    });
  }).catch(function () { return null; });
}

function tell(message) {
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
    clients.forEach(function (c) { c.postMessage(message); });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var work = null;
  if (data.type === "judge") {
    // A judge page loaded: it says who is signed in. Cache that judge's pages, send the outbox.
    work = own(String(data.judge)).then(function (owner) { return precache(owner); })
      .then(function () { return ExpoStore.flush(); });
  } else if (data.type === "precache-more") {
    work = ExpoStore.owner().then(function (owner) { if (owner && owner === String(data.judge)) return precacheMore(owner); });
  } else if (data.type === "flush") {
    work = ExpoStore.flush();
  } else if (data.type === "signed-out") {
    // The judge signs out (phone.js has removed their sheets, the owner with them): their kept pages
    // go too, once any caching in progress is over. The page waits for the answer on its port.
    later = null;  // no page more is fetched for them (a page kept now would be dropped anyway)
    work = (precaching || Promise.resolve()).then(function () { return caches.delete(PAGES); })
      .then(function () { return ExpoStore.setMeta("owner", ""); })
      .then(function () { if (event.ports[0]) event.ports[0].postMessage("done"); });
  }
  if (work) event.waitUntil(work);
});

// Background Sync (Chromium only; never relied on): a failed send rejects, so the browser tries again later.
self.addEventListener("sync", function (event) {
  if (event.tag !== "expo-outbox") return;
  event.waitUntil(ExpoStore.flush().then(function (summary) {
    if (summary.offline) throw new Error("still offline");
  }));
});

// The worker has started (a page load, a push of a new release, a sync): send what is waiting.
ExpoStore.flush().catch(function () {});
