// Service worker of /verify: keeps the verifier page, its scripts, the
// WebAssembly verifier and the trust bundle in a cache, so a checkpoint
// that loaded the page once can verify with no network at all.
//
// The server fills in VERSION and PRECACHE when it serves this file as
// /verify/sw.js: PRECACHE lists the versioned asset URLs the page uses, so a
// new release changes this file, which makes the browser install the new
// worker and drop the old cache.
"use strict";

const VERSION = "__VERSION__";
const PRECACHE = __PRECACHE__;
const CACHE = "vaxcert-verify-" + VERSION;
// Pages and the trust bundle are fetched fresh when the network answers in
// time, so keys and revocations stay current; otherwise the cached copy.
const FRESH = ["/verify", "/verify/trust.json"];
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(FRESH.concat(PRECACHE)))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((n) => n.startsWith("vaxcert-verify-") && n !== CACHE)
        .map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (FRESH.includes(url.pathname)) {
    event.respondWith(networkFirst(req, url.pathname));
    return;
  }
  if (PRECACHE.includes(url.pathname + url.search)) {
    event.respondWith(cacheFirst(req));
  }
});

async function networkFirst(req, key) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await withTimeout(fetch(req), NETWORK_TIMEOUT_MS);
    if (resp.ok) {
      await cache.put(key, resp.clone());
      return resp;
    }
    const cached = await cache.match(key, { ignoreVary: true });
    return cached || resp;
  } catch (err) {
    const cached = await cache.match(key, { ignoreVary: true });
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(req) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(req, { ignoreVary: true });
  if (cached) return cached;
  const resp = await fetch(req);
  if (resp.ok) await cache.put(req, resp.clone());
  return resp;
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("network timeout")), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}
