/* Bulk onboarding progress in Django admin: poll the upload's state and update counts, bar and rows (no inline script: CSP). */
(function () {
  "use strict";
  var root = document.getElementById("bulk-progress");
  if (!root || root.dataset.final === "true") { return; }

  function setText(el, text) { if (el) { el.textContent = text; } }

  function update(state) {
    var status = document.getElementById("bulk-status");
    setText(status, state.status_display);
    if (status) { status.className = "bulk-status-" + state.status; }
    var bar = document.getElementById("bulk-bar");
    if (bar) { bar.max = state.total; bar.value = state.final; setText(bar, state.percent + " %"); }
    setText(document.getElementById("bulk-figures"), state.final + " / " + state.total + " (" + state.percent + " %)");
    var counts = document.getElementById("bulk-counts");
    state.counts.forEach(function (c) {
      var n = counts.querySelector('[data-state="' + c.state + '"]');
      if (n) {
        n.textContent = c.n;
      } else {
        var li = document.createElement("li");
        li.className = "bulk-state-" + c.state;
        var a = document.createElement("a");
        a.href = "?state=" + encodeURIComponent(c.state);
        a.textContent = c.label;
        var span = document.createElement("span");
        span.className = "n";
        span.dataset.state = c.state;
        span.textContent = c.n;
        li.appendChild(a); li.appendChild(document.createTextNode(" ")); li.appendChild(span);
        counts.appendChild(li);
      }
    });
    counts.querySelectorAll("[data-state]").forEach(function (n) {
      if (!state.counts.some(function (c) { return c.state === n.dataset.state; })) { n.textContent = "0"; }
    });
    state.rows.forEach(function (r) {
      var tr = document.querySelector('#bulk-rows tr[data-line="' + r.line + '"]');
      if (!tr) { return; }
      var label = tr.querySelector(".state span");
      label.textContent = r.state_label;
      label.className = "bulk-state bulk-state-" + r.state;
      setText(tr.querySelector(".reason"), r.reason);
      setText(tr.querySelector(".outcome"), r.outcome);
      var job = tr.querySelector(".job");
      if (r.job_url && !job.querySelector("a")) {
        var a = document.createElement("a");
        a.href = r.job_url;
        a.textContent = "#" + r.job_id;
        job.appendChild(a);
      }
    });
    if (state.is_final) {
      setText(document.getElementById("bulk-live"), state.status_display + " · " + state.final + " / " + state.total);
      root.dataset.final = "true";
    }
    return state.is_final;
  }

  function poll() {
    fetch(root.dataset.pollUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) { return setTimeout(poll, 5000); }
        if (!update(state)) { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
