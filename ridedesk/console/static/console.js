/*
 * RideDesk agent console: vanilla JS, no build step.
 *
 * Rider text is untrusted: it only ever reaches the page through textContent (the el()
 * helper below), never through an HTML parser; no inline handlers (the CSP forbids them).
 * Every POST carries the session's CSRF token in X-CSRF-Token.
 */
(function () {
  "use strict";

  var HEARTBEAT_MS = 20000;
  var QUEUE_MS = 3000;
  var TRANSCRIPT_MS = 2000;

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var body = document.body;
  var handoffId = body.dataset.handoffId ? Number(body.dataset.handoffId) : null;
  var $ = function (id) { return document.getElementById(id); };

  // ----------------------------------------------------------------- helpers --
  /** Creates an element; text is set with textContent, never parsed as HTML. */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function flash(message, kind) {
    var box = $("flash");
    if (!box) return;
    box.textContent = message;
    box.className = "flash flash--" + (kind || "info");
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  function api(method, url, data) {
    var options = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" }
    };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf;
      options.body = JSON.stringify(data || {});
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 401) {
        window.location.href = "/console/login?next=" + encodeURIComponent(window.location.pathname);
        throw new Error("login required");
      }
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error(json.message || ("请求失败（" + response.status + "）"));
          error.status = response.status;
          error.body = json;
          throw error;
        }
        return json;
      });
    });
  }

  function formData(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name) data[field.name] = field.value;
    });
    return data;
  }

  function minutesSince(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return null;
    return Math.max(0, Math.floor((Date.now() - t) / 60000));
  }

  function waitText(seconds) {
    var m = Math.floor(seconds / 60);
    if (m < 1) return "刚刚";
    if (m < 60) return "已等 " + m + " 分钟";
    return "已等 " + Math.floor(m / 60) + " 小时 " + (m % 60) + " 分";
  }

  function clock(ts) {
    var d = typeof ts === "number" ? new Date(ts * 1000) : new Date(ts);
    if (isNaN(d.getTime())) return "";
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  // -------------------------------------------------------------- heartbeat --
  function heartbeat() {
    api("POST", "/console/api/heartbeat").then(function (r) {
      var n = $("agents-online");
      if (n) n.textContent = String(r.agents_online);
    }).catch(function () {});
  }

  // ------------------------------------------------------------------ queue --
  function queueItem(h, kind) {
    var li = el("li", "qitem qitem--" + h.priority + (h.id === handoffId ? " qitem--current" : ""));
    li.dataset.id = String(h.id);
    var a = el("a", "qitem__link");
    a.href = "/console/handoffs/" + encodeURIComponent(h.id);
    a.appendChild(el("span", "badge badge--" + h.priority, h.priority_label));
    a.appendChild(el("span", "qitem__category", h.category_label));
    var info = kind === "waiting"
      ? "第 " + h.position + " 位 · " + waitText(h.waiting_seconds)
      : (h.claimed_by_name || h.claimed_by || "");
    a.appendChild(el("span", "qitem__wait", info));
    a.appendChild(el("span", "qitem__text", h.last_message || h.reason_label));
    li.appendChild(a);
    if (kind === "waiting") {
      var b = el("button", "btn btn--small", "接入");
      b.type = "button";
      b.dataset.action = "claim";
      b.dataset.id = String(h.id);
      li.appendChild(b);
    }
    return li;
  }

  function renderList(id, items, kind, emptyText) {
    var list = $(id);
    if (!list) return;
    clear(list);
    if (!items.length) list.appendChild(el("li", "empty", emptyText));
    items.forEach(function (h) { list.appendChild(queueItem(h, kind)); });
  }

  function refreshQueue() {
    return api("GET", "/console/api/queue").then(function (q) {
      renderList("waiting-list", q.waiting, "waiting", "暂无排队用户");
      renderList("mine-list", q.mine, "mine", "暂无");
      renderList("others-list", q.others, "others", "暂无");
      $("waiting-count").textContent = String(q.waiting.length);
      $("mine-count").textContent = String(q.mine.length);
      $("others-count").textContent = String(q.others.length);
      $("agents-online").textContent = String(q.agents_online);
      $("hours-state").textContent = "服务时间 " + q.service_hours + (q.in_service_hours ? "" : "（当前非服务时间）");
      document.title = (q.waiting.length ? "(" + q.waiting.length + ") " : "") + "RideDesk 人工客服工作台";
    }).catch(function () {});
  }

  // ------------------------------------------------------------- transcript --
  var shownSignature = null;

  function who(m) {
    if (m.role === "rider") return "用户";
    if (m.role === "agent") return "客服" + (m.agent || "");
    if (m.role === "system") return "系统";
    return "机器人";
  }

  function renderTranscript(data) {
    var list = $("transcript");
    if (!list) return;
    var errorBox = $("transcript-error");
    if (errorBox) {
      errorBox.hidden = !data.error;
      errorBox.textContent = data.error || "";
    }
    if (data.error) return;
    var messages = data.messages || [];
    var last = messages[messages.length - 1];
    var signature = messages.length + ":" + (last ? last.timestamp : "");
    if (signature === shownSignature) return;
    var first = shownSignature === null;
    shownSignature = signature;
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    clear(list);
    if (!messages.length) list.appendChild(el("li", "empty", "暂无聊天记录"));
    messages.forEach(function (m) {
      var li = el("li", "msg msg--" + (m.role || "bot"));
      li.appendChild(el("span", "msg__who", who(m) + " " + clock(m.timestamp)));
      li.appendChild(el("span", "msg__text", m.display_text || m.text || ""));
      if (m.buttons && m.buttons.length) {
        var chips = el("span", "msg__buttons");
        m.buttons.forEach(function (b) { chips.appendChild(el("span", "chip", b.title)); });
        li.appendChild(chips);
      }
      if (m.intent) li.appendChild(el("span", "msg__intent", m.intent));
      list.appendChild(li);
    });
    if (atBottom || first) list.scrollTop = list.scrollHeight;
  }

  function refreshTranscript() {
    if (!handoffId) return Promise.resolve();
    return fetch("/console/api/handoffs/" + handoffId + "/transcript", {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (r.status === 401) { window.location.href = "/console/login"; return null; }
      return r.json();
    }).then(function (data) {
      if (!data) return;
      renderTranscript(data);
      if (data.status && data.status !== body.dataset.handoffStatus) {
        // Claimed, released or resolved elsewhere: show the new state and buttons.
        window.location.reload();
      }
    }).catch(function () {});
  }

  // ---------------------------------------------------------- notes, tickets --
  function renderNotes(notes) {
    var list = $("notes");
    if (!list) return;
    clear(list);
    if (!notes.length) list.appendChild(el("li", "empty", "暂无备注"));
    notes.forEach(function (n) {
      var li = el("li", "note");
      li.appendChild(el("span", "note__meta", n.author_name + " · " + clock(n.created_at)));
      li.appendChild(el("span", "note__text", n.text));
      list.appendChild(li);
    });
  }

  function ticketBlock(t) {
    var box = el("div", "ticket");
    box.dataset.number = t.number;
    var head = el("p");
    head.appendChild(el("strong", null, t.number));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "tag", t.category_label));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "tag", t.status_label));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "badge badge--" + t.priority, t.priority_label));
    if (t.overdue) head.appendChild(el("span", "badge badge--urgent", "已超时"));
    box.appendChild(head);
    box.appendChild(el("p", "ticket__desc", t.description));
    if (t.resolution) box.appendChild(el("p", "muted", "处理结果：" + t.resolution));
    if (t.status !== "closed") {
      var form = el("form", "ticket__update stack");
      form.dataset.number = t.number;
      var select = el("select");
      select.name = "status";
      select.appendChild(new Option("仅添加备注", ""));
      t.next_statuses.forEach(function (s) { select.appendChild(new Option("改为：" + s.label, s.value)); });
      var note = el("input");
      note.name = "note";
      note.maxLength = 2000;
      note.placeholder = "跟进说明（标记已解决时必填）";
      var button = el("button", "btn btn--small", "更新工单");
      button.type = "submit";
      form.appendChild(select);
      form.appendChild(note);
      form.appendChild(button);
      box.appendChild(form);
    }
    return box;
  }

  function renderTickets(tickets) {
    var box = $("tickets");
    if (!box) return;
    clear(box);
    if (!tickets.length) box.appendChild(el("p", "muted", "该用户暂无工单"));
    tickets.forEach(function (t) { box.appendChild(ticketBlock(t)); });
  }

  function refreshDetail() {
    if (!handoffId) return Promise.resolve();
    return api("GET", "/console/api/handoffs/" + handoffId).then(function (d) {
      renderNotes(d.notes);
      renderTickets(d.tickets);
    }).catch(function () {});
  }

  // ---------------------------------------------------------------- actions --
  function claim(id, button) {
    if (button) button.disabled = true;
    api("POST", "/console/api/handoffs/" + id + "/claim").then(function (r) {
      if (r.warning) flash(r.warning, "warn");
      window.location.href = "/console/handoffs/" + encodeURIComponent(id);
    }).catch(function (error) {
      flash(error.message, "error");
      if (button) button.disabled = false;
      refreshQueue();
    });
  }

  function act(kind, id, button) {
    if (kind === "resolve" && !window.confirm("结束人工服务并交还机器人？机器人会邀请用户评价。")) return;
    if (kind === "release" && !window.confirm("把用户放回队列，由其他客服接入？")) return;
    if (button) button.disabled = true;
    api("POST", "/console/api/handoffs/" + id + "/" + kind).then(function (r) {
      if (kind === "resolve" && r.rating_requested === false) flash("会话已结束，但评价邀请未能发出。", "warn");
      window.location.href = "/console/";
    }).catch(function (error) {
      flash(error.message, "error");
      if (button) button.disabled = false;
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!target) return;
    var action = target.dataset.action;
    if (action === "claim") { event.preventDefault(); claim(target.dataset.id, target); }
    else if (action === "resolve" || action === "release") { event.preventDefault(); act(action, target.dataset.id, target); }
  });

  function sendReply(form) {
    var box = $("reply-text");
    var text = box.value.trim();
    if (!text) return;
    var button = form.querySelector("button");
    button.disabled = true;
    api("POST", "/console/api/handoffs/" + handoffId + "/reply", { text: text }).then(function (r) {
      box.value = "";
      if (r.warning) flash(r.warning, "warn");
      refreshTranscript();
    }).catch(function (error) {
      flash(error.message, "error");
    }).then(function () { button.disabled = false; box.focus(); });
  }

  var replyForm = $("reply-form");
  if (replyForm) {
    replyForm.addEventListener("submit", function (event) { event.preventDefault(); sendReply(replyForm); });
    $("reply-text").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        sendReply(replyForm);
      }
    });
  }

  var noteForm = $("note-form");
  if (noteForm) {
    noteForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/console/api/handoffs/" + handoffId + "/notes", formData(noteForm)).then(function () {
        noteForm.reset();
        refreshDetail();
      }).catch(function (error) { flash(error.message, "error"); });
    });
  }

  var ticketForm = $("ticket-form");
  if (ticketForm) {
    ticketForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/console/api/handoffs/" + handoffId + "/tickets", formData(ticketForm)).then(function (r) {
        flash(r.created ? "已创建工单 " + r.ticket.number : "该问题已有进行中的工单 " + r.ticket.number, "info");
        ticketForm.reset();
        refreshDetail();
      }).catch(function (error) { flash(error.message, "error"); });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("ticket__update")) return;
    event.preventDefault();
    api("POST", "/console/api/tickets/" + encodeURIComponent(form.dataset.number), formData(form)).then(function () {
      flash("工单已更新", "info");
      refreshDetail();
    }).catch(function (error) { flash(error.message, "error"); });
  });

  var agentForm = $("agent-form");
  if (agentForm) {
    agentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/console/api/agents", formData(agentForm)).then(function (r) {
        flash("已创建账号 " + r.agent.username + "（" + r.agent.display_name + "）", "info");
        agentForm.reset();
      }).catch(function (error) { flash(error.message, "error"); });
    });
  }

  // ------------------------------------------------------------------- boot --
  heartbeat();
  setInterval(heartbeat, HEARTBEAT_MS);
  refreshQueue();
  setInterval(refreshQueue, QUEUE_MS);
  if (handoffId) {
    refreshTranscript();
    setInterval(refreshTranscript, TRANSCRIPT_MS);
    refreshDetail();
  }
})();
