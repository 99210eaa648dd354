// Lantern intake page: live screening and possible existing cases. Hand-written, no dependencies.
// Everything it sends goes by POST with the session's CSRF token, so nothing personal lands in a URL.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }

  function checked(name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'), function (i) { return i.value; });
  }

  function answers() {
    var a = { actions: checked("actions"), means: checked("means"), purposes: checked("purposes") };
    var age = form.elements.age.value.trim();
    if (age !== "") { a.subject_age = parseInt(age, 10); }
    else if (form.elements.minor.value) { a.subject_minor = form.elements.minor.value === "yes"; }
    var c = (form.querySelector('input[name="compelled"]:checked') || {}).value;
    if (c === "yes") { a.compelled = true; } else if (c === "no") { a.compelled = false; }
    if (form.elements.smuggling_arrangement.checked) { a.smuggling_arrangement = true; }
    if (form.elements.labor_violations.checked) { a.labor_violations = true; }
    return a;
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  var labels = {
    likely_trafficking: "Likely trafficking", possible_trafficking: "Possible trafficking",
    labor_exploitation: "Labor exploitation", smuggling: "Smuggling",
    commercial_sex_no_indicators: "Commercial sex, no trafficking indicators",
    insufficient_information: "Insufficient information", not_trafficking: "Not trafficking"
  };

  function showResult(a, d) {
    var box = document.getElementById("screening-result");
    box.textContent = "";
    var forms = (d.forms || []).join(" and ");
    box.appendChild(el("h3", (labels[d.outcome] || d.outcome) + (forms ? " (" + forms + ")" : "") + (d.minor_rule_applied ? " · minor rule" : "")));
    var missing = d.missing || [];
    var list = el("ul", null, "elements");
    [["purpose", "Purpose", a.purposes.length > 0], ["action", "Action", a.actions.length > 0],
     ["means", "Means", a.means.length > 0], ["compulsion", "Compulsion", a.compelled !== undefined],
     ["age", "Age", a.subject_age !== undefined || a.subject_minor !== undefined]].forEach(function (x) {
      var state = x[2] ? "established" : (missing.indexOf(x[0]) >= 0 ? "missing" : "not needed yet");
      list.appendChild(el("li", x[1] + ": " + state, state === "established" ? "yes" : (state === "missing" ? "no" : "")));
    });
    box.appendChild(list);
    var reasons = el("ul");
    (d.reasons || []).forEach(function (r) { reasons.appendChild(el("li", r)); });
    box.appendChild(reasons);
  }

  var timer = null;
  function screen() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var a = answers();
      post("/api/v1/screening/assess", a).then(function (r) {
        if (r.ok) { showResult(a, r.body); }
        else { document.getElementById("screening-result").textContent = r.body.detail || "Check the answers."; }
      }).catch(function () {});
    }, 150);
  }
  document.getElementById("screening").addEventListener("change", screen);
  document.getElementById("screening").addEventListener("input", screen);

  var mtimer = null;
  function matches() {
    clearTimeout(mtimer);
    mtimer = setTimeout(function () {
      var ids = [];
      for (var n = 0; n < 3; n++) {
        var v = form.elements["id_value_" + n].value.trim();
        if (v) { ids.push({ kind: form.elements["id_kind_" + n].value, value: v }); }
      }
      var box = document.getElementById("matches");
      if (!ids.length) { box.textContent = ""; document.getElementById("possible-matches").textContent = ""; return; }
      post("/api/v1/cases/matches", { state: form.elements.state.value || null, identifiers: ids }).then(function (r) {
        box.textContent = "";
        if (!r.ok || !r.body.length) { if (r.ok) { box.appendChild(el("p", "No open case shares these identifiers.", "muted")); } return; }
        box.appendChild(el("p", "Open cases that share an identifier:"));
        var ul = el("ul");
        r.body.forEach(function (m) {
          var li = el("li", "Case " + m.number + " (" + m.form + ", " + (m.state || "state unknown") + ") shares a " + m.matched + " ");
          var b = el("button", "Add to this case");
          b.type = "button";
          b.addEventListener("click", function () {
            form.querySelector('input[name="case_mode"][value="existing"]').checked = true;
            form.elements.case_number.value = m.number;
            form.elements.case_number.focus();
          });
          li.appendChild(b);
          ul.appendChild(li);
        });
        box.appendChild(ul);
      }).catch(function () {});
      possible(ids);
    }, 300);
  }

  // Possible matches: cases whose people may be the same despite a different spelling or format,
  // scored by the linkage model.
  function possible(ids) {
    var box = document.getElementById("possible-matches");
    if (!box) { return; }
    post("/api/v1/linkage/possible-matches", { state: form.elements.state.value || null, identifiers: ids }).then(function (r) {
      box.textContent = "";
      if (!r.ok || !r.body.length) { return; }
      box.appendChild(el("p", "Cases that may involve the same people (similar names, numbers written differently):"));
      var ul = el("ul");
      r.body.slice(0, 10).forEach(function (m) {
        var li = el("li", "Case " + m.number + " (" + (m.state || "state unknown") + "): " +
          (m.kinds.length ? m.kinds.join(", ") : "linked") + ", probability " + m.probability.toFixed(2) + " ");
        var b = el("button", "Add to this case");
        b.type = "button";
        b.addEventListener("click", function () {
          form.querySelector('input[name="case_mode"][value="existing"]').checked = true;
          form.elements.case_number.value = m.number;
          form.elements.case_number.focus();
        });
        li.appendChild(b);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }).catch(function () {});
  }
  document.getElementById("identifiers").addEventListener("input", matches);
  form.elements.state.addEventListener("change", matches);

  form.addEventListener("change", function (e) {
    if (e.target.name === "safe_to_talk") {
      document.getElementById("unsafe-note").hidden = e.target.value !== "no";
    }
  });
})();
