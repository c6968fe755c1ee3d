// Login: mobile number → OTP by SMS → session. The OTP goes to /web/session,
// which confirms it through the API and keeps the session token in an
// HttpOnly cookie: this script never holds it.
"use strict";

(() => {
  const { t, api, show } = window.vc;
  const mobileForm = document.getElementById("mobile-form");
  const otpForm = document.getElementById("otp-form");
  const mobileInput = document.getElementById("mobile");
  const otpInput = document.getElementById("otp");
  const errorBox = document.getElementById("error");
  const notice = document.getElementById("notice");
  const params = new URLSearchParams(location.search);
  let txnID = "";

  if (params.get("expired")) show(notice, t("login.expired"), "info");

  mobileForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    show(errorBox, "");
    const mobile = mobileInput.value.replace(/\D/g, "");
    if (!/^[0-9]{10}$/.test(mobile)) {
      show(errorBox, t("login.mobile_hint"));
      mobileInput.focus();
      return;
    }
    const button = mobileForm.querySelector("button[type=submit]");
    await window.vc.busy(button, async () => {
      try {
        const res = await api("POST", "/api/v1/auth/otp", { mobile });
        txnID = res.txn_id;
        document.getElementById("otp-sent").textContent = t("login.sent", { mobile: "+91 " + mobile });
        mobileForm.hidden = true;
        otpForm.hidden = false;
        otpInput.value = "";
        otpInput.focus();
      } catch (err) {
        show(errorBox, err.message);
      }
    });
  });

  otpForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    show(errorBox, "");
    const otp = otpInput.value.replace(/\D/g, "");
    if (!/^[0-9]{6}$/.test(otp)) {
      show(errorBox, t("login.otp_hint"));
      otpInput.focus();
      return;
    }
    const button = otpForm.querySelector("button[type=submit]");
    await window.vc.busy(button, async () => {
      try {
        const res = await api("POST", "/web/session", { txn_id: txnID, otp, next: params.get("next") || "" });
        location.assign(res.next);
      } catch (err) {
        show(errorBox, err.message);
        otpInput.select();
      }
    });
  });

  document.getElementById("change-mobile").addEventListener("click", () => {
    otpForm.hidden = true;
    mobileForm.hidden = false;
    show(errorBox, "");
    mobileInput.focus();
  });
})();
