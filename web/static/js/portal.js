// The citizen portal: the people registered under this mobile, their
// appointments and certificates; adding a person; searching sessions and
// booking, rescheduling or cancelling. Every rule (eligibility, capacity,
// dose intervals, ID validation) is the API's: this script shows what it
// answers, problems included.
"use strict";

(() => {
  const { t, api, el, show, formatDate, busy } = window.vc;
  const $ = (id) => document.getElementById(id);
  const flash = $("flash");
  const errorBox = $("error");
  const people = $("people");
  const addSection = $("add");
  const addForm = $("add-form");
  const bookSection = $("book");
  const searchForm = $("search-form");
  const results = $("results");

  // booking is what the booking panel is doing: {beneficiary, appointment}
  // (appointment set when rescheduling).
  let booking = null;

  const statusKeys = {
    "Not Vaccinated": "status.not_vaccinated",
    "Partially Vaccinated": "status.partial",
    "Vaccinated": "status.vaccinated",
    "Vaccinated (precaution dose)": "status.precaution",
  };

  function say(message) {
    show(errorBox, "");
    show(flash, message);
    if (message) flash.focus();
  }

  function fail(err) {
    show(flash, "");
    show(errorBox, err.message || String(err));
  }

  function isoToday() {
    const d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }

  // --- the people ----------------------------------------------------------
  async function load() {
    try {
      const [list, certs] = await Promise.all([
        api("GET", "/api/v1/beneficiaries"),
        api("GET", "/api/v1/certificates").catch(() => ({ certificates: [] })),
      ]);
      const current = {};
      for (const c of certs.certificates || []) {
        if (c.status === "issued" && !current[c.beneficiary_reference_id]) current[c.beneficiary_reference_id] = c;
      }
      render(list.beneficiaries || [], current, list.max_beneficiaries || 4);
    } catch (err) {
      fail(err);
    } finally {
      $("people-loading").hidden = true;
    }
  }

  function render(list, certs, max) {
    people.replaceChildren(...list.map((b) => card(b, certs[b.beneficiary_reference_id])));
    $("people-empty").hidden = list.length > 0;
    $("add-open").hidden = list.length >= max;
  }

  function card(b, cert) {
    const appt = (b.appointments || [])[0];
    const status = b.vaccination_status || "Not Vaccinated";
    const node = el("article.card.person", { "data-ref": b.beneficiary_reference_id },
      el("div.section-head", {},
        el("h3", { text: b.name }),
        el("span" + (b.doses.length ? ".pill.ok" : ".pill"), { text: t(statusKeys[status] || "status.not_vaccinated") })),
      el("dl.meta", {},
        el("dt", { text: t("portal.ref") }), el("dd.mono", { text: b.beneficiary_reference_id }),
        el("dt", { text: t("field.birth_date") }), el("dd", { text: formatDate(b.birth_date) }),
        el("dt", { text: t("field.id_type") }), el("dd", { text: t("id." + b.photo_id_type) + " · " + b.photo_id_number })));

    if (b.doses.length) {
      node.append(el("div.box", {},
        el("h4", { text: t("portal.doses") }),
        el("ul.plain", {}, b.doses.map((d) => el("li", { text: t("portal.dose_line", { n: d.dose, vaccine: d.vaccine, date: formatDate(d.date) }) })))));
    }
    if (cert) {
      const links = cert.links || {};
      node.append(el("div.box", { "data-certificate": cert.certificate_id },
        el("h4", { text: t("portal.cert_status", { id: cert.certificate_id }) }),
        el("div.downloads", {},
          // The PDF's second language follows the page's.
          el("a.btn.small.primary", { href: links.pdf + (document.documentElement.lang === "en" ? "" : (links.pdf.includes("?") ? "&" : "?") + "lang=" + document.documentElement.lang), download: "", "data-download": "pdf", text: t("portal.download_pdf") }),
          el("a.btn.small", { href: links.qr_png, download: "", "data-download": "png", text: t("portal.download_qr") }),
          el("a.btn.small", { href: links.smart_health_card, download: "", "data-download": "shc", text: t("portal.download_shc") }))));
    }
    if (appt) {
      node.append(el("div.box", { "data-appointment": appt.appointment_id },
        el("h4", { text: t("portal.appointment") + " · " + t("book.dose_n", { n: appt.dose }) + " · " + appt.vaccine }),
        el("p", { text: t("portal.appointment_line", { date: formatDate(appt.date), slot: appt.slot, centre: appt.center.name }) }),
        el("p.muted.small", { text: [appt.center.address, appt.center.district_name, appt.center.pincode].filter(Boolean).join(", ") }),
        el("div.downloads", {},
          el("a.btn.small", { href: appt.slip_url, download: "", text: t("portal.slip") }),
          el("button.btn.small", { type: "button", "data-action": "reschedule", text: t("portal.reschedule"), onclick: () => openBooking(b, appt) }),
          confirmButton(t("portal.cancel_appointment"), t("portal.confirm_cancel"), "cancel", async () => {
            await api("POST", "/api/v1/appointments/" + encodeURIComponent(appt.appointment_id) + "/cancel");
            say(t("portal.cancelled"));
            await load();
          }))));
    }
    const actions = el("div.actions");
    if (!appt) {
      actions.append(el("button.btn.primary", { type: "button", "data-action": "book", text: t("portal.book"), onclick: () => openBooking(b, null) }));
    }
    if (!b.doses.length) {
      actions.append(confirmButton(t("common.delete"), t("portal.confirm_delete", { name: b.name }), "delete", async () => {
        await api("DELETE", "/api/v1/beneficiaries/" + encodeURIComponent(b.beneficiary_reference_id));
        say(t("portal.deleted"));
        await load();
      }));
    }
    node.append(actions);
    return node;
  }

  // confirmButton asks again on the button itself before it acts: no
  // modal dialog, and a stray tap does nothing.
  function confirmButton(label, question, action, fn) {
    const button = el("button.btn.small.danger", { type: "button", "data-action": action, text: label });
    let armed = false;
    button.addEventListener("click", () => busy(button, async () => {
      if (!armed) {
        armed = true;
        button.textContent = question;
        setTimeout(() => { armed = false; button.textContent = label; }, 6000);
        return;
      }
      try {
        await fn();
      } catch (err) {
        fail(err);
      }
    }));
    return button;
  }

  // --- adding a person ------------------------------------------------------
  $("add-open").addEventListener("click", () => {
    addSection.hidden = false;
    bookSection.hidden = true;
    $("add-title").focus();
  });
  $("add-cancel").addEventListener("click", () => {
    addForm.reset();
    addSection.hidden = true;
  });
  addForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = addForm.querySelector("button[type=submit]");
    busy(button, async () => {
      const data = new FormData(addForm);
      const body = {
        name: String(data.get("name") || "").trim(),
        gender: String(data.get("gender") || ""),
        birth_date: String(data.get("birth_date") || ""),
        photo_id_type: String(data.get("photo_id_type") || ""),
        photo_id_number: String(data.get("photo_id_number") || "").trim(),
      };
      try {
        const b = await api("POST", "/api/v1/beneficiaries", body);
        addForm.reset();
        addSection.hidden = true;
        say(t("portal.added", { name: b.name, ref: b.beneficiary_reference_id }));
        await load();
      } catch (err) {
        fail(err);
      }
    });
  });

  // --- booking --------------------------------------------------------------
  let statesLoaded = false;

  function openBooking(b, appt) {
    booking = { beneficiary: b, appointment: appt };
    addSection.hidden = true;
    bookSection.hidden = false;
    results.replaceChildren();
    $("book-for").textContent = t(appt ? "book.for_reschedule" : "book.for", { name: b.name });
    if (!$("date").value) $("date").value = isoToday();
    $("date").min = isoToday();
    bookSection.scrollIntoView({ block: "start" });
    $("book-title").focus();
  }

  $("book-cancel").addEventListener("click", () => {
    bookSection.hidden = true;
    booking = null;
  });

  searchForm.addEventListener("change", async (ev) => {
    if (ev.target.name === "by") {
      const byPin = ev.target.value === "pin";
      $("by-pin").hidden = !byPin;
      $("by-state").hidden = byPin;
      $("by-district").hidden = byPin;
      if (!byPin && !statesLoaded) await loadStates();
    }
    if (ev.target.id === "state") await loadDistricts(ev.target.value);
  });

  async function loadStates() {
    try {
      const res = await api("GET", "/api/v1/states");
      $("state").append(...res.states.map((s) => el("option", { value: s.state_id, text: s.state_name })));
      statesLoaded = true;
    } catch (err) {
      fail(err);
    }
  }

  async function loadDistricts(stateID) {
    const select = $("district");
    select.replaceChildren(el("option", { value: "", text: t("book.choose") }));
    select.disabled = true;
    if (!stateID) return;
    try {
      const res = await api("GET", "/api/v1/states/" + encodeURIComponent(stateID) + "/districts");
      select.append(...res.districts.map((d) => el("option", { value: d.district_id, text: d.district_name })));
      select.disabled = false;
    } catch (err) {
      fail(err);
    }
  }

  searchForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = searchForm.querySelector("button[type=submit]");
    busy(button, async () => {
      const q = new URLSearchParams({ date: $("date").value || isoToday() });
      if (searchForm.elements.by.value === "pin") {
        const pin = $("pin").value.trim();
        if (!/^[1-9][0-9]{5}$/.test(pin)) {
          fail(new Error(t("book.pin_hint")));
          $("pin").focus();
          return;
        }
        q.set("pincode", pin);
      } else {
        if (!$("district").value) {
          fail(new Error(t("book.district_hint")));
          return;
        }
        q.set("district_id", $("district").value);
      }
      show(errorBox, "");
      try {
        const res = await api("GET", "/api/v1/sessions?" + q.toString());
        showSessions(res.sessions || []);
      } catch (err) {
        fail(err);
      }
    });
  });

  // doseKey is the capacity the person's next dose draws on.
  function doseKey(b) {
    if (!b.doses.length) return "dose1";
    if (b.vaccination_status && b.vaccination_status.startsWith("Vaccinated")) return "precaution";
    return "dose2";
  }

  function showSessions(sessions) {
    if (!sessions.length) {
      results.replaceChildren(el("p.notice", { text: t("book.no_results") }));
      return;
    }
    const key = doseKey(booking.beneficiary);
    results.replaceChildren(
      el("h3", { text: t("book.results") }),
      el("ul.sessions", {}, sessions.map((s) => {
        const left = (s.available && s.available[key]) || 0;
        const centre = s.center || {};
        const age = s.max_age_limit ? t("book.age_range", { min: s.min_age_limit, max: s.max_age_limit }) : t("book.age", { min: s.min_age_limit });
        return el("li.session", { "data-session": s.session_id },
          el("h4", { text: centre.name || s.center_id }),
          el("p.muted.small", { text: [centre.address, centre.district_name, centre.pincode].filter(Boolean).join(", ") }),
          el("p", {},
            el("strong", { text: s.vaccine }), " · ", age, " · ", s.fee > 0 ? t("book.paid") + " ₹" + s.fee : t("book.free"), " · ",
            el("span" + (left > 0 ? ".pill.ok" : ".pill"), { text: left > 0 ? t("book.available", { n: left }) : t("book.full") })),
          el("div.slots", { role: "group", "aria-label": t("book.slot") },
            (s.slots || []).map((slot) => el("button.btn.small", {
              type: "button", disabled: left <= 0, "data-slot": slot, text: slot,
              onclick: (ev) => bookSlot(ev.currentTarget, s, slot),
            }))));
      })));
  }

  function bookSlot(button, session, slot) {
    busy(button, async () => {
      const { beneficiary, appointment } = booking;
      try {
        const appt = appointment
          ? await api("POST", "/api/v1/appointments/" + encodeURIComponent(appointment.appointment_id) + "/reschedule", { session_id: session.session_id, slot })
          : await api("POST", "/api/v1/appointments", { beneficiary_reference_id: beneficiary.beneficiary_reference_id, session_id: session.session_id, slot });
        bookSection.hidden = true;
        booking = null;
        say(t("book.booked", { date: formatDate(appt.date), slot: appt.slot, centre: appt.center.name }));
        await load();
      } catch (err) {
        fail(err);
      }
    });
  }

  load();
})();
