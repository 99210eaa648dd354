// The help-seeker's web chat. Everything lives in this page's memory: the resume token, the messages. No
// cookie, no storage, nothing in the address. A dropped connection is resumed with the token and the last
// message number seen, so nothing is lost; the quick exit ends the chat, closes the socket and forgets it all.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  var T = {
    queue: root.getAttribute("data-t-queue"),
    joined: root.getAttribute("data-t-joined"),
    ended: root.getAttribute("data-t-ended"),
    reconnecting: root.getAttribute("data-t-reconnecting"),
    transferred: root.getAttribute("data-t-transferred"),
    you: root.getAttribute("data-t-you"),
    advocate: root.getAttribute("data-t-advocate"),
    tooMany: root.getAttribute("data-t-too-many")
  };
  var pre = document.getElementById("pre-chat");
  var live = document.getElementById("chat-live");
  var status = document.getElementById("chat-status");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var text = document.getElementById("chat-text");
  var endButton = document.getElementById("chat-end");
  var ws = null, token = null, lastSeq = 0, accepted = false, ended = false, leaving = false, tries = 0;

  function socketUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/socket";
  }
  function say(s) { status.textContent = s || ""; }
  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function systemText(code) {
    if (code === "advocate_joined") { return T.joined; }
    if (code === "transferred") { return T.transferred; }
    if (code === "ended") { return T.ended; }
    return code;
  }
  function render(m) {
    var li = document.createElement("li");
    var kind = m.author && m.author.kind;
    li.className = "msg " + kind;
    li.setAttribute("data-seq", String(m.seq));
    if (kind === "system") {
      li.textContent = systemText(m.text);
    } else {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = (kind === "seeker" ? T.you : T.advocate) + ": ";
      li.appendChild(who);
      li.appendChild(document.createTextNode(m.text));
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }
  function finish() {
    ended = true;
    token = null;
    say(T.ended);
    text.disabled = true;
    form.querySelector("button[type=submit]").disabled = true;
    endButton.disabled = true;
  }
  function handle(f) {
    switch (f.type) {
      case "started": if (f.token) { token = f.token; } break;
      case "queued": if (!accepted) { say(T.queue.replace("{position}", String(f.position))); } break;
      case "accepted": accepted = true; say(""); break;
      case "transferred": break;
      case "message":
        if (f.message.seq <= lastSeq) { return; }
        lastSeq = f.message.seq;
        if (f.message.author.kind === "system" && f.message.text === "advocate_joined") { accepted = true; say(""); }
        render(f.message);
        break;
      case "ended": finish(); break;
      case "error":
        // A resume after the chat was ended (the connection was away too long): it is over.
        if (f.code === "ended" || f.code === "unknown_chat") { finish(); }
        else if (f.code === "rate_limited") { token = null; say(T.tooMany); }
        else { say(f.detail); }
        break;
      default: break;
    }
  }
  function connect(first) {
    var sock = new WebSocket(socketUrl());
    ws = sock;
    sock.onopen = function () {
      tries = 0;
      if (first) { sock.send(JSON.stringify(first)); first = null; }
      else if (token) { sock.send(JSON.stringify({ type: "resume", token: token, after_seq: lastSeq })); }
    };
    sock.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      handle(f);
    };
    sock.onclose = function () {
      if (ws === sock) { ws = null; }
      if (leaving || ended || (!token && !first)) { return; }
      say(T.reconnecting);
      tries += 1;
      setTimeout(function () { if (!leaving && !ended) { connect(first); } }, Math.min(5000, 250 * tries));
    };
  }
  pre.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var language = pre.querySelector("input[name=language]:checked");
    var safe = pre.querySelector("input[name=safe_to_chat]:checked");
    if (!safe) { return; }
    pre.hidden = true;
    live.hidden = false;
    say(T.queue.replace("{position}", "…"));
    connect({ type: "start", language: language ? language.value : root.getAttribute("data-lang"), safe_to_chat: safe.value });
    text.focus();
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = text.value.trim();
    if (!value) { return; }
    if (send({ type: "send", text: value })) { text.value = ""; }
  });
  text.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  endButton.addEventListener("click", function () { send({ type: "end" }); });
  // The quick exit (quick-exit.js) announces itself first: end the chat and forget everything.
  window.addEventListener("lantern:quick-exit", function () {
    leaving = true;
    if (ws) {
      try { if (ws.readyState === 1 && !ended) { ws.send(JSON.stringify({ type: "end" })); } ws.close(); } catch (e) { /* leaving anyway */ }
    }
    ws = null;
    token = null;
    lastSeq = 0;
    while (log.firstChild) { log.removeChild(log.firstChild); }
    text.value = "";
  });
})();
