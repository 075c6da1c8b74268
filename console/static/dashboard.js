// The supervisor's work-order dashboard: reads /agent/api/dashboard and draws its charts as inline SVG.
//
// Test hooks (data-testid), stable for end-to-end tests:
//   page        dashboard (main; data-state = loading|ready|error), forbidden (agents who are not
//               supervisors), notice (errors), me, days (the period select), period, updated, refresh
//   kpis        kpi-filed, kpi-open, kpi-overdue, kpi-on-time, kpi-satisfied, kpi-queue, kpi-hotspots
//   per day     per-day (chart; data-dimension), per-day-by-categories|channels|districts (buttons),
//               day (data-day, data-count) with day-segment (data-name, data-count); per-day-legend with
//               legend-item (data-name, data-count); per-day-empty
//   totals      by-channel, by-district: bar (data-name, data-count)
//   satisfaction satisfaction (donut), satisfaction-list with satisfaction-item (data-label, data-count)
//   departments departments (chart) with department (data-name, data-open, data-overdue, data-closed,
//               data-on-time-rate: a whole percentage, or "" when nothing was closed); departments-empty
//   hotspots    hotspot-map with map-district (data-district, data-count: open hotspot orders,
//               data-level 0-4, data-orders: orders filed in the period); hotspots (list) with hotspot
//               (data-district, data-count); hotspots-empty
//   queue       queue-total, queue-table with queue-row (data-number) and its cells queue-number,
//               queue-type, queue-title, queue-district, queue-state, queue-wait; queue-empty, queue-more
"use strict";

