// The 12345 agent console: the live queue, the open conversation, phrases, notes and the supervisor view.
//
// Test hooks (data-testid), stable for end-to-end tests:
//   header      me, logout, tab-console, tab-supervisor (supervisors only), connection (the
//               "连接中断，正在重连…" banner), notice + notice-text (errors and confirmations, e.g. a 409),
//               urgent-alert (data-handoff-id) + urgent-text, urgent-open, urgent-sound (tone blocked)
//   queue       queue-waiting, queue-mine, queue-phone (the three lists); waiting-count, mine-count,
//               phone-count; every item: queue-item with data-handoff-id, data-status and data-priority;
//               inside it: channel, priority, wait-time, reason, summary-line, take (waiting items),
//               view (waiting items, supervisors only), open-handoff (mine and phone items), unread
//   handoff     handoff (the open conversation, data-handoff-id, data-status), handoff-title,
//               handoff-summary, handoff-state (cancelled/closed/read-only explanation), transcript,
//               entry (data-role = citizen|bot|agent|system) with entry-who, entry-time, entry-text
//   reveal      reveal, reveal-dialog, reveal-reason, reveal-error, reveal-confirm, reveal-cancel,
//               reveal-banner ("已显示完整信息（已记录）")
//   reply       reply-text, send, reply-status
//   phrases     phrases (list), phrase (data-phrase-id, data-shared), phrase-insert, phrase-edit,
//               phrase-delete, phrase-add, phrase-dialog, phrase-title, phrase-text, phrase-save,
//               phrase-cancel, phrase-error
//   notes       notes (list), note (data-note-id), note-text, add-note
//   transfer    transfer, transfer-dialog, transfer-agents, transfer-agent (radio, value = agent id),
//               transfer-error, transfer-confirm, transfer-cancel
//   work order  create-order, order-dialog, order-type, order-title, order-details, order-district,
//               order-address, order-contact, order-error, order-submit, order-cancel, order-result,
//               order-number
//   close       close-handoff, then the confirmation: confirm-dialog, confirm-ok, confirm-cancel
//               (the same confirmation is used to delete a phrase)
//   supervisor  supervisor (the tab panel), stat-queue-length, stat-longest-wait, stat-agents-online,
//               stat-agents-busy, stat-average-wait, stat-closed-today, stat-rated, stat-satisfaction
//               (list) with stat-satisfaction-item (data-label = 满意|基本满意|不满意, data-count),
//               stat-bot-rated, stat-bot-satisfaction with stat-bot-satisfaction-item (the same, for
//               conversations the bot handled alone),
//               stat-per-hour (chart) with stat-bar (data-hour, data-count), stat-updated
"use strict";

