/*
 * RideDesk rider widget: vanilla JS, no build step.
 *
 * Talks to Rasa's socket.io channel (credentials.yml: user_uttered / bot_uttered,
 * session_persistence) and to the console's widget API:
 *   GET /widget/config.json                  {socket_url, socket_path}
 *   GET /api/widget/history?session_id=...   the transcript, rendered on load
 *   GET /api/widget/status?session_id=...    bot | waiting | with_agent | closed (+ queue place)
 *
 * Incoming bot_uttered payloads:
 *   {text, quick_replies?}                   a bot reply (Rasa's SocketIOOutput)
 *   {kind: "agent", agent: "小王", text}      a human agent (console: custom payload)
 *   {kind: "system", text}                   a centred grey notice (console: custom payload)
 *
 * Every piece of message text reaches the page through textContent, never innerHTML.
 */
(function () {
  "use strict";

  var MAX_LEN = 1000;
  var ACK_TIMEOUT_MS = 60000;      // Rasa acks a message after the bot has answered it
  var POLL_WAITING_MS = 5000;      // queue place and wait while waiting for an agent
  var POLL_AGENT_MS = 10000;       // notice when the agent ends the conversation
  var HINT_MS = 3000;
  var ANNOUNCE_GRACE_MS = 3000;
  var KEY_SESSION = "ridedesk.session_id";
  var KEY_OUTBOX = "ridedesk.outbox";

  var $ = function (id) { return document.getElementById(id); };
  var els = {
    log: $("log"), typing: $("typing"), input: $("input"), form: $("composer"),
    send: $("send"), hint: $("hint"), count: $("count"), counter: $("counter"),
    status: $("status"), banner: $("banner"), intro: $("intro")
  };

  // ---------------------------------------------------------------- storage --
  var memoryStore = {};
  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return memoryStore[key] || null; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { memoryStore[key] = value; }
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function sessionId() {
    var id = load(KEY_SESSION);
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      id = uuid();
      save(KEY_SESSION, id);
    }
    return id;
  }

  // ------------------------------------------------------------------ state --
  var state = {
    sessionId: sessionId(),
    socket: null,
    ready: false,            // connected and session confirmed: messages can go out
    everConnected: false,
    outbox: [],              // {id, text, display, el} waiting to be sent
    inflight: {},            // id -> message sent, not yet acknowledged
    chat: "bot",             // bot | waiting | with_agent | closed
    agent: null,
    statusKnown: false,
    pollTimer: null,
    queueNotice: null,
    announced: {},           // join / end -> time a notice for it was shown
    hintTimer: null
  };

  // --------------------------------------------------------------- rendering --
  function nearBottom() {
    var l = els.log;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }
  function scrollToBottom() { els.log.scrollTop = els.log.scrollHeight; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function append(node, forceScroll) {
    var stick = forceScroll || nearBottom();
    els.log.appendChild(node);
    if (stick) scrollToBottom();
    return node;
  }

  function disableAllQuickReplies() {
    var buttons = els.log.querySelectorAll(".quick__btn:not(:disabled)");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  }

  function renderQuickReplies(body, buttons, active) {
    var group = el("div", "quick");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "快捷回复");
    buttons.forEach(function (b) {
      var title = String(b.title || b.payload || "");
      var payload = String(b.payload || b.title || "");
      if (!title) return;
      var btn = el("button", "quick__btn", title);
      btn.type = "button";
      btn.disabled = !active;
      btn.addEventListener("click", function () {
        if (btn.disabled) return;
        var siblings = group.querySelectorAll("button");
        for (var i = 0; i < siblings.length; i++) siblings[i].disabled = true;
        btn.classList.add("quick__btn--chosen");
        submit(payload, title);
      });
      group.appendChild(btn);
    });
    if (group.childNodes.length) body.appendChild(group);
  }

  /** 小王 → 王, 李娜 → 李: the character riders would call the agent by. */
  function avatarChar(name) {
    var chars = Array.from(String(name || "客服"));
    return chars.length > 1 && (chars[0] === "小" || chars[0] === "老" || chars[0] === "阿") ? chars[1] : chars[0];
  }

  /** Adds a chat bubble. role: rider | bot | agent. Returns the row element. */
  function addMessage(role, text, opts) {
    opts = opts || {};
    var row = el("div", "msg msg--" + role);
    if (role !== "rider") {
      var avatar = el("div", "msg__avatar msg__avatar--" + role, role === "agent" ? avatarChar(opts.agent) : "蓝");
      avatar.setAttribute("aria-hidden", "true");
      row.appendChild(avatar);
    }
    var body = el("div", "msg__body");
    if (role === "agent") body.appendChild(el("div", "msg__name", "人工客服 · " + (opts.agent || "客服")));
    if (text) {
      var bubble = el("div", "msg__bubble", text);
      if (role === "agent") bubble.setAttribute("data-agent", opts.agent || "");
      body.appendChild(bubble);
    }
    if (opts.image) {
      var img = el("img", "msg__image");
      img.alt = "图片";
      img.src = opts.image;
      body.appendChild(img);
    }
    if (opts.buttons && opts.buttons.length) renderQuickReplies(body, opts.buttons, opts.active !== false);
    row.appendChild(body);
    return append(row, role === "rider");
  }

  function addNotice(text, className) {
    return append(el("div", "notice" + (className ? " " + className : ""), text));
  }

  function setPending(row, pending, label) {
    if (!row) return;
    row.classList.toggle("msg--pending", pending);
    var meta = row.querySelector(".msg__meta");
    if (pending) {
      var stick = nearBottom();
      if (!meta) { meta = el("div", "msg__meta"); row.querySelector(".msg__body").appendChild(meta); }
      meta.textContent = label || "等待发送…";
      if (stick) scrollToBottom();
    } else if (meta) {
      meta.parentNode.removeChild(meta);
    }
  }

  function updateTyping() {
    var botAnswers = state.chat !== "waiting" && state.chat !== "with_agent";
    var waitingForBot = Object.keys(state.inflight).length > 0 && botAnswers && state.ready;
    var stick = nearBottom();
    els.typing.hidden = !waitingForBot;
    if (waitingForBot && stick) scrollToBottom();
  }

  function showHint(text) {
    els.hint.textContent = text;
    clearTimeout(state.hintTimer);
    state.hintTimer = setTimeout(function () { els.hint.textContent = ""; }, HINT_MS);
  }

  function setConnectionUi(kind) {
    var status = els.status;
    if (kind === "online") {
      els.banner.hidden = true;
      els.banner.textContent = "";
      status.dataset.state = "online";
      status.textContent = headerText();
    } else if (kind === "offline") {
      els.banner.textContent = "网络连接已断开，重新连接中…";
      els.banner.hidden = false;
      status.dataset.state = "offline";
      status.textContent = "重新连接中…";
    } else {
      status.dataset.state = "connecting";
      status.textContent = "连接中…";
    }
  }

  function headerText() {
    if (state.chat === "waiting") return "正在为您转接人工客服";
    if (state.chat === "with_agent") return "人工客服" + (state.agent ? " " + state.agent : "") + " 为您服务";
    return "在线 · 7×24 小时为您服务";
  }

  // ---------------------------------------------------------------- payloads --
  /** Normalises one bot_uttered payload into {kind, text, agent, buttons, image}. */
  function normalize(p) {
    if (!p || typeof p !== "object") return null;
    var extra = {};
    [p.metadata, p.custom, p.data, p.attachment && p.attachment.payload].forEach(function (o) {
      if (o && typeof o === "object" && !Array.isArray(o)) {
        Object.keys(o).forEach(function (k) { if (extra[k] === undefined) extra[k] = o[k]; });
      }
    });
    var kind = p.kind || extra.kind || "bot";
    if (kind !== "agent" && kind !== "system") kind = "bot";
    var text = typeof p.text === "string" ? p.text : (typeof extra.text === "string" ? extra.text : "");
    var buttons = p.quick_replies || p.buttons || extra.buttons || extra.quick_replies || [];
    if (!Array.isArray(buttons)) buttons = [];
    var image = null;
    var src = p.image || (p.attachment && p.attachment.type === "image" && p.attachment.payload && p.attachment.payload.src);
    if (typeof src === "string" && /^https?:\/\//i.test(src)) image = src;
    return {
      kind: kind, text: text, agent: p.agent || extra.agent || null, buttons: buttons, image: image,
      state: p.state || extra.state || null
    };
  }

  function onBotMessage(payload) {
    var m = normalize(payload);
    if (!m || (!m.text && !m.image && !m.buttons.length)) return;
    if (m.kind === "system") {
      noteAnnouncement(m.text);
      addNotice(m.text);
      pollStatus(0);
      return;
    }
    if (m.kind === "agent") {
      addMessage("agent", m.text, { agent: m.agent, image: m.image });
      if (state.chat !== "with_agent") pollStatus(0);
      return;
    }
    addMessage("bot", m.text, { buttons: m.buttons, image: m.image });
  }

  // ------------------------------------------------------------------ status --
  function noteAnnouncement(text) {
    if (/已接入|接入/.test(text)) state.announced.join = Date.now();
    if (/结束/.test(text)) state.announced.end = Date.now();
  }
  /** A notice for a state change seen by polling, unless the console's own notice came. */
  function announce(kind, text) {
    var recent = function () { var at = state.announced[kind]; return at && Date.now() - at < 120000; };
    if (recent()) return;
    // The console pushes its notice right after changing the state: give it a moment.
    setTimeout(function () {
      if (recent()) return;
      state.announced[kind] = Date.now();
      addNotice(text);
    }, ANNOUNCE_GRACE_MS);
  }

  function queueText(s) {
    var position = Number(s.position);
    var ahead = isFinite(position) && position > 0 ? position - 1 : null;
    var parts = [];
    if (s.in_service_hours === false) parts.push("现在是非人工服务时间");
    if (ahead !== null) parts.push("前面还有 " + ahead + " 位");
    if (s.wait_minutes !== null && s.wait_minutes !== undefined && isFinite(Number(s.wait_minutes))) {
      parts.push("预计等待 " + Number(s.wait_minutes) + " 分钟");
    } else if (s.agents_online === 0) {
      parts.push("暂无客服在线，接入后会第一时间回复您");
    }
    if (!parts.length) parts.push("正在为您转接人工客服，请稍候");
    return parts.join("，");
  }

  function applyStatus(s) {
    if (!s || typeof s.state !== "string") return;
    // The first status after loading describes the past: no "joined" / "ended" notices for it.
    var initial = !state.statusKnown;
    state.statusKnown = true;
    var prev = state.chat;
    state.chat = s.state;
    state.agent = s.agent || (s.state === "with_agent" ? state.agent : null);

    if (s.state === "waiting") {
      var text = queueText(s);
      if (!state.queueNotice || !state.queueNotice.isConnected) {
        state.queueNotice = addNotice(text, "notice--queue");
      } else if (state.queueNotice.textContent !== text) {
        state.queueNotice.textContent = text;
      }
    } else if (state.queueNotice) {
      state.queueNotice.remove();
      state.queueNotice = null;
    }

    if (!initial && prev !== s.state) {
      if (s.state === "with_agent") announce("join", "客服" + (s.agent || "") + "已接入");
      if (prev === "with_agent" && (s.state === "closed" || s.state === "bot")) announce("end", "客服已结束会话");
    }
    if (s.state === "waiting" && prev !== "waiting") state.announced = {};
    if (state.ready) els.status.textContent = headerText();
    updateTyping();

    clearTimeout(state.pollTimer);
    if (s.state === "waiting") state.pollTimer = setTimeout(function () { pollStatus(0); }, POLL_WAITING_MS);
    else if (s.state === "with_agent") state.pollTimer = setTimeout(function () { pollStatus(0); }, POLL_AGENT_MS);
  }

  var statusSeq = 0;
  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(url + " " + r.status); return r.json(); });
  }

  function pollStatus(delay) {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(function () {
      var seq = ++statusSeq;
      fetchJson("/api/widget/status?session_id=" + encodeURIComponent(state.sessionId))
        .then(function (s) { if (seq === statusSeq) applyStatus(s); })
        .catch(function () {
          // Console unreachable: try again later if an agent may be involved.
          if (state.chat === "waiting" || state.chat === "with_agent") {
            state.pollTimer = setTimeout(function () { pollStatus(0); }, POLL_WAITING_MS);
          }
        });
    }, delay || 0);
  }

  // ----------------------------------------------------------------- history --
  function renderHistory(items) {
    if (!Array.isArray(items)) return;
    var lastRider = -1;
    items.forEach(function (m, i) { if (m && m.role === "rider") lastRider = i; });
    var lastButtons = [];
    var lastButtonGroup = null;
    items.forEach(function (m, i) {
      if (!m || typeof m !== "object") return;
      var text = typeof m.text === "string" ? m.text : "";
      var buttons = Array.isArray(m.buttons) ? m.buttons : [];
      if (m.role === "rider") {
        // A clicked quick reply is stored as its payload: show the title the rider saw.
        var match = lastButtons.filter(function (b) { return b && b.payload === text; })[0];
        if (match && lastButtonGroup) {
          var chosen = Array.prototype.filter.call(lastButtonGroup.querySelectorAll(".quick__btn"),
            function (b) { return b.textContent === String(match.title); })[0];
          if (chosen) chosen.classList.add("quick__btn--chosen");
        }
        if (m.display_text) text = String(m.display_text);
        else if (match && match.title) text = String(match.title);
        lastButtons = [];
        lastButtonGroup = null;
        if (text) addMessage("rider", text);
      } else if (m.role === "agent") {
        if (text) addMessage("agent", text, { agent: m.agent });
      } else if (m.role === "system") {
        if (text) addNotice(text);
      } else {
        if (text || buttons.length) {
          var row = addMessage("bot", text, { buttons: buttons, active: i > lastRider });
          if (buttons.length) { lastButtons = buttons; lastButtonGroup = row.querySelector(".quick"); }
        }
      }
    });
    scrollToBottom();
  }

  function clearLog() {
    var nodes = Array.prototype.slice.call(els.log.childNodes);
    nodes.forEach(function (n) { if (n !== els.typing && n !== els.intro) els.log.removeChild(n); });
    state.queueNotice = null;
  }

  function loadHistory() {
    return fetchJson("/api/widget/history?session_id=" + encodeURIComponent(state.sessionId))
      .then(function (items) {
        clearLog();
        renderHistory(Array.isArray(items) ? items : (items && items.messages) || []);
        renderOutbox();
        return true;
      })
      .catch(function () { renderOutbox(); return false; });
  }

  /** Messages not yet sent stay below the transcript, marked as pending. */
  function renderOutbox() {
    state.outbox.forEach(function (m) {
      if (!m.el || !m.el.isConnected) m.el = addMessage("rider", m.display);
      setPending(m.el, true);
    });
  }

  // ----------------------------------------------------------------- sending --
  function persistOutbox() {
    // Only what never left: a message in flight may already be with Rasa, and sending it
    // again after a reload would duplicate it (in-page reconnects do resend it).
    save(KEY_OUTBOX, JSON.stringify(state.outbox.map(function (m) {
      return { id: m.id, text: m.text, display: m.display };
    })));
  }

  function restoreOutbox() {
    try {
      var saved = JSON.parse(load(KEY_OUTBOX) || "[]");
      if (Array.isArray(saved)) {
        state.outbox = saved.filter(function (m) { return m && typeof m.text === "string" && m.text; })
          .map(function (m) { return { id: String(m.id || uuid()), text: m.text.slice(0, MAX_LEN), display: String(m.display || m.text) }; });
      }
    } catch (e) { state.outbox = []; }
  }

  /** Sends text as the rider (display: what the rider sees, e.g. a button title). */
  function submit(text, display) {
    text = String(text == null ? "" : text);
    if (!text.trim()) {
      showHint("请输入内容后再发送哦");
      els.input.focus();
      return false;
    }
    if (text.length > MAX_LEN) {
      text = text.slice(0, MAX_LEN);
      showHint("消息太长，只发送了前 " + MAX_LEN + " 个字");
    }
    disableAllQuickReplies();
    var msg = { id: uuid(), text: text.trim(), display: String(display || text).trim() };
    msg.el = addMessage("rider", msg.display);
    state.outbox.push(msg);
    persistOutbox();
    if (!state.ready) setPending(msg.el, true);
    flush();
    return true;
  }

  function flush() {
    if (!state.ready) {
      state.outbox.forEach(function (m) { setPending(m.el, true); });
      return;
    }
    while (state.outbox.length && state.ready) emit(state.outbox.shift());
    persistOutbox();
  }

  function emit(msg) {
    state.inflight[msg.id] = msg;
    setPending(msg.el, false);
    var metadata = { client_message_id: msg.id };
    if (msg.display !== msg.text) metadata.display_text = msg.display;
    var data = { message: msg.text, session_id: state.sessionId, metadata: metadata };
    state.socket.timeout(ACK_TIMEOUT_MS).emit("user_uttered", data, function (err) {
      if (!state.inflight[msg.id]) return;
      delete state.inflight[msg.id];
      if (err && !state.socket.connected) {
        // Lost with the connection: send again after reconnecting (at least once).
        state.outbox.unshift(msg);
        setPending(msg.el, true);
      }
      persistOutbox();
      updateTyping();
      if (!err) pollStatus(300);
    });
    updateTyping();
  }

  // -------------------------------------------------------------- connection --
  function connect(config) {
    var url = (config && config.socket_url) || window.location.origin;
    var path = (config && config.socket_path) || "/socket.io/";
    if (typeof window.io !== "function") {
      setConnectionUi("offline");
      return;
    }
    var socket = window.io(url, {
      path: path,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 10000
    });
    state.socket = socket;

    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId });
    });

    socket.on("session_confirm", function () {
      var reconnect = state.everConnected;
      state.everConnected = true;
      var resume = function () {
        state.ready = true;
        setConnectionUi("online");
        flush();
        updateTyping();
      };
      if (reconnect) {
        // Catch up on anything said while we were away (e.g. an agent's reply), then send.
        loadHistory().then(function () { pollStatus(0); resume(); });
      } else {
        resume();
      }
    });

    socket.on("bot_uttered", onBotMessage);

    socket.on("disconnect", function (reason) {
      state.ready = false;
      // Whatever was sent but not acknowledged goes back to the front of the queue.
      Object.keys(state.inflight).forEach(function (id) {
        state.outbox.unshift(state.inflight[id]);
        delete state.inflight[id];
      });
      state.outbox.forEach(function (m) { setPending(m.el, true); });
      persistOutbox();
      updateTyping();
      if (reason !== "io client disconnect") setConnectionUi("offline");
    });

    socket.on("connect_error", function () {
      state.ready = false;
      setConnectionUi(state.everConnected ? "offline" : "connecting");
      if (!state.everConnected) {
        els.banner.textContent = "正在连接客服，重新连接中…";
        els.banner.hidden = false;
      }
    });

    window.addEventListener("online", function () { if (!socket.connected) socket.connect(); });
  }

  // ------------------------------------------------------------------- input --
  var composing = false;
  els.input.addEventListener("compositionstart", function () { composing = true; });
  els.input.addEventListener("compositionend", function () { composing = false; });

  els.input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    // Enter that confirms an IME candidate (拼音 → 汉字) must not send.
    if (event.isComposing || event.keyCode === 229 || composing) return;
    if (event.shiftKey) return; // newline
    event.preventDefault();
    sendFromInput();
  });

  els.form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendFromInput();
  });

  function sendFromInput() {
    if (submit(els.input.value)) {
      els.input.value = "";
      onInput();
    }
    els.input.focus();
  }

  function onInput() {
    var n = els.input.value.length;
    els.count.textContent = String(n);
    els.counter.classList.toggle("composer__counter--full", n >= MAX_LEN);
    if (n >= MAX_LEN) showHint("最多输入 " + MAX_LEN + " 个字");
    else if (n && els.hint.textContent.indexOf("请输入内容") === 0) els.hint.textContent = "";
    els.input.style.height = "auto";
    els.input.style.height = Math.min(els.input.scrollHeight + 2, 120) + "px";
  }
  els.input.addEventListener("input", onInput);

  // -------------------------------------------------------------------- boot --
  restoreOutbox();
  setConnectionUi("connecting");
  var config = fetchJson("/widget/config.json").catch(function () { return {}; });
  loadHistory().then(function () {
    pollStatus(0);
    return config;
  }).then(connect);

  // For debugging and tests only: read-only handles, no message text.
  window.RideDesk = Object.freeze({
    get sessionId() { return state.sessionId; },
    get socket() { return state.socket; },
    get state() { return state.chat; },
    get ready() { return state.ready; },
    get pending() { return state.outbox.length + Object.keys(state.inflight).length; }
  });
})();