(() => {
  const API = "/agent/api";
  const REFRESH_EVERY_MS = 60000;
  const DEFAULT_DAYS = 14;
  const STACKED_SERIES = 7; // the largest series get a colour each; the rest are summed as 其他
  const OTHER = "其他";
  const DEPARTMENT_CHARS = 16;
  const PALETTE = ["#3b75af", "#ef8636", "#519e3e", "#8d69b8", "#c8a13a", "#84584e", "#d57dbf"];
  const OTHER_COLOUR = "#9aa4ae";
  const SATISFACTION_COLOURS = { 满意: "#3f8f4f", 基本满意: "#d9a21b", 不满意: "#b3141b" };
  const DIMENSIONS = { categories: "类别", channels: "渠道", districts: "区" };
  // A schematic map: Guangzhou's districts on a grid, roughly where they lie (north up).
  const TILES = [
    ["花都区", 1, 0],
    ["从化区", 2, 0],
    ["白云区", 1, 1],
    ["增城区", 3, 1],
    ["荔湾区", 0, 2],
    ["越秀区", 1, 2],
    ["天河区", 2, 2],
    ["黄埔区", 3, 2],
    ["海珠区", 1, 3],
    ["番禺区", 2, 3],
    ["南沙区", 2, 4],
  ];

  const $ = (id) => document.getElementById(id);

  let days = DEFAULT_DAYS;
  let dimension = "categories";
  let data = null; // the last dashboard read
  let timer = null;
  let loading = null;

  // ---- small helpers -------------------------------------------------------------------------
  // (element, testid and svg come from markup.js)

  function tooltip(node, text) {
    // A native tooltip on an SVG shape (and what a screen reader reads for it).
    node.append(svg("title", {}, text));
    return node;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`;
  }

  function share(count, total) {
    return total ? `${Math.round((count / total) * 100)}%` : "—";
  }

  function chinaTime(iso, withDate) {
    // A time from the server as read in China, whatever the browser's time zone.
    const at = new Date(iso);
    if (Number.isNaN(at.getTime())) return "";
    const options = { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false };
    if (withDate) Object.assign(options, { month: "numeric", day: "numeric" });
    return at.toLocaleString("zh-CN", options);
  }

  function dayLabel(day) {
    // "2026-11-23" → "11/23".
    const [, month, date] = String(day).split("-");
    return `${Number(month)}/${Number(date)}`;
  }

  function waited(seconds) {
    const minutes = Math.floor(Math.max(0, Number(seconds) || 0) / 60);
    if (minutes < 60) return `${minutes}分钟`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours}小时${minutes % 60 ? `${minutes % 60}分` : ""}`;
    return `${Math.floor(hours / 24)}天${hours % 24 ? `${hours % 24}小时` : ""}`;
  }

  function shortDepartment(name) {
    // Without the city's name, and cut to what the chart's name column holds (the tooltip has it whole).
    const short = String(name).replace(/^广州市(?=.)/, "");
    return short.length > DEPARTMENT_CHARS ? `${short.slice(0, DEPARTMENT_CHARS - 1)}…` : short;
  }

  function widthOf(container, fallback) {
    // The chart's drawing width: the container's, so that its text keeps the page's size.
    return Math.max(320, Math.round(container.clientWidth || fallback));
  }

  function emptyText(container, text, id) {
    container.replaceChildren(testid(element("p", "empty chart-empty", text), id));
  }

  function showNotice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  // ---- requests ------------------------------------------------------------------------------

  async function getJson(path) {
    // One GET of the console API; the status and the parsed body ({} when none).
    const { status, data } = await requestJson("GET", API + path, {});
    return { status, body: data };
  }

  // ---- key figures ---------------------------------------------------------------------------

  function renderKpis(board) {
    const totals = board.totals;
    const satisfaction = board.satisfaction;
    $("kpi-filed").textContent = String(totals.filed);
    $("kpi-filed-note").textContent = `近${board.days}天，日均${(totals.filed / board.days).toFixed(1)}件`;
    $("kpi-open").textContent = String(totals.open);
    $("kpi-overdue").textContent = String(totals.overdue);
    $("kpi-overdue-box").classList.toggle("alarm", totals.overdue > 0);
    $("kpi-on-time").textContent = percent(totals.on_time_rate);
    $("kpi-on-time-note").textContent = totals.closed
      ? `办结${totals.closed}件，按时${totals.closed_on_time}件`
      : "统计期内没有办结的工单";
    $("kpi-satisfied").textContent = percent(satisfaction.satisfied_rate);
    $("kpi-satisfied-note").textContent = satisfaction.answered
      ? `满意和基本满意，共回访${satisfaction.answered}件`
      : "统计期内还没有回访结果";
    $("kpi-queue").textContent = String(totals.queue);
    $("kpi-queue-box").classList.toggle("warn", totals.queue > 0);
    $("kpi-hotspots").textContent = String(totals.hotspots);
    $("kpi-hotspots-box").classList.toggle("warn", totals.hotspots > 0);
  }

  // ---- orders per day (stacked columns) ------------------------------------------------------

  function seriesOf(board, key) {
    // The names shown with a colour of their own (largest first), and whether an 其他 series is needed.
    const totals = new Map();
    for (const day of board.per_day) {
      for (const [name, count] of Object.entries(day[key] || {})) totals.set(name, (totals.get(name) || 0) + count);
    }
    const order = board.names[key] || [];
    const ranked = [...totals.entries()]
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1] || order.indexOf(a[0]) - order.indexOf(b[0]));
    const shown = ranked.length > STACKED_SERIES + 1 ? ranked.slice(0, STACKED_SERIES) : ranked;
    const rest = ranked.slice(shown.length).reduce((sum, [, count]) => sum + count, 0);
    const series = shown.map(([name, count], index) => ({ name, count, colour: PALETTE[index % PALETTE.length] }));
    if (rest) series.push({ name: OTHER, count: rest, colour: OTHER_COLOUR, rest: true });
    return series;
  }

  function renderPerDay(board) {
    const key = dimension;
    const container = $("per-day");
    container.dataset.dimension = key;
    for (const button of document.querySelectorAll(".segment")) {
      button.setAttribute("aria-pressed", String(button.dataset.dimension === key));
    }
    const series = seriesOf(board, key);
    const legend = $("per-day-legend");
    if (!board.totals.filed) {
      emptyText(container, `近${board.days}天没有新增工单`, "per-day-empty");
      legend.replaceChildren();
      return;
    }
    const named = new Set(series.filter((s) => !s.rest).map((s) => s.name));
    const width = widthOf(container, 960);
    const height = 260;
    const top = 26;
    const bottom = 30;
    const left = 40;
    const right = 8;
    const most = Math.max(1, ...board.per_day.map((day) => day.total));
    const scale = (height - top - bottom) / most;
    const slot = (width - left - right) / board.per_day.length;
    const barWidth = Math.max(4, Math.min(56, slot * 0.64));
    const labelEvery = Math.ceil(board.per_day.length / 16);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "columns", role: "img" });
    const busiest = board.per_day.reduce((a, b) => (b.total > a.total ? b : a));
    chart.setAttribute(
      "aria-label",
      `近${board.days}天每日新增工单（按${DIMENSIONS[key]}），共${board.totals.filed}件，` +
        `最多的一天是${dayLabel(busiest.day)}，${busiest.total}件`,
    );
    for (const step of [0.5, 1]) {
      const value = Math.round(most * step);
      if (!value || (step === 0.5 && value === most)) continue;
      const y = height - bottom - value * scale;
      chart.append(svg("line", { x1: left, y1: y, x2: width - right, y2: y, class: "grid" }));
      chart.append(svg("text", { x: left - 6, y: y + 5, class: "tick" }, value));
    }
    chart.append(svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }));
    board.per_day.forEach((day, index) => {
      const x = left + index * slot + (slot - barWidth) / 2;
      const group = svg("g", { "data-testid": "day", "data-day": day.day, "data-count": day.total });
      const counts = day[key] || {};
      let y = height - bottom;
      for (const item of series) {
        const count = item.rest
          ? Object.entries(counts).reduce((sum, [name, n]) => sum + (named.has(name) ? 0 : n), 0)
          : counts[item.name] || 0;
        if (!count) continue;
        const segment = count * scale;
        y -= segment;
        const rect = svg("rect", {
          x,
          y,
          width: barWidth,
          height: Math.max(segment, 0.5),
          fill: item.colour,
          class: "segment-rect",
          "data-testid": "day-segment",
          "data-name": item.name,
          "data-count": count,
        });
        group.append(tooltip(rect, `${dayLabel(day.day)} ${item.name}：${count}件`));
      }
      if (day.total) group.append(svg("text", { x: x + barWidth / 2, y: y - 6, class: "value" }, day.total));
      if (index % labelEvery === 0 || index === board.per_day.length - 1) {
        group.append(svg("text", { x: x + barWidth / 2, y: height - 9, class: "label" }, dayLabel(day.day)));
      }
      chart.append(group);
    });
    container.replaceChildren(chart);
    legend.replaceChildren(
      ...series.map((item) => {
        const entry = testid(element("li", "legend-item"), "legend-item");
        entry.dataset.name = item.name;
        entry.dataset.count = String(item.count);
        const swatch = element("span", "swatch");
        swatch.style.backgroundColor = item.colour;
        entry.append(swatch, element("span", "legend-name", item.name), element("span", "legend-count", item.count));
        return entry;
      }),
    );
  }

  // ---- horizontal bars -----------------------------------------------------------------------

  function renderBars(container, items, label, emptyMessage) {
    // One row per item: its name, a bar as long as its share of the largest, its count.
    if (!items.some((item) => item.count > 0)) {
      emptyText(container, emptyMessage, `${container.dataset.testid}-empty`);
      return;
    }
    const row = 28;
    const width = widthOf(container, 420);
    const nameWidth = 78;
    const valueWidth = 64;
    const height = items.length * row + 4;
    const most = Math.max(1, ...items.map((item) => item.count));
    const total = items.reduce((sum, item) => sum + item.count, 0);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "hbars", role: "img" });
    chart.setAttribute("aria-label", `${label}：${items.map((item) => `${item.name}${item.count}件`).join("，")}`);
    items.forEach((item, index) => {
      const y = index * row + 4;
      const group = svg("g", { "data-testid": "bar", "data-name": item.name, "data-count": item.count });
      group.append(svg("text", { x: nameWidth - 8, y: y + 17, class: "name" }, item.name));
      const track = width - nameWidth - valueWidth;
      group.append(svg("rect", { x: nameWidth, y: y + 3, width: track, height: 18, class: "track" }));
      const length = (track * item.count) / most;
      if (item.count) {
        group.append(
          tooltip(
            svg("rect", { x: nameWidth, y: y + 3, width: Math.max(length, 2), height: 18, class: "fill", rx: 2 }),
            `${item.name}：${item.count}件（${share(item.count, total)}）`,
          ),
        );
      }
      group.append(svg("text", { x: width - valueWidth + 8, y: y + 17, class: "count" }, item.count));
      chart.append(group);
    });
    container.replaceChildren(chart);
  }

  // ---- satisfaction (donut) ------------------------------------------------------------------

  function renderSatisfaction(board) {
    const labels = board.names.satisfaction;
    const counts = board.satisfaction.counts;
    const answered = board.satisfaction.answered;
    const container = $("satisfaction");
    const list = $("satisfaction-list");
    list.replaceChildren(
      ...labels.map((label) => {
        const item = testid(element("li", "legend-item"), "satisfaction-item");
        item.dataset.label = label;
        item.dataset.count = String(counts[label] || 0);
        const swatch = element("span", "swatch");
        swatch.style.backgroundColor = SATISFACTION_COLOURS[label];
        item.append(
          swatch,
          element("span", "legend-name", label),
          element("span", "legend-count", `${counts[label] || 0}件 · ${share(counts[label] || 0, answered)}`),
        );
        return item;
      }),
    );
    if (!answered) {
      emptyText(container, "统计期内还没有回访结果", "satisfaction-empty");
      return;
    }
    const size = 200;
    const radius = 80;
    const thickness = 30;
    const centre = size / 2;
    const chart = svg("svg", { viewBox: `0 0 ${size} ${size}`, class: "donut", role: "img" });
    chart.setAttribute(
      "aria-label",
      `回访${answered}件：` + labels.map((label) => `${label}${counts[label] || 0}件`).join("，"),
    );
    const circumference = 2 * Math.PI * radius;
    let offset = 0;
    for (const label of labels) {
      const count = counts[label] || 0;
      if (!count) continue;
      const length = (circumference * count) / answered;
      const arc = svg("circle", {
        cx: centre,
        cy: centre,
        r: radius,
        fill: "none",
        stroke: SATISFACTION_COLOURS[label],
        "stroke-width": thickness,
        "stroke-dasharray": `${length} ${circumference - length}`,
        "stroke-dashoffset": -offset,
        transform: `rotate(-90 ${centre} ${centre})`,
      });
      chart.append(tooltip(arc, `${label}：${count}件（${share(count, answered)}）`));
      offset += length;
    }
    const rate = percent(board.satisfaction.satisfied_rate);
    chart.append(svg("text", { x: centre, y: centre + 2, class: "donut-value" }, rate));
    chart.append(svg("text", { x: centre, y: centre + 28, class: "donut-label" }, "满意率"));
    container.replaceChildren(chart);
  }

  // ---- departments ---------------------------------------------------------------------------

  function renderDepartments(board) {
    const container = $("departments");
    const departments = board.departments;
    if (!departments.length) {
      emptyText(container, "目前没有在办工单，统计期内也没有办结的工单", "departments-empty");
      return;
    }
    const row = 34;
    const width = Math.max(widthOf(container, 960), 720);
    const nameWidth = 250;
    const openWidth = Math.round((width - nameWidth) * 0.5);
    const rateX = nameWidth + openWidth + 130;
    const rateWidth = width - rateX - 70;
    const height = departments.length * row + 26;
    const most = Math.max(1, ...departments.map((d) => d.open));
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "departments-chart", role: "img" });
    chart.setAttribute(
      "aria-label",
      "各部门：" +
        departments
          .map((d) => `${shortDepartment(d.name)}在办${d.open}件、超期${d.overdue}件、按时办结率${percent(d.on_time_rate)}`)
          .join("；"),
    );
    chart.append(svg("text", { x: nameWidth, y: 16, class: "head" }, "在办（红色为超期）"));
    chart.append(svg("text", { x: rateX, y: 16, class: "head" }, `按时办结率（近${board.days}天办结）`));
    departments.forEach((department, index) => {
      const y = index * row + 26;
      const rate = department.on_time_rate;
      const group = svg("g", {
        "data-testid": "department",
        "data-name": department.name,
        "data-open": department.open,
        "data-overdue": department.overdue,
        "data-closed": department.closed,
        "data-on-time-rate": rate === null ? "" : Math.round(rate * 100),
      });
      const name = svg("text", { x: nameWidth - 10, y: y + 21, class: "name" }, shortDepartment(department.name));
      group.append(tooltip(name, department.name));
      const openLength = Math.max((openWidth * department.open) / most, 2);
      const overdueLength = Math.max((openWidth * department.overdue) / most, 2);
      const bar = { y: y + 6, height: 20, rx: 2 };
      if (department.open) {
        group.append(
          tooltip(
            svg("rect", { x: nameWidth, width: openLength, class: "open-bar", ...bar }),
            `在办${department.open}件`,
          ),
        );
      }
      if (department.overdue) {
        group.append(
          tooltip(
            svg("rect", { x: nameWidth, width: overdueLength, class: "overdue-bar", ...bar }),
            `超期${department.overdue}件`,
          ),
        );
      }
      const counts = department.overdue ? `${department.open}（超期${department.overdue}）` : String(department.open);
      const countX = nameWidth + (department.open ? openLength : 0) + 8;
      group.append(svg("text", { x: countX, y: y + 21, class: "count" }, counts));
      group.append(svg("rect", { x: rateX, y: y + 9, width: rateWidth, height: 14, class: "track", rx: 2 }));
      if (rate !== null) {
        const level = rate >= 0.9 ? "good" : rate >= 0.7 ? "fair" : "poor";
        group.append(
          tooltip(
            svg("rect", {
              x: rateX,
              y: y + 9,
              width: Math.max(rateWidth * rate, 2),
              height: 14,
              class: `rate-bar ${level}`,
              rx: 2,
            }),
            `办结${department.closed}件，按时${department.closed_on_time}件`,
          ),
        );
      }
      group.append(
        svg("text", { x: rateX + rateWidth + 8, y: y + 21, class: "count" }, rate === null ? "无办结" : percent(rate)),
      );
      chart.append(group);
    });
    container.replaceChildren(chart);
  }

  // ---- hotspots: the district map and the list -----------------------------------------------

  function renderHotspots(board) {
    const byDistrict = board.hotspot_districts || {};
    const orders = Object.fromEntries(board.by_district.map((item) => [item.name, item.count]));
    const most = Math.max(0, ...Object.values(byDistrict));
    const tile = 86;
    const gap = 6;
    const width = 4 * tile + 3 * gap;
    const height = 5 * tile + 4 * gap;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "district-map", role: "img" });
    const hot = TILES.filter(([name]) => byDistrict[name]);
    chart.setAttribute(
      "aria-label",
      "广州市各区舆情热点示意图：" +
        (hot.length ? hot.map(([name]) => `${name}${byDistrict[name]}件`).join("，") : "目前没有舆情热点"),
    );
    for (const [name, column, row] of TILES) {
      const count = byDistrict[name] || 0;
      const level = count ? Math.max(1, Math.ceil((4 * count) / most)) : 0;
      const x = column * (tile + gap);
      const y = row * (tile + gap);
      const group = svg("g", {
        "data-testid": "map-district",
        "data-district": name,
        "data-count": count,
        "data-level": level,
        "data-orders": orders[name] || 0,
        class: `tile level-${level}`,
      });
      group.append(
        tooltip(
          svg("rect", { x, y, width: tile, height: tile, rx: 8 }),
          `${name}：${count ? `舆情热点涉及${count}件工单` : "无舆情热点"}；近${board.days}天工单${orders[name] || 0}件`,
        ),
      );
      group.append(svg("text", { x: x + tile / 2, y: y + 32, class: "tile-name" }, name.replace(/区$/, "")));
      group.append(svg("text", { x: x + tile / 2, y: y + 56, class: "tile-count" }, count ? `热点${count}件` : "—"));
      group.append(svg("text", { x: x + tile / 2, y: y + 76, class: "tile-orders" }, `工单${orders[name] || 0}`));
      chart.append(group);
    }
    $("hotspot-map").replaceChildren(chart);
    const list = $("hotspots");
    list.replaceChildren(
      ...board.hotspots.map((spot) => {
        const item = testid(element("li", "hotspot"), "hotspot");
        item.dataset.district = spot.district;
        item.dataset.count = String(spot.count);
        const head = element("div", "hotspot-head");
        head.append(element("strong", "", spot.district), element("span", "hotspot-count", `${spot.count}件`));
        item.append(
          head,
          element("div", "", `${spot.category[0]} / ${spot.category[1]}`),
          element("div", "hint", `${chinaTime(spot.first_at, true)} 起，最近一件 ${chinaTime(spot.last_at, true)}`),
        );
        return item;
      }),
    );
    $("hotspots-empty").hidden = board.hotspots.length > 0;
  }

  // ---- the dispatcher queue ------------------------------------------------------------------

  function cell(text, id, className) {
    return testid(element("td", className || "", text), id);
  }

  function renderQueue(board) {
    const queue = board.queue;
    $("queue-total").textContent = String(queue.total);
    $("queue-table").hidden = !queue.orders.length;
    $("queue-empty").hidden = queue.orders.length > 0;
    $("queue-more").hidden = queue.total <= queue.orders.length;
    $("queue-more").textContent = `另有${queue.total - queue.orders.length}件未列出（只列出等待最久的${queue.orders.length}件）`;
    $("queue-rows").replaceChildren(
      ...queue.orders.map((order) => {
        const row = testid(element("tr", order.overdue ? "overdue" : ""), "queue-row");
        row.dataset.number = order.number;
        const wait = cell(waited(order.waiting_s), "queue-wait", "numeric");
        wait.title = `自${chinaTime(order.waiting_since, true)}起等待`;
        const state = cell(order.state, "queue-state");
        if (order.overdue) state.append(element("span", "tag overdue-tag", "已超期"));
        if (order.urgency === "urgent") state.append(element("span", "tag urgent-tag", "紧急"));
        row.append(
          cell(order.number, "queue-number", "numeric"),
          cell(order.type, "queue-type"),
          cell(order.title || "（无标题）", "queue-title"),
          cell(order.district || "—", "queue-district"),
          state,
          wait,
        );
        return row;
      }),
    );
  }

  // ---- the whole page ------------------------------------------------------------------------

  function render(board) {
    $("period").textContent = `近${board.days}天（${dayLabel(String(board.since).slice(0, 10))}起）`;
    $("updated").textContent = chinaTime(board.generated_at, true);
    $("updated").setAttribute("datetime", board.generated_at);
    renderKpis(board);
    renderPerDay(board);
    renderBars($("by-channel"), board.by_channel, "各渠道工单量", `近${board.days}天没有新增工单`);
    renderBars($("by-district"), board.by_district, "各区工单量", `近${board.days}天没有新增工单`);
    renderSatisfaction(board);
    renderDepartments(board);
    renderHotspots(board);
    renderQueue(board);
  }

  async function refresh() {
    // Read the dashboard once (a refresh asked for while one runs waits for it).
    if (loading) return loading;
    loading = (async () => {
      $("dashboard").setAttribute("aria-busy", "true");
      try {
        const { status, body } = await getJson(`/dashboard?days=${days}`);
        if (status === 401) {
          window.location.replace("/agent/login");
          return;
        }
        if (status === 403) {
          $("dashboard").hidden = true;
          $("forbidden").hidden = false;
          clearInterval(timer);
          return;
        }
        if (status !== 200) {
          showNotice(`${body.error || "暂时无法读取工单数据"}${data ? "，下面是上次读取的数据" : ""}`);
          if (!data) $("dashboard").dataset.state = "error";
          return;
        }
        data = body;
        showNotice("");
        render(data);
        $("dashboard").dataset.state = "ready";
      } catch (error) {
        showNotice(`网络连接中断，稍后自动重试${data ? "，下面是上次读取的数据" : ""}`);
        if (!data) $("dashboard").dataset.state = "error";
      } finally {
        $("dashboard").setAttribute("aria-busy", "false");
        loading = null;
      }
    })();
    return loading;
  }

  async function showWho() {
    try {
      const { status, body } = await getJson("/me");
      if (status === 200 && body.agent) {
        const role = body.agent.role === "supervisor" ? "班长" : "客服";
        $("me").textContent = `${role} ${body.agent.name || body.agent.username}`;
      }
    } catch (error) {
      // The name in the header is a nicety; the dashboard itself says what went wrong.
    }
  }

  function start() {
    const asked = Number(new URLSearchParams(window.location.search).get("days"));
    const choices = [...$("days").options].map((option) => Number(option.value));
    days = choices.includes(asked) ? asked : DEFAULT_DAYS;
    $("days").value = String(days);
    $("dashboard").dataset.state = "loading";
    $("days").addEventListener("change", () => {
      days = Number($("days").value);
      const url = new URL(window.location.href);
      url.searchParams.set("days", String(days));
      window.history.replaceState(null, "", url);
      refresh();
    });
    for (const button of document.querySelectorAll(".segment")) {
      button.addEventListener("click", () => {
        dimension = button.dataset.dimension;
        if (data) renderPerDay(data);
      });
    }
    $("refresh").addEventListener("click", () => refresh());
    let resizing = 0;
    window.addEventListener("resize", () => {
      // Charts are drawn at the page's width: drawn again once the resizing settles.
      cancelAnimationFrame(resizing);
      resizing = requestAnimationFrame(() => {
        if (data) render(data);
      });
    });
    timer = setInterval(refresh, REFRESH_EVERY_MS);
    showWho();
    refresh();
  }

  start();
})();