(() => {
  const API = "/agent/api";
  const STATS_EVERY_MS = 30000;
  const RETRY_MAX_MS = 30000;
  const OK_NOTICE_MS = 8000;
  const REPLY_MAX_CHARS = 2000;
  const REASON_MIN_CHARS = 2;
  const ORDER_TYPES = ["咨询", "求助", "投诉", "举报", "建议"];
  const ROLE_LABELS = { citizen: "市民", bot: "智能助手", agent: "客服", system: "系统" };
  const STATUS_LABELS = {
    waiting: "排队中",
    assigned: "处理中",
    closed: "已结束",
    cancelled: "市民已取消",
    callback: "已转为回电工单",
    phone: "电话转接",
  };
  const SUMMARY_FIELDS = [
    ["intent", "诉求"],
    ["service", "事项"],
    ["case", "办件号"],
    ["order", "工单号"],
    ["district", "区"],
  ];

  const $ = (id) => document.getElementById(id);

  let me = null; // {id, username, name, role}
  let csrf = "";
  let queue = { waiting: [], mine: [], phone: [] };
  let queueFetchedAt = 0; // performance.now() when the queue's waiting_s values were read
  let queueLoaded = false;
  let openId = null; // the handoff shown in the middle
  let open = null; // its last {handoff, transcript, notes, revealed}
  let revealed = null; // the unmasked transcript after a reveal, for the open handoff
  let renderedEntries = 0; // transcript entries shown for the open handoff
  let phrases = [];
  let source = null;
  let reconnectDelay = 1000;
  let reconnectTimer = null;
  const unread = new Set(); // ids of my handoffs with news not yet looked at
  let urgentSeen = new Set(); // ids of urgent handoffs already alerted (sound once per new one)
  let audio = null; // the page's AudioContext for the alert tone, once the browser allows it
  const taking = new Set(); // ids this page is taking (as opposed to ones transferred to me)
  const drafts = new Map(); // handoff id -> {reply, note} not yet sent, kept while another one is open

  class SessionEnded extends Error {}

  // ---- requests ------------------------------------------------------------------------------

  function toLogin() {
    window.location.replace("/agent/login");
  }

  async function api(method, path, body) {
    // One JSON request to the console API; 401 ends the page's session.
    const headers = method === "GET" ? {} : { "X-CSRF-Token": csrf };
    const answer = await requestJson(method, API + path, headers, body);
    if (answer.status === 401) {
      toLogin();
      throw new SessionEnded("not logged in");
    }
    return answer;
  }

  function failure(error, fallback) {
    // The text to show for a request that threw (network down, timeout).
    if (error instanceof SessionEnded) return "";
    return fallback || "网络连接中断，请稍后再试";
  }

  function coalesced(task) {
    // Runs ``task`` now, or once more after the run in progress when called again meanwhile.
    let running = null;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        try {
          do {
            again = false;
            await task();
          } while (again);
        } finally {
          running = null;
        }
      })();
      return running;
    };
    return run;
  }

  // ---- small helpers -------------------------------------------------------------------------
  // (element, testid and svg come from markup.js)

  function duration(seconds) {
    const total = Math.max(0, Math.floor(Number(seconds) || 0));
    if (total < 60) return `${total}秒`;
    if (total < 3600) return `${Math.floor(total / 60)}分${String(total % 60).padStart(2, "0")}秒`;
    return `${Math.floor(total / 3600)}小时${String(Math.floor((total % 3600) / 60)).padStart(2, "0")}分`;
  }

  function chinaParts(at) {
    // The moment's date and time as read in China, whatever the browser's time zone.
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Shanghai",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    return Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  }

  function timeLabel(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    if (Number.isNaN(at.getTime())) return "";
    const parts = chinaParts(at);
    const today = chinaParts(new Date());
    const time = `${parts.hour}:${parts.minute}:${parts.second}`;
    if (parts.year === today.year && parts.month === today.month && parts.day === today.day) return time;
    return `${parts.month}月${parts.day}日 ${time}`;
  }

  function agentName(agent) {
    if (!agent) return "";
    if (typeof agent === "string") return agent;
    return agent.name || agent.username || "";
  }

  function isMine(handoff) {
    return Boolean(handoff && handoff.agent && me && handoff.agent.id === me.id && handoff.status === "assigned");
  }

  function priorityLabel(priority) {
    const value = Number(priority) || 0;
    if (value >= 2) return { text: "紧急", level: "high" };
    if (value === 1) return { text: "优先", level: "raised" };
    return { text: "普通", level: "normal" };
  }

  function announce(text) {
    const announcer = $("announcer");
    announcer.textContent = "";
    window.setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  let noticeTimer = null;

  function showNotice(text, kind) {
    // Shows an error until it is dismissed or replaced; a confirmation ("ok") goes away by itself.
    if (!text) return;
    const notice = $("notice");
    clearTimeout(noticeTimer);
    $("notice-text").textContent = text;
    notice.classList.toggle("ok", kind === "ok");
    notice.hidden = false;
    if (kind === "ok") noticeTimer = setTimeout(hideNotice, OK_NOTICE_MS);
  }

  function hideNotice() {
    clearTimeout(noticeTimer);
    $("notice").hidden = true;
  }

  function setConnected(connected) {
    $("connection").hidden = connected;
    document.body.dataset.connection = connected ? "open" : "lost";
  }

  function confirmAction(title, text, okLabel) {
    // Asks in the confirmation dialog; resolves true when the agent confirmed.
    const dialog = $("confirm-dialog");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel || "确定";
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-ok").focus();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    });
  }

  // ---- the queue -----------------------------------------------------------------------------

  function waitedNow(handoff) {
    return (Number(handoff.waiting_s) || 0) + (performance.now() - queueFetchedAt) / 1000;
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-wait-base]")) {
      const seconds = Number(node.dataset.waitBase) + (performance.now() - queueFetchedAt) / 1000;
      node.textContent = `已等 ${duration(seconds)}`;
    }
  }

  function itemBody(handoff) {
    // The parts of a queue item every list shows: channel, priority, waiting time, reason, summary.
    const parts = document.createDocumentFragment();
    const top = element("span", "item-top");
    top.append(testid(element("span", "channel", handoff.channel_label || handoff.channel || ""), "channel"));
    const priority = priorityLabel(handoff.priority);
    if (priority.level !== "normal" || handoff.status === "waiting") {
      top.append(testid(element("span", `priority ${priority.level}`, priority.text), "priority"));
    }
    if (handoff.status === "waiting") {
      const wait = testid(element("span", "wait", `已等 ${duration(waitedNow(handoff))}`), "wait-time");
      wait.dataset.waitBase = String(Number(handoff.waiting_s) || 0);
      top.append(wait);
      if (handoff.position) top.append(element("span", "position", `第${handoff.position}位`));
    } else if (handoff.created_at) {
      top.append(element("span", "wait", timeLabel(handoff.created_at)));
    }
    parts.append(top);
    parts.append(testid(element("span", "reason", handoff.reason_label || handoff.reason || ""), "reason"));
    const line = (handoff.summary && handoff.summary.line) || "（暂无摘要）";
    parts.append(testid(element("span", "summary-line", line), "summary-line"));
    if (handoff.status === "phone" && handoff.agent) {
      parts.append(element("span", "answered muted small-text", `接听：${agentName(handoff.agent)}`));
    }
    return parts;
  }

  function queueItem(handoff, list) {
    const item = testid(element("li", `item ${list}`), "queue-item");
    item.dataset.handoffId = String(handoff.id);
    item.dataset.status = handoff.status || "";
    item.dataset.priority = String(Number(handoff.priority) || 0);
    item.classList.add(`priority-${priorityLabel(handoff.priority).level}`);
    if (handoff.id === openId) item.setAttribute("aria-current", "true");
    if (list === "waiting") {
      item.append(itemBody(handoff));
      const buttons = element("div", "item-buttons");
      const take = testid(element("button", "take primary", "接入"), "take");
      take.type = "button";
      const line = (handoff.summary && handoff.summary.line) || "";
      take.setAttribute("aria-label", `接入${handoff.channel_label || ""}会话：${line}`);
      take.addEventListener("click", () => takeHandoff(handoff.id, take));
      buttons.append(take);
      if (me && me.role === "supervisor") {
        const view = testid(element("button", "view", "查看"), "view");
        view.type = "button";
        view.addEventListener("click", () => openHandoff(handoff.id));
        buttons.append(view);
      }
      item.append(buttons);
    } else {
      const opener = testid(element("button", "item-open"), "open-handoff");
      opener.type = "button";
      opener.append(itemBody(handoff));
      if (unread.has(handoff.id)) {
        opener.append(testid(element("span", "unread", "新消息"), "unread"));
      }
      opener.addEventListener("click", () => openHandoff(handoff.id));
      item.append(opener);
    }
    return item;
  }

  function focusedQueuePlace() {
    // Where keyboard focus is in the queue, so that it can be put back after the lists are rebuilt.
    const active = document.activeElement;
    const item = active && active.closest ? active.closest("[data-testid='queue-item']") : null;
    if (!item) return null;
    return { id: item.dataset.handoffId, testid: active.dataset.testid, list: item.parentElement.id };
  }

  function restoreQueueFocus(place) {
    if (!place) return;
    const item = document.querySelector(`#${place.list} [data-handoff-id="${place.id}"]`);
    const target = item && item.querySelector(`[data-testid="${place.testid}"]`);
    if (target) target.focus();
    else $(place.list).closest("section").querySelector("h2").focus();
  }

  function renderQueue() {
    const place = focusedQueuePlace();
    for (const list of ["waiting", "mine", "phone"]) {
      const handoffs = queue[list] || [];
      $(list).replaceChildren(...handoffs.map((handoff) => queueItem(handoff, list)));
      $(`${list}-count`).textContent = String(handoffs.length);
      $(`${list}-empty`).hidden = handoffs.length > 0;
    }
    restoreQueueFocus(place);
    const waiting = (queue.waiting || []).length;
    document.title = waiting ? `(${waiting}) 12345热线 · 客服工作台` : "12345热线 · 客服工作台";
  }

  const refreshQueue = coalesced(async () => {
    try {
      const { status, data } = await api("GET", "/queue");
      if (status !== 200) {
        showNotice(data.error || "暂时无法读取排队情况，请稍后再试");
        return;
      }
      const before = new Set((queue.waiting || []).map((handoff) => handoff.id));
      const mineBefore = new Set((queue.mine || []).map((handoff) => handoff.id));
      queue = { waiting: data.waiting || [], mine: data.mine || [], phone: data.phone || [] };
      queueFetchedAt = performance.now();
      const arrived = queue.waiting.filter((handoff) => !before.has(handoff.id));
      // A conversation that became mine without my taking it was transferred to me. (A supervisor's
      // list holds every assigned conversation: only those assigned to the supervisor count.)
      const given = queueLoaded
        ? queue.mine.filter(
            (handoff) =>
              handoff.agent && handoff.agent.id === me.id && !mineBefore.has(handoff.id) && !taking.has(handoff.id),
          )
        : [];
      for (const handoff of given) unread.add(handoff.id);
      queueLoaded = true;
      renderQueue();
      if (given.length) showNotice(`有${given.length}个会话转接给您，请在“我的会话”中查看`, "ok");
      alertUrgent();
      if (arrived.length) announce(`有${arrived.length}个新的会话在排队`);
    } catch (error) {
      showNotice(failure(error, "暂时无法读取排队情况，请稍后再试"));
    }
  });

  // Urgent handoffs (danger, despair): a red banner while any waits or newly became urgent in my
  // list, a tone for each new one, and the page title. They never time out on their own.
  function urgentHandoffs() {
    const mine = (queue.mine || []).filter((handoff) => handoff.urgent && isMine(handoff));
    return [...(queue.waiting || []).filter((handoff) => handoff.urgent), ...mine];
  }

  function alertUrgent() {
    const urgent = urgentHandoffs();
    const fresh = urgent.filter((handoff) => !urgentSeen.has(handoff.id));
    const waiting = urgent.filter((handoff) => handoff.status === "waiting").length;
    const banner = $("urgent-alert");
    const show = waiting > 0 || fresh.length > 0;
    banner.hidden = !show;
    if (show) {
      const first = waiting ? urgent.find((handoff) => handoff.status === "waiting") : fresh[0];
      banner.dataset.handoffId = String(first.id);
      $("urgent-text").textContent = waiting
        ? `紧急：${waiting}个会话涉及人身安全或情绪危机，请立即接入！`
        : "紧急：您的会话中用户提到了人身安全或情绪危机，请立即查看！";
      document.title = `【紧急】${document.title}`;
    }
    if (fresh.length) playAlertTone();
    urgentSeen = new Set(urgent.map((handoff) => handoff.id));
  }

  function playAlertTone() {
    try {
      audio = audio || new AudioContext();
      if (audio.state !== "running") {
        $("urgent-sound").hidden = false;
        audio.resume().then(() => {
          $("urgent-sound").hidden = true;
        });
        return;
      }
      for (const start of [0, 0.35, 0.7]) {
        const tone = audio.createOscillator();
        tone.frequency.value = 880;
        tone.connect(audio.destination);
        tone.start(audio.currentTime + start);
        tone.stop(audio.currentTime + start + 0.2);
      }
    } catch (error) {
      $("urgent-sound").hidden = false;
    }
  }

  document.addEventListener("click", () => {
    if (audio && audio.state !== "running") audio.resume().then(() => ($("urgent-sound").hidden = true));
  });

  $("urgent-open").addEventListener("click", () => {
    const id = Number($("urgent-alert").dataset.handoffId);
    const item = document.querySelector(`#waiting [data-handoff-id="${id}"], #mine [data-handoff-id="${id}"]`);
    if (item) {
      item.scrollIntoView({ block: "center" });
      const target = item.querySelector('[data-testid="take"], [data-testid="open-handoff"]');
      if (target) target.focus();
    }
  });

  async function takeHandoff(id, button) {
    button.disabled = true;
    taking.add(id);
    try {
      const { status, data } = await api("POST", `/handoffs/${id}/take`);
      if (status === 200) {
        hideNotice();
        await refreshQueue();
        await openHandoff(id);
        $("reply-text").focus();
        return;
      }
      showNotice(data.error || "接入失败，请稍后再试");
      await refreshQueue();
    } catch (error) {
      showNotice(failure(error));
    } finally {
      button.disabled = false;
      taking.delete(id);
    }
  }

  function moveInList(event) {
    // Arrow keys move between the items of one queue list.
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const item = event.target.closest("[data-testid='queue-item']");
    if (!item) return;
    const sibling = event.key === "ArrowDown" ? item.nextElementSibling : item.previousElementSibling;
    const target = sibling && sibling.querySelector("button");
    if (target) {
      event.preventDefault();
      target.focus();
    }
  }

  for (const list of ["waiting", "mine", "phone"]) $(list).addEventListener("keydown", moveInList);
  for (const heading of document.querySelectorAll(".queue h2")) heading.tabIndex = -1;

  // ---- the open conversation -----------------------------------------------------------------

  function summaryList(handoff) {
    const items = [];
    const summary = handoff.summary || {};
    const add = (name, value) => {
      if (value === undefined || value === null || value === "") return;
      const group = element("div", "summary-item");
      group.append(element("dt", "", name), element("dd", "", value));
      items.push(group);
    };
    add("状态", STATUS_LABELS[handoff.status] || handoff.status);
    add("原因", handoff.reason_label || handoff.reason);
    for (const [key, name] of SUMMARY_FIELDS) add(name, summary[key]);
    add("客服", agentName(handoff.agent));
    add("开始", timeLabel(handoff.created_at));
    return items;
  }

  function entryItem(entry) {
    const role = ROLE_LABELS[entry.role] ? entry.role : "system";
    const item = testid(element("li", `entry ${role}`), "entry");
    item.dataset.role = role;
    const head = element("div", "entry-head");
    let who = ROLE_LABELS[role];
    if (role === "agent" && entry.agent) who = `客服 ${agentName(entry.agent)}`;
    head.append(testid(element("span", "entry-who", who), "entry-who"));
    const time = testid(element("time", "entry-time", timeLabel(entry.at)), "entry-time");
    if (entry.at) time.dateTime = entry.at;
    head.append(time);
    item.append(head, testid(element("div", "entry-text", entry.text || ""), "entry-text"));
    return item;
  }

  function shownTranscript() {
    // The transcript to show: unmasked entries from a reveal, masked ones that came after it.
    const masked = (open && open.transcript) || [];
    if (!revealed) return masked;
    return masked.map((entry, index) => (index < revealed.length ? revealed[index] : entry));
  }

  function renderTranscript(full) {
    const transcript = $("transcript");
    const entries = shownTranscript();
    const atEnd = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    if (!entries.length) {
      transcript.replaceChildren(element("li", "empty", "还没有对话内容"));
    } else if (full || renderedEntries === 0 || entries.length < renderedEntries) {
      transcript.setAttribute("aria-busy", "true");
      transcript.replaceChildren(...entries.map(entryItem));
      transcript.removeAttribute("aria-busy");
    } else {
      for (const entry of entries.slice(renderedEntries)) transcript.append(entryItem(entry));
    }
    if (full || atEnd) transcript.scrollTop = transcript.scrollHeight;
    renderedEntries = entries.length;
  }

  function renderNotes() {
    const notes = (open && open.notes) || [];
    const list = $("notes");
    list.replaceChildren(
      ...notes.map((note) => {
        const item = testid(element("li", "note"), "note");
        item.dataset.noteId = String(note.id);
        const head = element("div", "entry-head");
        head.append(
          element("span", "entry-who", agentName(note.agent) || "客服"),
          element("time", "entry-time", timeLabel(note.at)),
        );
        item.append(head, element("div", "entry-text", note.text));
        return item;
      }),
    );
    if (!notes.length) list.append(element("li", "empty", "还没有备注"));
    list.scrollTop = list.scrollHeight;
  }

  function stateText(handoff) {
    if (handoff.status === "cancelled") return "市民已取消转人工，不能再回复。";
    if (handoff.status === "closed") return "会话已结束。";
    if (handoff.status === "callback") return "无人接入，已转为回电工单。";
    if (handoff.status === "phone") return "这是电话转接的通话记录，请在电话中与市民沟通。";
    if (handoff.status === "waiting") return "会话还在排队，接入后才能回复。";
    if (handoff.status === "assigned" && !isMine(handoff)) return `由客服${agentName(handoff.agent)}处理中，您只能查看。`;
    return "";
  }

  function renderHandoff(full) {
    const handoff = open.handoff;
    const view = $("handoff");
    view.hidden = false;
    $("placeholder").hidden = true;
    view.dataset.handoffId = String(handoff.id);
    view.dataset.status = handoff.status || "";
    $("handoff-title").textContent = `${handoff.channel_label || handoff.channel || ""}会话 #${handoff.id}`;
    $("handoff-summary").replaceChildren(...summaryList(handoff));
    const mine = isMine(handoff);
    $("reply").hidden = !mine;
    $("transfer").hidden = !mine;
    $("close-handoff").hidden = !mine;
    $("create-order").hidden = !(mine || handoff.status === "phone");
    $("reveal").hidden = Boolean(revealed);
    $("reveal-banner").hidden = !revealed;
    const state = stateText(handoff);
    $("handoff-state").textContent = state;
    $("handoff-state").hidden = !state;
    $("notes-panel").hidden = false;
    renderTranscript(full);
    renderNotes();
  }

  function clearHandoff(message) {
    drafts.delete(openId);
    openId = null;
    open = null;
    revealed = null;
    renderedEntries = 0;
    $("handoff").hidden = true;
    $("notes-panel").hidden = true;
    $("placeholder").hidden = false;
    $("placeholder").textContent = message || "请在左侧接入或选择一个会话。";
    $("reply-text").value = "";
    $("note-text").value = "";
    $("note-status").textContent = "";
    updateCounter();
    renderQueue();
  }

  async function loadHandoff(id, full) {
    // Reads the handoff ``id`` (masked) and shows it; false when it cannot be shown.
    const { status, data } = await api("GET", `/handoffs/${id}`);
    if (id !== openId) return false; // another conversation was opened meanwhile
    if (status !== 200) {
      clearHandoff(data.error || "无法打开这个会话");
      return false;
    }
    open = data;
    renderHandoff(full);
    return true;
  }

  async function openHandoff(id) {
    if (id !== openId) {
      const unsent = { reply: $("reply-text").value, note: $("note-text").value };
      if (openId !== null && (unsent.reply.trim() || unsent.note.trim())) drafts.set(openId, unsent);
      openId = id;
      revealed = null;
      renderedEntries = 0;
      const draft = drafts.get(id) || { reply: "", note: "" };
      drafts.delete(id);
      $("reply-text").value = draft.reply;
      $("note-text").value = draft.note;
      $("note-status").textContent = "";
      $("reply-status").textContent = "";
      updateCounter();
    }
    unread.delete(id);
    renderQueue();
    try {
      await loadHandoff(id, true);
    } catch (error) {
      showNotice(failure(error, "暂时无法打开会话，请稍后再试"));
    }
  }

  const refreshOpen = coalesced(async () => {
    if (openId === null) return;
    try {
      await loadHandoff(openId, false);
    } catch (error) {
      showNotice(failure(error, "暂时无法刷新会话，请稍后再试"));
    }
  });

  function handoffChanged(id) {
    if (id === openId) {
      refreshOpen();
      return;
    }
    const mine = (queue.mine || []).find((handoff) => handoff.id === id);
    if (mine) {
      unread.add(id);
      renderQueue();
      announce(`${mine.channel_label || ""}会话 #${id} 有新消息`);
    }
  }

  // ---- reveal --------------------------------------------------------------------------------

  $("reveal").addEventListener("click", () => {
    $("reveal-reason").value = "";
    $("reveal-error").textContent = "";
    $("reveal-dialog").showModal();
    $("reveal-reason").focus();
  });

  $("reveal-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = $("reveal-reason").value.trim();
    if (reason.length < REASON_MIN_CHARS) {
      $("reveal-error").textContent = "请填写查看原因（至少2个字）";
      $("reveal-reason").focus();
      return;
    }
    const id = openId;
    try {
      const { status, data } = await api("POST", `/handoffs/${id}/reveal`, { reason });
      if (status !== 200) {
        $("reveal-error").textContent = data.error || "暂时无法查看完整信息";
        return;
      }
      $("reveal-dialog").close();
      if (id !== openId) return;
      open = data;
      revealed = data.transcript || [];
      renderHandoff(true);
      $("reveal-banner").focus();
    } catch (error) {
      $("reveal-error").textContent = failure(error);
    }
  });
  $("reveal-banner").tabIndex = -1;

  // ---- replying and phrases ------------------------------------------------------------------

  function updateCounter() {
    const length = $("reply-text").value.length;
    $("reply-count").textContent = `${length}/${REPLY_MAX_CHARS}`;
    $("reply-count").classList.toggle("over", length > REPLY_MAX_CHARS);
  }

  // A form's status line saying what went wrong.
  function showError(status, message) {
    status.textContent = message;
    status.classList.add("error");
  }

  // The trimmed text of a form's box; null, said in its status line, when there is none.
  function typedText(box, status, emptyMessage) {
    const text = box.value.trim();
    status.classList.remove("error");
    if (!text) {
      showError(status, emptyMessage);
      box.focus();
      return null;
    }
    return text;
  }

  function sendOnCtrlEnter(form) {
    return (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    };
  }

  $("reply-text").addEventListener("input", updateCounter);
  $("reply-text").addEventListener("keydown", sendOnCtrlEnter($("reply")));

  $("reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("reply-text");
    const status = $("reply-status");
    const text = typedText(box, status, "请输入回复内容");
    if (text === null) return;
    if (text.length > REPLY_MAX_CHARS) {
      showError(status, `回复不能超过${REPLY_MAX_CHARS}字`);
      return;
    }
    const id = openId;
    $("send").disabled = true;
    status.textContent = "发送中…";
    try {
      const { status: code, data } = await api("POST", `/handoffs/${id}/messages`, { text });
      if (code === 202 || code === 200) {
        if (box.value.trim() === text) box.value = "";
        updateCounter();
        // Its channel did not take it now: it waits in the outbox and is sent when the channel answers.
        status.textContent = data.queued ? "用户的渠道暂时无法送达，消息已进入待发队列，恢复后自动发送" : "";
        refreshOpen();
      } else {
        showError(status, `未发送：${data.error || "请稍后再试"}`);
        if (code === 403 || code === 404 || code === 409) {
          refreshQueue();
          refreshOpen();
        }
      }
    } catch (error) {
      showError(status, failure(error, "未发送：网络连接中断，请稍后再试"));
    } finally {
      $("send").disabled = false;
      box.focus();
    }
  });

  function insertPhrase(text) {
    const box = $("reply-text");
    if ($("reply").hidden) {
      showNotice("请先接入或打开一个自己的会话，再插入常用语");
      return;
    }
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.focus();
    box.setRangeText(text, start, end, "end");
    updateCounter();
  }

  function phraseItem(phrase) {
    const item = testid(element("li", "phrase"), "phrase");
    item.dataset.phraseId = String(phrase.id);
    item.dataset.shared = String(Boolean(phrase.shared));
    const insert = testid(element("button", "phrase-insert"), "phrase-insert");
    insert.type = "button";
    insert.title = `插入：${phrase.text}`;
    insert.append(element("span", "phrase-title", phrase.title), element("span", "phrase-text", phrase.text));
    insert.addEventListener("click", () => insertPhrase(phrase.text));
    item.append(insert);
    if (phrase.shared) {
      item.append(element("span", "shared-tag", "公共"));
    } else {
      const tools = element("div", "phrase-tools");
      const edit = testid(element("button", "link", "编辑"), "phrase-edit");
      edit.type = "button";
      edit.setAttribute("aria-label", `编辑常用语：${phrase.title}`);
      edit.addEventListener("click", () => editPhrase(phrase));
      const remove = testid(element("button", "link", "删除"), "phrase-delete");
      remove.type = "button";
      remove.setAttribute("aria-label", `删除常用语：${phrase.title}`);
      remove.addEventListener("click", () => deletePhrase(phrase));
      tools.append(edit, remove);
      item.append(tools);
    }
    return item;
  }

  function renderPhrases() {
    $("phrases").replaceChildren(...phrases.map(phraseItem));
    $("phrases-empty").hidden = phrases.length > 0;
  }

  async function loadPhrases() {
    try {
      const { status, data } = await api("GET", "/phrases");
      if (status === 200) {
        phrases = data.phrases || [];
        renderPhrases();
      } else {
        showNotice(data.error || "暂时无法读取常用语");
      }
    } catch (error) {
      showNotice(failure(error, "暂时无法读取常用语"));
    }
  }

  let editing = null; // the phrase being edited, or null for a new one

  function editPhrase(phrase) {
    editing = phrase;
    $("phrase-dialog-title").textContent = phrase ? "编辑常用语" : "新增常用语";
    $("phrase-title").value = phrase ? phrase.title : "";
    $("phrase-text").value = phrase ? phrase.text : "";
    $("phrase-error").textContent = "";
    $("phrase-dialog").showModal();
    $("phrase-title").focus();
  }

  $("phrase-add").addEventListener("click", () => editPhrase(null));

  $("phrase-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = $("phrase-title").value.trim();
    const text = $("phrase-text").value.trim();
    if (!title || !text) {
      $("phrase-error").textContent = "请填写标题和内容";
      (title ? $("phrase-text") : $("phrase-title")).focus();
      return;
    }
    try {
      const { status, data } = editing
        ? await api("PUT", `/phrases/${editing.id}`, { title, text })
        : await api("POST", "/phrases", { title, text });
      if (status !== 200 && status !== 201) {
        $("phrase-error").textContent = data.error || "保存失败，请稍后再试";
        return;
      }
      $("phrase-dialog").close();
      await loadPhrases();
    } catch (error) {
      $("phrase-error").textContent = failure(error);
    }
  });

  async function deletePhrase(phrase) {
    if (!(await confirmAction("删除常用语", `确定删除常用语“${phrase.title}”吗？`, "删除"))) return;
    try {
      const { status, data } = await api("DELETE", `/phrases/${phrase.id}`);
      if (status !== 200 && status !== 204) showNotice(data.error || "删除失败，请稍后再试");
      await loadPhrases();
    } catch (error) {
      showNotice(failure(error));
    }
  }

  // ---- notes ---------------------------------------------------------------------------------

  $("note-text").addEventListener("keydown", sendOnCtrlEnter($("note-form")));

  $("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("note-text");
    const status = $("note-status");
    const text = typedText(box, status, "请输入备注内容");
    if (text === null) return;
    const id = openId;
    $("add-note").disabled = true;
    try {
      const { status: code, data } = await api("POST", `/handoffs/${id}/notes`, { text });
      if (code === 201 || code === 200) {
        if (id === openId && box.value.trim() === text) box.value = "";
        status.textContent = "备注已保存";
        if (id === openId && open && data.note) {
          open.notes = [...(open.notes || []).filter((note) => note.id !== data.note.id), data.note];
          renderNotes();
        }
        refreshOpen(); // a read begun before the note was saved must not leave it out
      } else {
        showError(status, data.error || "备注未保存，请稍后再试");
      }
    } catch (error) {
      showError(status, failure(error, "备注未保存：网络连接中断"));
    } finally {
      $("add-note").disabled = false;
    }
  });

  // ---- transfer ------------------------------------------------------------------------------

  $("transfer").addEventListener("click", async () => {
    const list = $("transfer-agents");
    $("transfer-error").textContent = "";
    list.replaceChildren(element("li", "hint", "正在读取客服名单…"));
    $("transfer-dialog").showModal();
    try {
      const { status, data } = await api("GET", "/agents");
      if (status !== 200) {
        list.replaceChildren();
        $("transfer-error").textContent = data.error || "暂时无法读取客服名单";
        return;
      }
      const others = (data.agents || []).filter((agent) => !me || agent.id !== me.id);
      others.sort((a, b) => Number(b.online) - Number(a.online) || Number(a.busy) - Number(b.busy));
      list.replaceChildren(
        ...others.map((agent) => {
          const item = element("li", "agent-choice");
          const label = element("label");
          const radio = testid(element("input"), "transfer-agent");
          radio.type = "radio";
          radio.name = "agent";
          radio.value = String(agent.id);
          radio.disabled = !agent.online;
          const state = !agent.online ? "离线" : agent.busy ? "忙碌" : "空闲";
          const kind = !agent.online ? "offline" : agent.busy ? "busy" : "free";
          const stateTag = element("span", `agent-state ${kind}`, state);
          label.append(radio, element("span", "agent-name", agent.name), stateTag);
          if (agent.role === "supervisor") label.append(element("span", "muted", "班长"));
          item.append(label);
          return item;
        }),
      );
      if (!others.length) list.replaceChildren(element("li", "hint", "没有其他客服"));
      const first = list.querySelector("input:not(:disabled)");
      if (first) first.focus();
      else $("transfer-error").textContent = "现在没有其他在线客服";
    } catch (error) {
      list.replaceChildren();
      $("transfer-error").textContent = failure(error);
    }
  });

  $("transfer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = $("transfer-agents").querySelector("input:checked");
    if (!chosen) {
      $("transfer-error").textContent = "请选择一位在线客服";
      return;
    }
    const id = openId;
    try {
      const { status, data } = await api("POST", `/handoffs/${id}/transfer`, { agent_id: Number(chosen.value) });
      if (status !== 200) {
        $("transfer-error").textContent = data.error || "转接失败，请稍后再试";
        return;
      }
      $("transfer-dialog").close();
      const name = chosen.closest("label").querySelector(".agent-name").textContent;
      showNotice(`会话 #${id} 已转接给客服${name}`, "ok");
      if (id === openId) clearHandoff(`会话 #${id} 已转接给客服${name}。`);
      await refreshQueue();
    } catch (error) {
      $("transfer-error").textContent = failure(error);
    }
  });

  // ---- work order ----------------------------------------------------------------------------

  const ORDER_FIELDS = ["type", "title", "details", "district", "address", "contact"];

  function setOrderType(value) {
    const select = $("order-type");
    for (const option of [...select.options]) {
      if (option.dataset.extra) option.remove();
    }
    if (value && !ORDER_TYPES.includes(value)) {
      const option = element("option", "", value);
      option.value = value;
      option.dataset.extra = "1";
      select.append(option);
    }
    select.value = value || ORDER_TYPES[0];
  }

  $("create-order").addEventListener("click", async () => {
    const form = $("order-form");
    form.reset();
    setOrderType(ORDER_TYPES[0]);
    $("order-error").textContent = "";
    $("order-result").hidden = true;
    $("order-submit").disabled = false;
    $("order-loading").hidden = false;
    $("order-dialog").showModal();
    const id = openId;
    try {
      const { status, data } = await api("GET", `/handoffs/${id}/work-order-draft`);
      if (status === 200) {
        setOrderType(data.type);
        for (const field of ORDER_FIELDS.slice(1)) $(`order-${field}`).value = data[field] || "";
      } else {
        $("order-error").textContent = data.error || "无法自动填写，请手动填写";
      }
    } catch (error) {
      $("order-error").textContent = failure(error, "无法自动填写，请手动填写");
    } finally {
      $("order-loading").hidden = true;
      $("order-title").focus();
    }
  });

  $("order-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const field of ORDER_FIELDS) body[field] = $(`order-${field}`).value.trim();
    if (!body.title || !body.details) {
      $("order-error").textContent = "请填写标题和详情";
      (body.title ? $("order-details") : $("order-title")).focus();
      return;
    }
    $("order-error").textContent = "";
    $("order-submit").disabled = true;
    try {
      const { status, data } = await api("POST", `/handoffs/${openId}/work-order`, body);
      if (status === 201 || status === 200) {
        $("order-number").textContent = data.number;
        $("order-result").hidden = false;
        showNotice(`工单已创建，编号 ${data.number}`, "ok");
        $("order-dialog").querySelector(".cancel").focus();
        return;
      }
      $("order-error").textContent = data.error || "工单未创建，请稍后再试";
      $("order-submit").disabled = false;
    } catch (error) {
      $("order-error").textContent = failure(error, "工单未创建：网络连接中断");
      $("order-submit").disabled = false;
    }
  });

  // ---- closing -------------------------------------------------------------------------------

  $("close-handoff").addEventListener("click", async () => {
    const id = openId;
    const asked = "结束后智能助手会继续为市民服务，并请市民评价本次服务。";
    if (!(await confirmAction(`结束会话 #${id}？`, asked, "结束会话"))) return;
    try {
      const { status, data } = await api("POST", `/handoffs/${id}/close`);
      if (status !== 200) {
        showNotice(data.error || "无法结束会话，请稍后再试");
        refreshOpen();
        return;
      }
      queue.mine = (queue.mine || []).filter((handoff) => handoff.id !== id);
      unread.delete(id);
      if (id === openId) clearHandoff(`会话 #${id} 已结束。`);
      showNotice(`会话 #${id} 已结束`, "ok");
      await refreshQueue();
      $("mine-title").focus();
    } catch (error) {
      showNotice(failure(error));
    }
  });

  // ---- dialogs -------------------------------------------------------------------------------

  for (const dialog of document.querySelectorAll("dialog")) {
    for (const cancel of dialog.querySelectorAll(".cancel")) {
      cancel.addEventListener("click", () => dialog.close());
    }
  }
  $("confirm-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("confirm-dialog").close("ok");
  });

  // ---- supervisor view -----------------------------------------------------------------------

  function percent(count, total) {
    if (!total) return "—";
    return `${Math.round((count / total) * 100)}%`;
  }

  function renderSatisfaction(counts, rated, prefix) {
    // prefix "stat" (handoffs) or "stat-bot" (conversations the bot handled alone)
    counts = counts || {};
    const scale = Object.keys(counts); // the server's rating scale, in its order
    const total = scale.reduce((sum, label) => sum + (Number(counts[label]) || 0), 0);
    $(`${prefix}-rated`).textContent = String(rated ?? total);
    $(`${prefix}-satisfaction`).replaceChildren(
      ...scale.map((label, index) => {
        const count = Number(counts[label]) || 0;
        const item = testid(element("li", `satisfaction-item level-${index}`), `${prefix}-satisfaction-item`);
        item.dataset.label = label;
        item.dataset.count = String(count);
        const bar = element("span", "meter");
        const fill = element("span", "meter-fill");
        fill.style.width = total ? `${(count / total) * 100}%` : "0";
        bar.append(fill);
        item.append(
          element("span", "satisfaction-label", label),
          bar,
          element("span", "satisfaction-count", `${count}次 · ${percent(count, total)}`),
        );
        return item;
      }),
    );
  }

  function renderPerHour(hours) {
    // A bar chart of handoffs per hour, drawn as inline SVG.
    const width = 640;
    const height = 220;
    const top = 24;
    const bottom = 28;
    const slot = width / Math.max(hours.length, 1);
    const most = Math.max(1, ...hours.map((hour) => Number(hour.count) || 0));
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "bars", role: "img" });
    const described = hours.map((hour) => `${String(hour.hour).slice(11, 13)}时 ${Number(hour.count) || 0}次`).join("，");
    chart.setAttribute("aria-label", `近12小时每小时转人工数：${described || "暂无数据"}`);
    chart.append(svg("line", { x1: 0, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
    hours.forEach((hour, index) => {
      const count = Number(hour.count) || 0;
      const barHeight = ((height - top - bottom) * count) / most;
      const x = index * slot + slot * 0.18;
      const group = svg("g", { "data-testid": "stat-bar", "data-hour": hour.hour, "data-count": count });
      group.append(
        svg("rect", { x, y: height - bottom - barHeight, width: slot * 0.64, height: barHeight, class: "bar", rx: 3 }),
      );
      const value = svg("text", { x: x + slot * 0.32, y: height - bottom - barHeight - 6, class: "bar-value" });
      value.textContent = String(count);
      const label = svg("text", { x: x + slot * 0.32, y: height - 8, class: "bar-label" });
      label.textContent = `${String(hour.hour).slice(11, 13)}时`;
      group.append(value, label);
      chart.append(group);
    });
    if (!hours.length) {
      const empty = svg("text", { x: width / 2, y: height / 2, class: "bar-label" });
      empty.textContent = "暂无数据";
      chart.append(empty);
    }
    $("stat-per-hour").replaceChildren(chart);
  }

  function renderStats(stats) {
    $("stat-queue-length").textContent = String(stats.queue_length ?? "—");
    $("stat-longest-wait").textContent = duration(stats.longest_wait_s);
    $("stat-agents-online").textContent = String(stats.agents_online ?? "—");
    $("stat-agents-busy").textContent = String(stats.agents_busy ?? "—");
    $("stat-average-wait").textContent = stats.average_wait_s == null ? "—" : duration(stats.average_wait_s);
    $("stat-closed-today").textContent = String(stats.closed_today ?? "—");
    renderSatisfaction(stats.satisfaction, stats.rated, "stat");
    renderSatisfaction(stats.bot_satisfaction, stats.bot_rated, "stat-bot");
    renderPerHour(stats.handoffs_per_hour || []);
    $("stat-updated").textContent = timeLabel(new Date().toISOString());
  }

  const refreshStats = coalesced(async () => {
    if (!me || me.role !== "supervisor") return;
    try {
      const { status, data } = await api("GET", "/stats");
      if (status === 200) renderStats(data);
      else showNotice(data.error || "暂时无法读取统计数据");
    } catch (error) {
      showNotice(failure(error, "暂时无法读取统计数据"));
    }
  });

  function selectTab(name) {
    const supervisor = name === "supervisor";
    $("console").hidden = supervisor;
    $("supervisor").hidden = !supervisor;
    for (const [tab, selected] of [
      [$("tab-console"), !supervisor],
      [$("tab-supervisor"), supervisor],
    ]) {
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    if (supervisor) refreshStats();
  }

  $("tab-console").addEventListener("click", () => selectTab("console"));
  $("tab-supervisor").addEventListener("click", () => selectTab("supervisor"));
  $("tab-console").parentElement.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if ($("tab-supervisor").hidden) return;
    const next = document.activeElement === $("tab-console") ? "supervisor" : "console";
    selectTab(next);
    $(`tab-${next}`).focus();
  });

  // ---- the event stream ----------------------------------------------------------------------

  function catchUp() {
    // After (re)connecting nothing said while away is known: read everything again.
    refreshQueue();
    refreshOpen();
    refreshStats();
  }

  async function reconnect() {
    reconnectTimer = null;
    try {
      const { status } = await api("GET", "/me"); // a 401 goes to the login page
      if (status === 200) {
        connect();
        return;
      }
    } catch (error) {
      if (error instanceof SessionEnded) return;
    }
    reconnectTimer = setTimeout(reconnect, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, RETRY_MAX_MS);
  }

  function connect() {
    if (source) source.close();
    source = new EventSource(`${API}/events`);
    source.addEventListener("open", () => {
      const wasLost = document.body.dataset.connection === "lost";
      setConnected(true);
      reconnectDelay = 1000;
      if (wasLost) catchUp();
    });
    source.addEventListener("queue", () => refreshQueue());
    source.addEventListener("stats", () => refreshStats());
    source.addEventListener("handoff", (event) => {
      let id = null;
      try {
        id = Number(JSON.parse(event.data).id);
      } catch (parseError) {
        id = null;
      }
      if (id) handoffChanged(id);
      else refreshOpen();
    });
    source.addEventListener("error", () => {
      setConnected(false);
      if (source.readyState === EventSource.CLOSED && reconnectTimer === null) {
        // Refused rather than dropped (the browser retries a dropped stream by itself).
        reconnectTimer = setTimeout(reconnect, reconnectDelay);
        reconnectDelay = Math.min(reconnectDelay * 2, RETRY_MAX_MS);
      }
    });
  }

  // ---- logging out and starting --------------------------------------------------------------

  $("logout").addEventListener("click", async () => {
    try {
      await api("POST", "/logout");
    } catch (error) {
      if (error instanceof SessionEnded) return;
    }
    if (source) source.close();
    toLogin();
  });

  $("notice-close").addEventListener("click", hideNotice);

  async function start() {
    let delay = 1000;
    for (;;) {
      try {
        const { status, data } = await api("GET", "/me");
        if (status === 200 && data.agent) {
          me = data.agent;
          csrf = data.csrf || "";
          break;
        }
        showNotice(data.error || "暂时无法登录工作台，请稍后再试");
      } catch (error) {
        if (error instanceof SessionEnded) return;
        setConnected(false);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
    setConnected(true);
    hideNotice();
    const roleName = me.role === "supervisor" ? "班长" : "客服";
    $("me").textContent = `${roleName} ${me.name || me.username}`;
    document.body.dataset.role = me.role;
    if (me.role === "supervisor") {
      // A supervisor's second list holds every conversation being handled, not only their own.
      $("mine-title").firstChild.textContent = "处理中的会话 ";
      $("mine-empty").textContent = "现在没有处理中的会话";
      $("tab-supervisor").hidden = false;
      $("dashboard-link").hidden = false;
      setInterval(refreshStats, STATS_EVERY_MS);
      refreshStats();
    }
    setInterval(tick, 1000);
    renderQueue();
    connect();
    await Promise.all([refreshQueue(), loadPhrases()]);
  }

  start();
})();
