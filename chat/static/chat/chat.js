// The live part of a chat page (chat/templates/chat/_chat.html), on chat.consumers' protocol:
// messages both ways, typing, read receipts, files over HTTP, and a socket that reconnects and
// resumes from the last message id it has, so nothing is lost or shown twice. The page works
// without it: every form posts, and the transcript is rendered by the server.
(function () {
  "use strict";

  var NO_RETRY = [4403, 4404];
  var PING_EVERY = 25000;
  var TYPING_EVERY = 3000;
  var TYPING_SHOWN = 5000;
  var MAX_BACKOFF = 15000;

  // An id of our own for each message, so a resend after a reconnect is stored once.
  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; getRandomValues does not.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // The doors' first-message forms: a double submit starts one chat with one message.
  document.querySelectorAll("form[data-client-id] input[name=client_id]").forEach(function (input) {
    if (!input.value) input.value = newClientId();
  });

  var root = document.getElementById("chat");
  if (!root || !("WebSocket" in window)) return;

  var data = root.dataset;
  var side = data.side;
  var other = side === "customer" ? "staff" : "customer";
  var canWrite = data.canWrite === "1";
  var conversationId = data.conversation;
  var transcript = document.getElementById("chat-transcript");
  var pendingList = document.getElementById("chat-pending");
  var scroller = document.getElementById("chat-scroll");
  var typingLine = document.getElementById("chat-typing");
  var connectionLine = document.getElementById("chat-connection");
  var closedLine = document.getElementById("chat-closed");
  var composer = document.getElementById("chat-composer");
  var textarea = document.getElementById("chat-body");
  var fileInput = document.getElementById("chat-files");
  var errorsBox = document.getElementById("chat-errors");

  var state = {
    socket: null,
    live: false, // the backlog has arrived: sends go out now
    gone: false, // refused for good (4403/4404)
    attempts: 0,
    pingTimer: null,
    reconnectTimer: null,
    typingTimer: null,
    lastTypingSent: 0,
    lastId: 0,
    status: data.status,
    ticket: data.ticket ? Number(data.ticket) : null,
    otherReadUpTo: Number(side === "customer" ? data.staffRead : data.customerRead) || 0,
    myReadUpTo: Number(side === "customer" ? data.customerRead : data.staffRead) || 0,
    // client_id -> {body, element, acked}: shown as "sending…" until the stored message arrives.
    pending: new Map(),
    uploadClientId: null,
  };

  function text(key, values) {
    var value = data["i18n" + key] || "";
    Object.keys(values || {}).forEach(function (name) {
      value = value.split("{" + name + "}").join(values[name]);
    });
    return value;
  }

  transcript.querySelectorAll("li[data-id]").forEach(function (item) {
    state.lastId = Math.max(state.lastId, Number(item.dataset.id));
  });

  // Times in the zone the server used for the rendered messages.
  var timeFormat, fullFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(data.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: data.tz });
    fullFormat = new Intl.DateTimeFormat(data.lang, { dateStyle: "medium", timeStyle: "short", timeZone: data.tz });
  } catch (error) {
    timeFormat = new Intl.DateTimeFormat(data.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    fullFormat = new Intl.DateTimeFormat(data.lang, { dateStyle: "medium", timeStyle: "short" });
  }

  function fileSize(bytes) {
    if (bytes < 1024) return bytes + " bytes"; // as Django's filesizeformat writes it
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // The same markup as chat/_message.html.
  function renderMessage(message) {
    var item = element("li", "bubble " + message.side + (message.side === side ? " mine" : ""));
    item.id = "chat-message-" + message.id;
    item.dataset.id = message.id;
    item.dataset.side = message.side;
    var header = element("header");
    if (message.side !== "system") {
      header.appendChild(element("strong", "", message.author || text("Support")));
      header.appendChild(document.createTextNode(" "));
    }
    var when = new Date(message.created_at);
    var time = element("time", "", timeFormat.format(when));
    time.setAttribute("datetime", message.created_at);
    time.title = fullFormat.format(when);
    header.appendChild(time);
    item.appendChild(header);
    if (message.body_html) {
      var body = element("div", "body");
      body.innerHTML = message.body_html; // sanitised by the server's Markdown renderer
      item.appendChild(body);
    }
    if (message.files && message.files.length) {
      var files = element("ul", "files");
      message.files.forEach(function (file) {
        var entry = element("li");
        var link = element("a", "", "📎 " + file.name);
        link.href = file.url;
        entry.appendChild(link);
        entry.appendChild(document.createTextNode(" "));
        entry.appendChild(element("span", "muted", "(" + fileSize(file.size) + ")"));
        files.appendChild(entry);
      });
      item.appendChild(files);
    }
    return item;
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function addMessage(message) {
    var stick = nearBottom() || message.side === side;
    if (message.client_id && state.pending.has(message.client_id)) {
      state.pending.get(message.client_id).element.remove();
      state.pending.delete(message.client_id);
    }
    state.lastId = Math.max(state.lastId, message.id);
    if (document.getElementById("chat-message-" + message.id)) return; // a resume overlap
    var item = renderMessage(message);
    // In id order, whatever order the frames came in.
    var later = null;
    transcript.querySelectorAll("li[data-id]").forEach(function (existing) {
      if (!later && Number(existing.dataset.id) > message.id) later = existing;
    });
    transcript.insertBefore(item, later);
    if (message.side === other) hideTyping();
    updateSeen();
    if (stick) scrollDown();
    markRead();
  }

  // "Seen" under the newest own message the other side has read.
  function updateSeen() {
    var target = null;
    transcript.querySelectorAll("li.mine[data-id]").forEach(function (item) {
      if (Number(item.dataset.id) <= state.otherReadUpTo) target = item;
    });
    var receipt = transcript.querySelector(".receipt");
    if (receipt && receipt.parentNode === target) return;
    if (receipt) receipt.remove();
    if (target) {
      receipt = element("p", "receipt", text("Seen"));
      receipt.dataset.testid = "seen";
      target.appendChild(receipt);
    }
  }

  // Tell the server what this side has seen: only a visible page reads.
  function markRead() {
    if (!canWrite || !state.live || document.visibilityState !== "visible") return;
    var newest = 0;
    transcript.querySelectorAll("li[data-id]").forEach(function (item) {
      if (item.dataset.side !== side) newest = Math.max(newest, Number(item.dataset.id));
    });
    if (newest > state.myReadUpTo) {
      state.myReadUpTo = newest;
      send({ type: "read", up_to: newest });
    }
  }

  function showTyping(name) {
    typingLine.textContent = text("Typing", { name: name });
    typingLine.hidden = false;
    window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN);
  }

  function hideTyping() {
    window.clearTimeout(state.typingTimer);
    typingLine.hidden = true;
    typingLine.textContent = "";
  }

  function setConnection(kind) {
    connectionLine.classList.toggle("gone", kind === "gone");
    connectionLine.hidden = kind === "live";
    connectionLine.textContent = kind === "live" ? "" : text(kind.charAt(0).toUpperCase() + kind.slice(1));
  }

  function showErrors(messages) {
    if (!errorsBox) return;
    errorsBox.textContent = "";
    messages.forEach(function (message) { errorsBox.appendChild(element("p", "", message)); });
    errorsBox.hidden = messages.length === 0;
  }

  function applyStatus(frame) {
    state.status = frame.status;
    root.dataset.status = frame.status;
    var statusText = document.getElementById("chat-status-text");
    if (statusText) {
      statusText.dataset.status = frame.status;
      statusText.textContent = frame.status === "waiting" ? text("Waiting")
        : frame.status === "active" ? text("Active", { name: frame.agent || "" })
        : text("Closed");
    }
    document.querySelectorAll("[data-when-status]").forEach(function (node) {
      node.hidden = node.dataset.whenStatus !== frame.status;
    });
    var closed = frame.status === "closed";
    document.querySelectorAll("[data-when-open]").forEach(function (node) { node.hidden = closed; });
    closedLine.hidden = !closed;
    if (composer) {
      composer.hidden = closed;
      composer.querySelectorAll("textarea, input, button").forEach(function (control) { control.disabled = closed || state.gone; });
    }
    if (frame.ticket) {
      state.ticket = frame.ticket;
      var href = data.ticketUrl.replace(/\/0\/$/, "/" + frame.ticket + "/");
      document.querySelectorAll("[data-ticket-link]").forEach(function (holder) {
        holder.hidden = false;
        var link = holder.querySelector("a");
        link.href = href;
        link.textContent = text("Ticket", { number: frame.ticket });
      });
      document.querySelectorAll("[data-when-no-ticket]").forEach(function (node) { node.hidden = true; });
    }
    if (typeof frame.customer_read_up_to === "number") {
      var theirs = side === "customer" ? frame.staff_read_up_to : frame.customer_read_up_to;
      var mine = side === "customer" ? frame.customer_read_up_to : frame.staff_read_up_to;
      state.otherReadUpTo = Math.max(state.otherReadUpTo, theirs);
      state.myReadUpTo = Math.max(state.myReadUpTo, mine);
      updateSeen();
    }
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function sendPending(clientId) {
    var item = state.pending.get(clientId);
    if (item && !item.acked && state.live) send({ type: "message", body: item.body, client_id: clientId });
  }

  function addPending(body) {
    var clientId = newClientId();
    var item = element("li", "bubble " + side + " mine pending-message");
    item.dataset.clientId = clientId;
    var bodyNode = element("div", "body");
    bodyNode.appendChild(element("p", "", body)); // text as typed; the stored one is rendered
    bodyNode.style.whiteSpace = "pre-wrap";
    item.appendChild(bodyNode);
    item.appendChild(element("p", "state", text("Sending")));
    pendingList.appendChild(item);
    state.pending.set(clientId, { body: body, element: item, acked: false });
    scrollDown();
    sendPending(clientId);
  }

  // A refused message goes back into the composer, so nothing typed is lost.
  function giveBack(clientId, reason) {
    var item = state.pending.get(clientId);
    if (item) {
      item.element.remove();
      state.pending.delete(clientId);
      if (textarea) textarea.value = textarea.value ? item.body + "\n" + textarea.value : item.body;
    }
    showErrors([reason]);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "status":
        applyStatus(frame);
        break;
      case "message":
        addMessage(frame.message);
        break;
      case "ready":
        state.live = true;
        root.dataset.live = "1";
        state.attempts = 0;
        setConnection("live");
        state.pending.forEach(function (_item, clientId) { sendPending(clientId); });
        markRead();
        break;
      case "ack":
        var acked = state.pending.get(frame.client_id);
        if (acked) {
          if (document.getElementById("chat-message-" + frame.id)) {
            acked.element.remove();
            state.pending.delete(frame.client_id);
          } else {
            // Stored; the message itself follows on the socket (or on the next resume).
            acked.acked = true;
            acked.element.querySelector(".state").textContent = text("Sent");
          }
        }
        break;
      case "typing":
        if (frame.side === other) showTyping(frame.name);
        break;
      case "read":
        if (frame.side === other) {
          state.otherReadUpTo = Math.max(state.otherReadUpTo, frame.up_to);
          updateSeen();
        }
        break;
      case "error":
        var reason = frame.code === "rate_limited" ? text("RateLimited") : frame.message;
        if (frame.client_id && state.pending.has(frame.client_id)) giveBack(frame.client_id, reason);
        else showErrors([reason]);
        break;
    }
  }

  function connect() {
    window.clearTimeout(state.reconnectTimer);
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + window.location.host + "/ws/chat/" + conversationId + "/?after=" + state.lastId;
    var socket = new WebSocket(url);
    state.socket = socket;
    window.vipChatSocket = socket; // the browser tests drop the connection through it
    socket.addEventListener("open", function () {
      state.pingTimer = window.setInterval(function () { send({ type: "ping" }); }, PING_EVERY);
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      onFrame(frame);
    });
    socket.addEventListener("close", function (event) {
      if (state.socket !== socket) return;
      state.live = false;
      delete root.dataset.live;
      window.clearInterval(state.pingTimer);
      if (NO_RETRY.indexOf(event.code) !== -1) {
        state.gone = true;
        setConnection("gone");
        if (composer) composer.querySelectorAll("textarea, input, button").forEach(function (control) { control.disabled = true; });
        return;
      }
      setConnection("reconnecting");
      var delay = Math.min(MAX_BACKOFF, 1000 * Math.pow(2, state.attempts));
      state.attempts += 1;
      state.reconnectTimer = window.setTimeout(connect, delay);
    });
  }

  // Files (and the text with them) go over HTTP; the stored message comes back on the socket.
  function upload() {
    if (!state.uploadClientId) state.uploadClientId = newClientId();
    var form = new FormData(composer);
    form.set("client_id", state.uploadClientId);
    var csrf = composer.querySelector("input[name=csrfmiddlewaretoken]");
    composer.setAttribute("aria-busy", "true");
    showErrors([]);
    connectionLine.hidden = false;
    connectionLine.textContent = text("Uploading");
    return window.fetch(data.messagesUrl, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (result.ok) {
        composer.reset();
        state.uploadClientId = null;
        return;
      }
      var messages = [];
      Object.keys(result.answer.errors || {}).forEach(function (field) {
        messages = messages.concat(result.answer.errors[field]);
      });
      showErrors(messages);
    }).catch(function () {
      showErrors([text("UploadFailed")]);
    }).then(function () {
      composer.removeAttribute("aria-busy");
      setConnection(state.gone ? "gone" : state.live ? "live" : "reconnecting");
    });
  }

  function submit() {
    if (!composer || state.status === "closed" || composer.getAttribute("aria-busy")) return;
    if (fileInput && fileInput.files.length) {
      upload();
      return;
    }
    var body = textarea.value.trim();
    if (!body) return;
    showErrors([]);
    textarea.value = "";
    addPending(body);
  }

  if (composer) {
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (state.live && textarea.value && now - state.lastTypingSent > TYPING_EVERY) {
        state.lastTypingSent = now;
        send({ type: "typing" });
      }
    });
    if (fileInput) fileInput.addEventListener("change", function () { state.uploadClientId = null; });
  }

  document.addEventListener("visibilitychange", markRead);
  updateSeen();
  scrollDown();
  // "Connecting…" only when it takes a while: most pages are live before anyone could read it.
  window.setTimeout(function () {
    if (!state.live && !state.gone && state.attempts === 0) setConnection("connecting");
  }, 1500);
  connect();
})();
