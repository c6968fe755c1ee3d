// Shared by every page: interface strings, calls to the JSON API with the
// CSRF token, and small DOM helpers. No framework: the pages are small, and
// every rule (eligibility, capacity, dose intervals) lives on the server.
"use strict";

(() => {
  const stringsEl = document.getElementById("strings");
  const table = stringsEl ? JSON.parse(stringsEl.textContent) : {};
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');

  // t("key", {name: "x"}) → the page language's text with {name} filled in.
  function t(key, params) {
    let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
    if (params) {
      text = text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
    }
    return text;
  }

  // ApiError carries an RFC 9457 problem document.
  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || t("common.error"));
      this.status = status;
      this.problem = problem || {};
    }
  }

  // api(method, path, body, headers) calls the JSON API as the logged-in
  // page: the session cookie goes along by itself; the CSRF token is added
  // to every state-changing call. A 401 sends the reader to the login page.
  async function api(method, path, body, headers) {
    const h = Object.assign({ Accept: "application/json" }, headers || {});
    const init = { method, headers: h, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET" && method !== "HEAD") {
      h["X-CSRF-Token"] = csrfMeta ? csrfMeta.content : "";
    }
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, { detail: t("common.offline") });
    }
    const type = resp.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await resp.json().catch(() => null) : null;
    if (!resp.ok) {
      if (resp.status === 401 && !path.startsWith("/web/") && !path.startsWith("/api/v1/auth/")) {
        location.assign("/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search));
      }
      throw new ApiError(resp.status, data);
    }
    return data;
  }

  // el("tag.class", {attr: v}, children…) builds DOM without innerHTML, so
  // no value from the server is ever parsed as markup.
  function el(spec, attrs, ...children) {
    const [tag, ...classes] = spec.split(".");
    const node = document.createElement(tag || "div");
    if (classes.length) node.className = classes.join(" ");
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // show(node, message, kind) fills a notice area and reveals it.
  function show(node, message, kind) {
    if (!node) return;
    node.textContent = message || "";
    node.hidden = !message;
    if (kind) node.dataset.kind = kind;
  }

  // formatDate("2021-05-03") → "3 May 2021" in the page's language.
  function formatDate(iso) {
    if (!iso) return "";
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    if (!m) return iso;
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang + "-IN", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(d);
    } catch (e) {
      return iso;
    }
  }

  // busy(button, fn) disables the button while fn runs, so a double click
  // cannot send a request twice.
  async function busy(button, fn) {
    if (button.disabled) return undefined;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      return await fn();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  window.vc = { t, api, ApiError, el, show, formatDate, busy };
})();
