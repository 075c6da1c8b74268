// How the console's pages (the desk, the dashboard, the login) call the server; loaded before each
// page's own script.
"use strict";

const REQUEST_TIMEOUT_MS = 15000;

async function requestJson(method, url, headers, body) {
  // One JSON request with a timeout; the status and the parsed body ({} when none).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const sent = { Accept: "application/json", ...headers };
  const init = { method, headers: sent, credentials: "same-origin", signal: controller.signal };
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(url, init);
    let data = {};
    try {
      data = await response.json();
    } catch (parseError) {
      data = {};
    }
    return { status: response.status, data: data || {} };
  } finally {
    clearTimeout(timer);
  }
}
