// Every staff page: the staff socket (chat.consumers.StaffConsumer). Its pings are the agent's
// presence for chat; "inbox" frames refresh the nav's waiting count (and the inbox itself when
// it is this page); "alert" frames show a toast for a VIP chat waiting for this agent.
(function () {
  "use strict";

  var PING_EVERY = 25000;
  var MAX_BACKOFF = 15000;
  var TOAST_SHOWN = 120000;

  var holder = document.getElementById("staff-live");
  if (!holder || !("WebSocket" in window)) return;
  var data = holder.dataset;
  var state = { socket: null, attempts: 0, pingTimer: null, refreshTimer: null };

  function setBadge(count) {
    document.querySelectorAll("[data-chat-waiting]").forEach(function (badge) {
      badge.textContent = String(count);
      badge.hidden = count === 0;
    });
  }

  function countFromInbox(inbox) {
    var rows = inbox.querySelector("[data-waiting-count]");
    if (rows) setBadge(Number(rows.dataset.waitingCount) || 0);
  }

  function refresh() {
    var inbox = document.getElementById("chat-inbox");
    if (inbox) {
      window.fetch(inbox.dataset.rowsUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response); })
        .then(function (html) {
          inbox.innerHTML = html;
          if (window.htmx) window.htmx.process(inbox);
          countFromInbox(inbox);
          inbox.dispatchEvent(new CustomEvent("chat:inbox-refreshed", { bubbles: true }));
        })
        .catch(function () {});
      return;
    }
    window.fetch(data.countUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (answer) { setBadge(answer.waiting); })
      .catch(function () {});
  }

  // Several changes at once (a chat starts and is taken) make one request.
  function scheduleRefresh() {
    window.clearTimeout(state.refreshTimer);
    state.refreshTimer = window.setTimeout(refresh, 250);
  }

  function toasts() {
    var box = document.getElementById("chat-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "chat-toasts";
      box.className = "chat-toasts";
      box.setAttribute("aria-live", "assertive");
      document.body.appendChild(box);
    }
    return box;
  }

  function showAlert(frame) {
    var toast = document.createElement("div");
    toast.className = "chat-toast";
    toast.setAttribute("role", "alert");
    toast.dataset.testid = "chat-alert";
    var title = document.createElement("strong");
    title.textContent = data.i18nAlert;
    var who = document.createElement("p");
    who.textContent = frame.customer + " · " + frame.company;
    toast.appendChild(title);
    toast.appendChild(who);
    if (frame.preview) {
      var preview = document.createElement("p");
      preview.className = "muted";
      preview.textContent = "“" + frame.preview + "”";
      toast.appendChild(preview);
    }
    var link = document.createElement("a");
    link.className = "button primary";
    link.href = frame.url;
    link.textContent = data.i18nOpen;
    toast.appendChild(link);
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "dismiss";
    dismiss.setAttribute("aria-label", data.i18nDismiss);
    dismiss.textContent = "×";
    dismiss.addEventListener("click", function () { toast.remove(); });
    toast.appendChild(dismiss);
    toasts().appendChild(toast);
    window.setTimeout(function () { toast.remove(); }, TOAST_SHOWN);
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(scheme + "//" + window.location.host + data.wsPath);
    state.socket = socket;
    window.vipStaffSocket = socket;
    socket.addEventListener("open", function () {
      // A change missed while disconnected shows now rather than at the next one.
      if (state.attempts > 0) scheduleRefresh();
      state.attempts = 0;
      state.pingTimer = window.setInterval(function () { send({ type: "ping" }); }, PING_EVERY);
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame.type === "inbox") scheduleRefresh();
      else if (frame.type === "alert") showAlert(frame);
    });
    socket.addEventListener("close", function (event) {
      window.clearInterval(state.pingTimer);
      if (event.code === 4403) return; // not staff (any more): no retry
      var delay = Math.min(MAX_BACKOFF, 1000 * Math.pow(2, state.attempts));
      state.attempts += 1;
      window.setTimeout(connect, delay);
    });
  }

  // The inbox's own 30-second htmx refresh carries the count too.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "chat-inbox") countFromInbox(event.target);
  });

  connect();
})();
