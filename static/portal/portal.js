/* Pharmacy portal: the little behaviour the pages need, from a static file (the CSP allows no inline script). */
(function () {
  "use strict";

  // The language menu applies the choice at once (the form's button is there without JavaScript).
  var language = document.getElementById("language-select");
  if (language) {
    language.addEventListener("change", function () { language.form.submit(); });
  }

  // The wizard's last step: submitting twice never starts a second job.
  var wizard = document.getElementById("wizard-submit");
  if (wizard) {
    wizard.addEventListener("submit", function (event) {
      var button = wizard.querySelector("button[type=submit]");
      if (button.disabled) { event.preventDefault(); } else { button.disabled = true; }
    });
  }

  // A job's status page follows the job until it ends.
  var job = document.querySelector("[data-job-poll]");
  if (job) {
    var classes = {done: "done", failed: "failed", needs_attention: "failed", running: "current", waiting: "current", sending: "current"};
    var pollJob = function () {
      fetch(job.dataset.jobPoll, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (!state) { return setTimeout(pollJob, 3000); }
          var status = document.getElementById("job-status");
          status.textContent = state.status_display;
          status.className = "status status-" + state.status;
          state.steps.forEach(function (step) {
            var li = document.querySelector('[data-step="' + step.name + '"]');
            if (li) { li.className = classes[step.status] || ""; li.querySelector(".step-error").textContent = step.error; }
          });
          if (state.is_final) { window.location.reload(); } else { setTimeout(pollJob, 1000); }
        })
        .catch(function () { setTimeout(pollJob, 3000); });
    };
    setTimeout(pollJob, 500);
  }

  // The EDIN panel, while a connection is being checked.
  var edin = document.querySelector("[data-edin-poll]");
  if (edin) {
    var tries = 0;
    var pollEdin = function () {
      fetch(edin.dataset.edinPoll, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (data) { if (data.state !== "checking") { window.location.reload(); } else if (++tries < 90) { setTimeout(pollEdin, 2000); } })
        .catch(function () { if (++tries < 90) { setTimeout(pollEdin, 4000); } });
    };
    setTimeout(pollEdin, 1000);
  }
})();
