// The vaccinator desk: find the beneficiary by reference ID, check them
// against their photo ID, record the dose. The dose is sent with an
// Idempotency-Key made when the beneficiary was opened, so a double click,
// or a retry after a dropped connection, records one dose and issues one
// certificate.
"use strict";

(() => {
  const { t, api, el, show, formatDate, busy } = window.vc;
  const $ = (id) => document.getElementById(id);
  const flash = $("flash");
  const errorBox = $("error");
  const person = $("person");
  const recordForm = $("record-form");
  const recordBtn = $("record");

  // current is the beneficiary on screen; key the idempotency key of the
  // dose about to be recorded for them.
  let current = null;
  let key = "";

  const statusKeys = {
    "Not Vaccinated": "status.not_vaccinated",
    "Partially Vaccinated": "status.partial",
    "Vaccinated": "status.vaccinated",
    "Vaccinated (precaution dose)": "status.precaution",
  };

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  $("find-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = ev.target.querySelector("button[type=submit]");
    busy(button, async () => {
      const ref = $("ref").value.replace(/\D/g, "");
      show(flash, "");
      show(errorBox, "");
      if (!/^[0-9]{14}$/.test(ref)) {
        show(errorBox, t("desk.ref_hint"));
        $("ref").focus();
        return;
      }
      person.hidden = true;
      try {
        const v = await api("GET", "/web/desk/beneficiaries/" + ref);
        open(v);
      } catch (err) {
        show(errorBox, err.status === 404 ? t("desk.not_found") : err.message);
      }
    });
  });

  function open(v) {
    current = v;
    key = newKey();
    const b = v.beneficiary;
    $("p-name").textContent = b.name;
    $("p-status").textContent = t(statusKeys[v.vaccination_status] || "status.not_vaccinated");
    $("p-status").className = v.doses.length ? "pill ok" : "pill";
    $("p-ref").textContent = b.beneficiary_reference_id;
    $("p-gender").textContent = t("gender." + b.gender);
    $("p-birth").textContent = formatDate(b.birth_date) + " · " + t("desk.age", { years: b.age });
    $("p-id").textContent = t("id." + b.photo_id_type) + " · " + b.photo_id_number;

    const a = v.appointment;
    $("p-appointment").replaceChildren(a
      ? el("span", {}, el("strong", { text: t("book.dose_n", { n: a.dose }) + " · " + a.vaccine }), el("br"),
        t("portal.appointment_line", { date: formatDate(a.date), slot: a.slot, centre: a.center.name }))
      : el("span.muted", { text: t("desk.no_appointment") }));
    $("p-doses").replaceChildren(...(v.doses.length
      ? v.doses.map((d) => el("li", { text: t("portal.dose_line", { n: d.dose, vaccine: d.vaccine, date: formatDate(d.date) }) }))
      : [el("li.muted", { text: t("portal.no_doses") })]));

    // The form starts from what the appointment and the catalog say; the
    // vaccinator confirms or corrects it, and the server checks it.
    const centre = $("centre");
    centre.replaceChildren(...v.centres.map((c) => el("option", { value: c.center_id, text: c.name })));
    if (a && v.centres.some((c) => c.center_id === a.center.center_id)) centre.value = a.center.center_id;
    $("centre-field").hidden = v.centres.length <= 1;
    const vaccine = $("vaccine");
    vaccine.replaceChildren(...v.vaccines.map((x) => el("option", { value: x.code, text: x.name })));
    vaccine.value = (a && a.vaccine) || v.next.vaccine || (v.doses.length ? v.doses[v.doses.length - 1].vaccine : v.vaccines[0].code);
    $("dose").value = (a && a.dose) || v.next.dose || v.doses.length + 1;
    $("dose-hint").textContent = v.next.earliest ? t("desk.earliest", { date: formatDate(v.next.earliest) }) : "";
    $("lot").value = "";
    $("given").value = v.today;
    $("given").max = v.today;
    recordBtn.disabled = false;
    recordBtn.textContent = t("desk.record");
    person.hidden = false;
    $("p-name").focus();
  }

  recordForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!current) return;
    busy(recordBtn, async () => {
      show(errorBox, "");
      const lot = $("lot").value.trim();
      if (!lot) {
        show(errorBox, t("desk.lot"));
        $("lot").focus();
        return;
      }
      recordBtn.textContent = t("desk.recording");
      const body = {
        beneficiary_reference_id: current.beneficiary.beneficiary_reference_id,
        vaccine: $("vaccine").value,
        lot,
        dose_number: Number($("dose").value),
        date: $("given").value,
        center_id: $("centre").value,
      };
      try {
        const res = await api("POST", "/api/v1/vaccinations", body, { "Idempotency-Key": key });
        person.hidden = true;
        show(flash, t("desk.recorded", { n: res.dose.dose_number, name: current.beneficiary.name, id: res.certificate.certificate_id }));
        flash.dataset.certificate = res.certificate.certificate_id;
        flash.focus();
        current = null;
        key = "";
        $("ref").value = "";
      } catch (err) {
        // A refusal (4xx) stored nothing: the corrected dose is a new
        // request with a new key. A lost answer (no status, 5xx) keeps the
        // key, so sending again cannot record the dose twice.
        if (err.status >= 400 && err.status < 500) key = newKey();
        show(errorBox, err.message);
      } finally {
        recordBtn.textContent = t("desk.record");
      }
    });
  });
})();
