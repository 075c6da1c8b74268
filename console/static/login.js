// The agent console's login page: posts the credentials as JSON and goes to /agent on success.
"use strict";

(() => {
  const FALLBACK_ERRORS = {
    401: "用户名或密码错误",
    403: "登录请求被拒绝，请刷新页面后再试",
    423: "登录失败次数过多，账号已锁定，请稍后再试",
    429: "尝试过于频繁，请稍后再试",
  };

  const $ = (id) => document.getElementById(id);
  const form = $("login-form");
  const username = $("username");
  const password = $("password");
  const error = $("login-error");
  const submit = $("login-submit");

  function showError(text) {
    error.textContent = text;
    form.classList.toggle("has-error", Boolean(text));
  }

  function request(method, path, body) {
    return requestJson(method, path, { "X-Requested-With": "hotline-console" }, body);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!username.value.trim()) {
      showError("请输入用户名");
      username.focus();
      return;
    }
    if (!password.value) {
      showError("请输入密码");
      password.focus();
      return;
    }
    showError("");
    submit.disabled = true;
    submit.textContent = "正在登录…";
    try {
      const { status, data } = await request("POST", "/agent/api/login", {
        username: username.value.trim(),
        password: password.value,
      });
      if (status === 200) {
        window.location.assign("/agent");
        return;
      }
      showError(data.error || FALLBACK_ERRORS[status] || "暂时无法登录，请稍后再试");
      password.value = "";
      password.focus();
    } catch (requestError) {
      showError("网络连接中断，请稍后再试");
    } finally {
      submit.disabled = false;
      submit.textContent = "登录";
    }
  });

  async function alreadyLoggedIn() {
    // Someone who is still logged in goes straight to the console.
    try {
      const { status } = await request("GET", "/agent/api/me");
      if (status === 200) window.location.replace("/agent");
    } catch (requestError) {
      // The server is unreachable: the form stays, and says so when it is used.
    }
  }

  submit.disabled = false; // the form is handled from now on (it starts disabled in the page)
  username.focus();
  alreadyLoggedIn();
})();
