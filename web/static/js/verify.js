// The checkpoint verifier. Certificates are checked on this device by the
// Go verifier compiled to WebAssembly; the only requests this page makes
// are for itself, its scripts, the module and the trust bundle, so nothing
// about a scanned certificate ever leaves the device. A service worker
// keeps all of them, so after one visit the page works with no network.
"use strict";

(() => {
  const { t, el, show, formatDate } = window.vc;
  const $ = (id) => document.getElementById(id);
  const root = $("verifier");
  const statusEl = $("status");
  const trustEl = $("trust");
  const scanBtn = $("scan");
  const fileInput = $("file");
  const camera = $("camera");
  const video = $("video");
  const errorBox = $("error");
  const intro = $("intro");
  const result = $("result");

  // How long a result stays up. ?clear=N (3…600) shortens it for a drill.
  const clearParam = Number(new URLSearchParams(location.search).get("clear"));
  const clearSeconds = clearParam >= 3 && clearParam <= 600 ? clearParam : Number(root.dataset.clearSeconds) || 30;

  const state = { wasm: false, trust: false, offline: false, failed: "" };

  function updateStatus() {
    if (state.failed) {
      statusEl.dataset.state = "failed";
      statusEl.textContent = t("verify.failed", { error: state.failed });
      return;
    }
    if (!state.wasm || !state.trust) return;
    statusEl.dataset.state = "ready";
    statusEl.textContent = state.offline ? t("verify.ready") : t("verify.ready_online");
    if (!root.dataset.ready) root.dataset.readyMs = String(Math.round(performance.now()));
    root.dataset.ready = "true";
    root.dataset.offline = String(state.offline);
    scanBtn.disabled = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    fileInput.disabled = false;
  }

  // --- service worker: offline after the first visit -----------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/verify/sw.js", { scope: "/verify" }).catch(() => {});
    // ready resolves once a worker is active, which is after its install
    // step has put every file in the cache.
    navigator.serviceWorker.ready.then(() => {
      state.offline = true;
      updateStatus();
    });
  }

  // --- the WebAssembly verifier -------------------------------------------
  async function loadVerifier() {
    const go = new Go();
    const started = new Promise((resolve) => { window.vaxverifyOnReady = resolve; });
    const url = root.dataset.wasm;
    let instance;
    try {
      ({ instance } = await WebAssembly.instantiateStreaming(fetch(url), go.importObject));
    } catch (err) {
      // A proxy that rewrote the content type: compile from bytes instead.
      const bytes = await (await fetch(url)).arrayBuffer();
      ({ instance } = await WebAssembly.instantiate(bytes, go.importObject));
    }
    go.run(instance);
    await started;
    state.wasm = true;
  }

  async function loadTrust() {
    const resp = await fetch("/verify/trust.json", { cache: "no-cache" });
    if (!resp.ok) throw new Error("trust bundle: HTTP " + resp.status);
    const text = await resp.text();
    const loaded = window.vaxverify.setTrust(text);
    if (!loaded.ok) throw new Error(loaded.error);
    const doc = JSON.parse(text);
    const signers = loaded.signers ? " " + t("verify.eu_signers", { n: loaded.signers }) : "";
    if (doc.issuers.length === 0) {
      showTrust((doc.notice || t("verify.no_trust")) + signers, "warn");
    } else {
      const when = resp.headers.get("Date");
      const time = when ? new Date(when).toLocaleString(document.documentElement.lang + "-IN") : "";
      showTrust(t("verify.trust", { name: doc.issuers.map((i) => i.name || i.iss).join(", "), time }) + signers, "");
    }
    state.trust = true;
  }

  // showTrust says whom the page trusts: the bundle's issuers (or why there
  // are none), then the CoWIN key built into the module, which needs no
  // bundle and so is trusted even when the bundle never arrived.
  function showTrust(text, kind) {
    const builtin = (window.vaxverify && window.vaxverify.builtinIssuers) || [];
    trustEl.textContent = builtin.length ? text + " " + t("verify.builtin", { name: builtin.join(", ") }) : text;
    if (kind) trustEl.dataset.kind = kind;
    else delete trustEl.dataset.kind;
  }

  loadVerifier()
    .then(() => loadTrust().catch((err) => {
      // Verifying without trust still tells tampered from intact: every
      // card just comes out NOT TRUSTED at best.
      showTrust(t("verify.no_trust"), "warn");
      state.trust = true;
      console.warn(err);
    }))
    .then(updateStatus)
    .catch((err) => {
      state.failed = err.message || String(err);
      updateStatus();
    });

  // --- inputs ---------------------------------------------------------------
  const encoder = new TextEncoder();

  // verifyInput checks bytes (QR text, an image, a PDF or a card file).
  // started and via say when the input arrived and how its QR was read;
  // the result screen carries both (data-ms, data-via) for measurements.
  function verifyInput(bytes, source, started, via) {
    show(errorBox, "");
    statusEl.textContent = t("verify.checking");
    const checking = performance.now();
    let results;
    try {
      results = JSON.parse(window.vaxverify.verify(bytes, source));
    } finally {
      bytes.fill(0);
      updateStatus();
    }
    const done = performance.now();
    result.dataset.ms = String(Math.round(done - started));
    result.dataset.verifyMs = String(Math.round(done - checking));
    result.dataset.via = via;
    render(results);
  }

  // The QR payload from the camera or a picture, as bytes: BarcodeDetector
  // where the browser has it, otherwise the vendored jsQR.
  let detector = null;
  if ("BarcodeDetector" in window) {
    try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
  }

  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });

  // decodeQR returns {bytes, via}; bytes is null when no QR code was found.
  // A CoWIN QR carries raw ZIP bytes, which BarcodeDetector only hands back
  // as text in a charset it guesses, so only printable ASCII (a health
  // card's shc:/, an EU DCC's HC1:) is taken from it; anything else is read
  // again by jsQR, whose binaryData is the payload byte for byte.
  async function decodeQR(source, width, height) {
    let guessed = "";
    if (detector) {
      try {
        const codes = await detector.detect(source);
        if (codes.length && /^[\x20-\x7e\r\n]+$/.test(codes[0].rawValue)) {
          return { bytes: encoder.encode(codes[0].rawValue), via: "barcode-detector" };
        }
        if (codes.length) guessed = codes[0].rawValue;
      } catch (e) { /* fall through to jsQR */ }
    }
    const scale = Math.min(1, 1600 / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    // Dark-on-light first (every printed card): half the work of trying
    // both at once; a light-on-dark screen is the rare second try.
    const code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" }) ||
      window.jsQR(img.data, img.width, img.height, { inversionAttempts: "onlyInvert" });
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (code && code.binaryData.length) return { bytes: Uint8Array.from(code.binaryData), via: "jsqr" };
    // jsQR missed a code the detector saw: its text is all there is, and
    // the verifier will say what it makes of it.
    return { bytes: guessed ? encoder.encode(guessed) : null, via: "barcode-detector" };
  }

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    const started = performance.now();
    try {
      if (file.type.startsWith("image/")) {
        const bitmap = await createImageBitmap(file).catch(() => null);
        if (bitmap) {
          const qr = await decodeQR(bitmap, bitmap.width, bitmap.height);
          bitmap.close();
          if (qr.bytes) {
            verifyInput(qr.bytes, file.name, started, qr.via);
            return;
          }
        }
      }
      // A PDF, a .smart-health-card file, or a picture the browser could
      // not read: the Go verifier reads those itself.
      verifyInput(new Uint8Array(await file.arrayBuffer()), file.name, started, "wasm");
    } catch (err) {
      show(errorBox, err.message || String(err));
    }
  });

  let stream = null;
  let scanTimer = 0;

  async function startCamera() {
    show(errorBox, "");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (err) {
      show(errorBox, t("verify.camera_error", { error: err.message || err.name }));
      return;
    }
    video.srcObject = stream;
    camera.hidden = false;
    scanBtn.hidden = true;
    await video.play().catch(() => {});
    scanFrame();
  }

  function stopCamera() {
    clearTimeout(scanTimer);
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    stream = null;
    video.srcObject = null;
    camera.hidden = true;
    scanBtn.hidden = false;
  }

  async function scanFrame() {
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      const started = performance.now();
      const qr = await decodeQR(video, video.videoWidth, video.videoHeight).catch(() => ({ bytes: null }));
      if (qr.bytes && stream) {
        stopCamera();
        verifyInput(qr.bytes, "camera", started, qr.via);
        return;
      }
    }
    scanTimer = setTimeout(scanFrame, 150);
  }

  scanBtn.addEventListener("click", startCamera);
  $("stop").addEventListener("click", stopCamera);

  // --- the result screen ----------------------------------------------------
  let clearTimer = 0;
  let clearAt = 0;

  function render(results) {
    // A file may hold several cards; the checkpoint sees the first one that
    // is valid, or else the first.
    const r = results.find((x) => x.status === "valid") || results[0];
    const status = ["valid", "invalid", "not_trusted"].includes(r.status) ? r.status : "invalid";
    result.dataset.status = status;
    $("verdict").textContent = t("result." + status);
    $("verdict-note").textContent = t("result." + status + "_note");

    const subject = r.subject || {};
    // A CoWIN certificate states an age where others state a birth date.
    const birth = subject.birth_date ? formatDate(subject.birth_date) : (subject.age || "");
    $("r-birth-label").textContent = t(subject.birth_date || !subject.age ? "result.birth_date" : "result.age");
    setFact("r-name", subject.name || "");
    setFact("r-birth", birth);
    const doses = $("r-doses");
    doses.replaceChildren(...(r.doses || []).map((d) => el("li", {},
      d.number ? el("strong", { text: (d.total ? t("result.dose_of", { n: d.number, total: d.total }) : t("result.dose_n", { n: d.number })) + " · " }) : null,
      d.vaccine || "", d.date ? " · " + formatDate(d.date) : "",
      d.lot ? el("span.muted", { text: " · " + d.lot }) : null)));
    doses.closest("div").hidden = doses.children.length === 0;
    setFact("r-issuer", (r.issuer && (r.issuer.name || r.issuer.id)) || "");
    // Details a rejected card claims are shown struck through, under a
    // warning; a card that claims nothing shows just the verdict.
    const anyDetail = Boolean(subject.name || birth || doses.children.length);
    result.querySelector(".unverified").hidden = status === "valid" || !anyDetail;

    const reasons = (status === "valid" ? [] : r.reasons || []);
    $("r-reasons").replaceChildren(...reasons.map((f) => el("li", { text: f.message, "data-code": f.code })));
    $("r-reasons-box").hidden = reasons.length === 0;

    intro.hidden = true;
    result.hidden = false;
    result.focus();
    clearAt = Date.now() + clearSeconds * 1000;
    tick();
  }

  function setFact(id, text) {
    const dd = $(id);
    dd.textContent = text;
    dd.closest("div").hidden = !text;
  }

  function tick() {
    clearTimeout(clearTimer);
    const left = Math.ceil((clearAt - Date.now()) / 1000);
    if (left <= 0) {
      clearResult();
      return;
    }
    $("r-clears").textContent = t("result.clears", { s: left });
    clearTimer = setTimeout(tick, Math.min(1000, clearAt - Date.now()));
  }

  // clearResult wipes everything the last card showed, so the next person
  // in the queue does not see it.
  function clearResult() {
    clearTimeout(clearTimer);
    for (const id of ["verdict", "verdict-note", "r-name", "r-birth", "r-issuer", "r-clears"]) $(id).textContent = "";
    $("r-doses").replaceChildren();
    $("r-reasons").replaceChildren();
    delete result.dataset.status;
    result.hidden = true;
    intro.hidden = false;
    (scanBtn.disabled ? fileInput : scanBtn).focus();
  }

  $("clear").addEventListener("click", clearResult);
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !result.hidden) clearResult();
  });
})();
