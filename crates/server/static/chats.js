// The advocate's chat console: one socket to /chats/socket, a panel per chat. Messages are placed by their
// number, so a replay after a reconnect never doubles or reorders them.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var me = root.getAttribute("data-me");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var waiting = document.getElementById("waiting");
  var statusLine = document.getElementById("console-status");
  var panels = document.getElementById("chats");
  var tpl = document.getElementById("chat-panel");
  var ws = null, tries = 0, chats = {};

  function say(s) { statusLine.textContent = s || ""; }
  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    say("Not connected; reconnecting…");
    return false;
  }
  function systemText(code) {
    if (code === "advocate_joined") { return "An advocate joined."; }
    if (code === "transferred") { return "Transferred."; }
    if (code === "ended") { return "The chat ended."; }
    if (code === "connection_lost") { return "The help-seeker's connection was lost and did not come back."; }
    return code;
  }
  function loadStaff(select) {
    fetch("/api/v1/chats/staff", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        while (select.options.length > 1) { select.remove(1); }
        list.forEach(function (s) {
          if (s.id === me) { return; }
          var o = document.createElement("option");
          o.value = s.id;
          o.textContent = s.username + " (" + s.role + ", " + s.active + " chats" + (s.online ? "" : ", offline") + ")";
          select.appendChild(o);
        });
      });
  }
  function link(id, body, panel) {
    fetch("/api/v1/chats/" + encodeURIComponent(id) + "/link", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (res) {
      var out = panel.querySelector(".chat-link");
      if (res.ok) {
        var a = document.createElement("a");
        a.href = "/cases/" + res.body.case_id;
        a.textContent = "Linked to case #" + res.body.case_number;
        a.className = "chat-case";
        out.replaceWith(a);
      } else {
        say(res.body.detail || "Could not link the chat.");
      }
    });
  }
  function panelFor(f) {
    var c = chats[f.chat];
    if (c) { return c; }
    var node = tpl.content.firstElementChild.cloneNode(true);
    node.setAttribute("data-chat", f.chat);
    c = { node: node, log: node.querySelector(".chat-log"), seqs: {}, ended: false };
    chats[f.chat] = c;
    node.querySelector(".chat-title").textContent = "Chat " + f.chat.slice(0, 8);
    node.querySelector(".chat-meta").textContent = "Language: " + f.language + " · Safe to chat: " + f.safe_to_chat;
    var contact = node.querySelector(".chat-contact");
    contact.href = "/contacts/" + f.contact;
    var reply = node.querySelector(".chat-reply");
    reply.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var t = reply.elements.text.value.trim();
      if (t && send({ type: "send", chat: f.chat, text: t })) { reply.elements.text.value = ""; }
    });
    reply.elements.text.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); reply.requestSubmit(); }
    });
    var transfer = node.querySelector(".chat-transfer");
    transfer.elements.to.addEventListener("focus", function () { loadStaff(transfer.elements.to); });
    loadStaff(transfer.elements.to);
    transfer.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var to = transfer.elements.to.value;
      if (to) { send({ type: "transfer", chat: f.chat, to: to, supervisor: transfer.elements.supervisor.checked }); }
    });
    var linkForm = node.querySelector(".chat-link");
    linkForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var n = parseInt(linkForm.elements.case_number.value.replace("#", ""), 10);
      if (n > 0) { link(f.chat, { case_number: n }, node); } else { say("Give a case number."); }
    });
    node.querySelector(".chat-new-case").addEventListener("click", function () { link(f.chat, { new_case: true }, node); });
    node.querySelector(".chat-end").addEventListener("click", function () { send({ type: "end", chat: f.chat }); });
    panels.appendChild(node);
    return c;
  }
  function place(c, m) {
    if (c.seqs[m.seq]) { return; }
    var li = document.createElement("li");
    var kind = m.author.kind;
    li.className = "msg " + kind;
    li.setAttribute("data-seq", String(m.seq));
    if (kind === "system") {
      li.textContent = systemText(m.text);
    } else {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = (kind === "seeker" ? "Help-seeker" : (m.author.id === me ? "You" : "Advocate")) + ": ";
      li.appendChild(who);
      li.appendChild(document.createTextNode(m.text));
    }
    var before = null;
    for (var el = c.log.lastElementChild; el; el = el.previousElementSibling) {
      if (Number(el.getAttribute("data-seq")) > m.seq) { before = el; } else { break; }
    }
    c.log.insertBefore(li, before);
    c.seqs[m.seq] = true;
  }
  function finish(c) {
    c.ended = true;
    c.node.classList.add("ended");
    c.node.querySelector(".chat-reply").hidden = true;
    c.node.querySelector(".chat-transfer").hidden = true;
    c.node.querySelector(".chat-end").hidden = true;
  }
  function handle(f) {
    var c;
    switch (f.type) {
      case "waiting": waiting.textContent = f.count === 1 ? "1 chat waiting" : f.count + " chats waiting"; break;
      case "assigned": panelFor(f); break;
      case "message": c = chats[f.chat]; if (c) { place(c, f.message); } break;
      case "transferred":
        c = chats[f.chat];
        if (c && f.to !== me) { finish(c); c.node.querySelector(".chat-meta").textContent += " · transferred"; }
        break;
      case "presence":
        c = chats[f.chat];
        if (c) { c.node.querySelector(".chat-presence").hidden = f.connected; c.node.classList.toggle("away", !f.connected); }
        break;
      case "ended": c = chats[f.chat]; if (c) { c.node.querySelector(".chat-presence").hidden = true; finish(c); } break;
      case "error": say(f.detail); break;
      default: break;
    }
  }
  function connect() {
    var sock = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chats/socket");
    ws = sock;
    sock.onopen = function () { tries = 0; say(""); };
    sock.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      handle(f);
    };
    sock.onclose = function () {
      if (ws === sock) { ws = null; }
      waiting.textContent = "Reconnecting…";
      tries += 1;
      setTimeout(connect, Math.min(5000, 250 * tries));
    };
  }
  document.getElementById("accept-next").addEventListener("click", function () { say(""); send({ type: "accept_next" }); });
  connect();
})();
