// qmgrade: progressive enhancement only. Every page works without this file; with it, a stave's
// answers are saved as they are filled (the same POST the Save button sends), so nothing is lost.
(function () {
  "use strict";
  function autosave(form) {
    var status = document.getElementById("autosave-status");
    var timer = null;
    function send() {
      var body = new URLSearchParams(new FormData(form));   // the same fields a Save click sends
      body.set("go", "save");
      fetch(form.action || window.location.pathname, {
        method: "POST", body: body, credentials: "same-origin", headers: {"X-Autosave": "1"}
      }).then(function (response) {
        if (status) {
          status.textContent = response.ok ? (document.documentElement.lang === "en" ? "Draft saved" : "草稿已保存")
                                           : (document.documentElement.lang === "en" ? "Not saved" : "未保存");
          status.dataset.state = response.ok ? "saved" : "error";
        }
      }).catch(function () { if (status) { status.dataset.state = "error"; } });
    }
    form.addEventListener("change", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(send, 300);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-autosave]");
    if (form && window.fetch && window.FormData) { autosave(form); }
  });
}());
