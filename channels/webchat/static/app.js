// The 12345 web chat page: one session kept in this browser, its log replayed and followed live.
"use strict";

(() => {
  const SESSION_KEY = "hotline12345.webchat.session";
  const LARGE_TEXT_KEY = "hotline12345.webchat.largeText";
  const TYPING_MAX_MS = 60000;
  const RETRY_MAX_MS = 30000;

  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const conversation = $("conversation");
  const typing = $("typing");
  const connection = $("connection");
  const composer = $("composer");
  const input = $("input");

  let session = null;
  let lastSeq = 0; // seq 0 starts every session and is never shown
  let source = null;
  let reconnectDelay = 1000;
  let typingTimer = null;
  const sending = new Map(); // client_id -> the message's list item, until the log holds it

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function later(ms) {
    // Waits ``ms``, or less when the browser comes back online.
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        window.removeEventListener("online", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      window.addEventListener("online", done);
    });
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    return { status: response.status, data };
  }

  // ---- showing the conversation -------------------------------------------------------------

  function setConnected(connected) {
    connection.hidden = connected;
    document.body.dataset.connection = connected ? "open" : "lost";
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) {
      typingTimer = setTimeout(() => setTyping(false), TYPING_MAX_MS);
      scrollToEnd();
    }
  }

  function scrollToEnd() {
    conversation.scrollTop = conversation.scrollHeight;
  }

  function timeLabel(iso) {
    const at = iso ? new Date(iso) : new Date();
    if (Number.isNaN(at.getTime())) return "";
    // China time, whatever the browser's time zone (the hotline and its citizens are in Guangzhou).
    return at.toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" });
  }

  function place(item) {
    // Messages still being sent stay at the end, below everything the log already holds.
    const firstSending = list.querySelector(".message.sending, .message.retrying");
    list.insertBefore(item, firstSending && firstSending !== item ? firstSending : null);
  }

  function messageItem(role, text, who, at) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    if (who) {
      const label = document.createElement("span");
      label.className = "who";
      label.textContent = who;
      item.append(label);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = timeLabel(at);
    item.append(bubble, meta);
    return item;
  }

  const SEND_STATES = { sending: "发送中…", retrying: "发送失败，正在重试…" };

  function setSendState(item, state) {
    item.classList.remove("sending", "retrying");
    item.classList.add(state);
    item.querySelector(".meta").textContent = SEND_STATES[state];
  }

  function choiceButtons(buttons) {
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "可选项");
    for (const button of buttons) {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = button.title;
      element.addEventListener("click", () => send(button.payload, button.title.replace(/^\d+\.\s*/, "")));
      group.append(element);
    }
    return group;
  }

  function notice(text, kind) {
    const item = document.createElement("li");
    item.className = `notice ${kind || ""}`.trim();
    item.textContent = text;
    place(item);
  }

  function showVerified(phone) {
    const opener = $("verify-open");
    opener.textContent = `已验证 ${phone}`;
  }

  function show(entry) {
    if (entry.seq <= lastSeq) return;
    lastSeq = entry.seq;
    const payload = entry.payload || {};
    if (entry.role === "citizen") {
      const waiting = payload.client_id && sending.get(payload.client_id);
      if (waiting) {
        sending.delete(payload.client_id);
        waiting.classList.remove("sending", "retrying", "failed");
        waiting.querySelector(".meta").textContent = timeLabel(entry.at);
        place(waiting);
      } else {
        place(messageItem("citizen", payload.text || "", null, entry.at));
      }
    } else if (entry.role === "bot" || entry.role === "agent") {
      const who = entry.role === "agent" ? `人工客服${payload.agent ? " " + payload.agent : ""}` : "12345智能助手";
      const item = messageItem(entry.role, payload.text || "", who, entry.at);
      if (Array.isArray(payload.buttons) && payload.buttons.length) item.append(choiceButtons(payload.buttons));
      if (!payload.text) item.querySelector(".bubble").remove();
      place(item);
      setTyping(false);
    } else if (entry.role === "system") {
      if (payload.event === "agent_joined") {
        notice(`人工客服${payload.agent ? " " + payload.agent : ""} 已接入`, "agent-joined");
        setTyping(false);
      } else if (payload.event === "agent_left") {
        notice("人工客服已结束服务，智能助手继续为您服务");
      } else if (payload.event === "verified") {
        notice(`手机号 ${payload.phone} 已验证`);
        showVerified(payload.phone);
      } else if (payload.text) {
        notice(payload.text);
      }
    }
    scrollToEnd();
  }

  // ---- the session and its live events ------------------------------------------------------

  async function newSession() {
    const { status, data } = await post("/chat/api/sessions", {});
    if (status !== 201) throw new Error(data.error || `HTTP ${status}`);
    session = data.session;
    localStorage.setItem(SESSION_KEY, session);
    lastSeq = 0;
    list.replaceChildren();
  }

  function connect() {
    if (source) source.close();
    source = new EventSource(`/chat/api/events?session=${session}&after=${lastSeq}`);
    source.addEventListener("open", () => {
      setConnected(true);
      reconnectDelay = 1000;
    });
    source.addEventListener("entry", (event) => show(JSON.parse(event.data)));
    source.addEventListener("typing", (event) => setTyping(JSON.parse(event.data).on));
    source.addEventListener("error", () => {
      setConnected(false);
      if (source.readyState === EventSource.CLOSED) {
        // Refused rather than dropped (the browser retries a dropped stream by itself).
        setTimeout(recover, reconnectDelay);
        reconnectDelay = Math.min(reconnectDelay * 2, RETRY_MAX_MS);
      }
    });
  }

  async function recover() {
    try {
      const response = await fetch(`/chat/api/history?session=${session}&after=${lastSeq}`);
      if (response.status === 404) await newSession(); // the session is gone: start a new one
    } catch (error) {
      // The server is unreachable: the new stream will fail too and try again later.
    }
    connect();
  }

  async function start() {
    session = localStorage.getItem(SESSION_KEY);
    while (!/^[0-9a-f]{32}$/.test(session || "")) {
      try {
        await newSession();
      } catch (error) {
        setConnected(false);
        await later(reconnectDelay);
        reconnectDelay = Math.min(reconnectDelay * 2, RETRY_MAX_MS);
      }
    }
    connect();
  }

  // ---- sending ------------------------------------------------------------------------------

  async function deliver(body, item) {
    let delay = 1000;
    for (;;) {
      try {
        const { status, data } = await post("/chat/api/messages", { ...body, session });
        if (status === 202 && data.seq === null) {
          // Nothing of the citizen's was logged (an empty message): only the bot's answer will come.
          sending.delete(body.client_id);
          item.remove();
          return;
        }
        if (status === 202 || status === 200) {
          if (sending.has(body.client_id)) setSendState(item, "sending");
          return; // the log entry with this client_id arrives on the event stream and settles the item
        }
        if (status < 500 && status !== 429) {
          sending.delete(body.client_id);
          item.classList.remove("sending", "retrying");
          item.classList.add("failed");
          item.querySelector(".meta").textContent = `未发送：${data.error || "请求有误"}`;
          setTyping(false);
          if (status === 404) recover(); // the session is gone: start a new one
          return;
        }
      } catch (error) {
        // The connection dropped: send again with the same client_id (the server drops repeats).
      }
      if (!sending.has(body.client_id)) return; // the log has it already: the server got it after all
      setSendState(item, "retrying");
      await later(delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  function send(text, shown) {
    const clientId = randomId();
    const item = messageItem("citizen", shown || text, null, null);
    setSendState(item, "sending");
    list.append(item);
    sending.set(clientId, item);
    setTyping(true);
    scrollToEnd();
    const body = { text, client_id: clientId };
    if (shown) body.shown = shown;
    deliver(body, item);
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    input.value = "";
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line; never while an input method is composing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  window.addEventListener("offline", () => setConnected(false));
  window.addEventListener("online", () => {
    if (session) connect(); // a stream opened while offline may hang: start afresh
  });

  // ---- large text ---------------------------------------------------------------------------

  const largeText = $("large-text");
  function setLargeText(on) {
    document.documentElement.classList.toggle("large", on);
    largeText.setAttribute("aria-pressed", String(on));
    localStorage.setItem(LARGE_TEXT_KEY, on ? "1" : "0");
    scrollToEnd();
  }
  largeText.addEventListener("click", () => setLargeText(!document.documentElement.classList.contains("large")));
  setLargeText(localStorage.getItem(LARGE_TEXT_KEY) === "1");

  // ---- phone verification -------------------------------------------------------------------

  const panel = $("verify");
  const opener = $("verify-open");
  const status = $("verify-status");
  const phoneForm = $("verify-phone-form");
  const codeForm = $("verify-code-form");

  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function openPanel(open) {
    panel.hidden = !open;
    opener.setAttribute("aria-expanded", String(open));
    if (open) $("verify-phone").focus();
    else opener.focus();
  }
  opener.addEventListener("click", () => openPanel(panel.hidden));
  $("verify-close").addEventListener("click", () => openPanel(false));

  phoneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    setStatus("正在发送验证码…");
    try {
      const { status: code, data } = await post("/chat/api/verify/start", {
        session,
        phone: $("verify-phone").value,
      });
      if (code === 200) {
        setStatus(`验证码已发送至 ${data.phone}，5分钟内有效。`);
        codeForm.hidden = false;
        $("verify-code").focus();
      } else {
        setStatus(data.error || "暂时无法发送验证码，请稍后再试。", true);
      }
    } catch (error) {
      setStatus("网络连接中断，请稍后再试。", true);
    }
  });

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { status: code, data } = await post("/chat/api/verify/check", {
        session,
        code: $("verify-code").value,
      });
      if (code === 200) {
        setStatus(`验证成功：手机号 ${data.phone} 已验证。`);
        codeForm.hidden = true;
        $("verify-code").value = "";
        showVerified(data.phone);
      } else {
        setStatus(data.error || "验证失败，请稍后再试。", true);
      }
    } catch (error) {
      setStatus("网络连接中断，请稍后再试。", true);
    }
  });

  start();
})();
