"""``make run``: start the action server and the Rasa server, and say how to talk to them."""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bot.core.settings import PROJECT_ROOT, Settings, get_settings

STARTUP_TIMEOUT_S = 180.0
# Where `make run` keeps the action server's token when ACTION_SERVER_TOKEN is not set.
TOKEN_FILE = PROJECT_ROOT / "var" / "action-server-token"


def stored_token(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The token (or key) kept in ``path``, first made there by ``make`` (readable by its owner only) if none is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(make() + "\n")
        try:
            os.link(draft, path)  # atomic: when two start at once, the first one's token is the token
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    token = path.read_text().strip()
    if not token:
        raise RuntimeError(f"{path} is empty: delete it (a new one is made) or set the setting it stands for")
    return token


def ensure_local_key(settings: Settings) -> Settings:
    """`make run` without PII_ENCRYPTION_KEYS: the key of personal data made into ``settings.pii_key_file`` once.

    Returns the settings as read again with that key (those given when the setting was there).
    """
    if settings.pii_encryption_keys:
        return settings
    from bot.core.encryption import new_key  # cryptography: only when a key is made

    stored_token(settings.pii_key_file, new_key)
    get_settings.cache_clear()
    return get_settings()


def action_server_token(settings: Settings, token_file: Path = TOKEN_FILE) -> str:
    """The token Rasa sends the action server: ACTION_SERVER_TOKEN, else the one kept in ``token_file``."""
    return str(settings.action_server_token) or stored_token(token_file)


def local_address(host: str) -> str:
    """The address to reach a server on this machine that listens on ``host`` (URL form)."""
    address = ipaddress.ip_address(host)
    if address.is_unspecified:
        return "127.0.0.1"
    return f"[{host}]" if address.version == 6 else host


def server_environment(settings: Settings, token_file: Path = TOKEN_FILE) -> dict[str, str]:
    """The environment both servers run with: ours, what endpoints.yml reads, and Sanic's own settings.

    rasa-sdk listens on ``SANIC_HOST``; the Rasa server's Sanic app takes ``SANIC_REQUEST_MAX_SIZE``
    (the action server sets its own limit, see ``bot/actions/server.py``).
    """
    env = dict(os.environ)
    env["ACTION_SERVER_URL"] = settings.action_server_url
    env["ACTION_SERVER_TOKEN"] = action_server_token(settings, token_file)
    env["SANIC_HOST"] = settings.action_server_host
    env["SANIC_REQUEST_MAX_SIZE"] = str(settings.max_request_bytes)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def server_commands(settings: Settings, model: Path, credentials: Path) -> dict[str, list[str]]:
    """The command lines of the action server and the Rasa server (with the channels in ``credentials``)."""
    venv_bin = Path(sys.executable).parent
    logging_config = str(PROJECT_ROOT / "logging.yml")
    return {
        "actions": [
            sys.executable,
            "-m",
            "rasa_sdk",
            "--actions",
            "bot.actions",
            "--port",
            str(settings.action_server_port),
            "--logging-config_file",
            logging_config,
        ],
        "rasa": [
            str(venv_bin / "rasa"),
            "run",
            "--model",
            str(model),
            "--port",
            str(settings.rasa_port),
            "--credentials",
            str(credentials),
            "--endpoints",
            str(PROJECT_ROOT / "endpoints.yml"),
            "--logging-config-file",
            logging_config,
        ],
    }


def write_channel_credentials(settings: Settings, target: Path) -> str:
    """Have the channel registry write Rasa's credentials file; its description of the channels.

    The registry runs as its own short process, as the servers do: the domain never imports a connector.
    """
    base_url = settings.public_base_url or f"http://localhost:{settings.rasa_port}"
    command = [sys.executable, "-m", "channels.registry", str(target), base_url]
    done = subprocess.run(
        command, env=server_environment(settings), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"the channel registry failed: {done.stderr[-2000:]}")
    return done.stdout.rstrip("\n")


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Poll a health URL until it answers 200, the process dies, or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)  # polling interval of a readiness check, not a synchronisation
    return False


def run_servers() -> int:
    """Start both servers, print how to use them, and stop both on Ctrl-C."""
    settings = get_settings()
    model = PROJECT_ROOT / "models" / "current.tar.gz"
    if not model.exists():
        print("还没有模型：请先运行 make model（make run 会自动训练）。", file=sys.stderr)
        return 1
    env = server_environment(settings)
    credentials = PROJECT_ROOT / "var" / "credentials.yml"
    channels = write_channel_credentials(settings, credentials)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    # Stopped by a supervisor (SIGTERM) as by Ctrl-C: leave through `finally`, stopping both.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(0))
    try:
        for name, command in server_commands(settings, model, credentials).items():
            processes[name] = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
        checks = {
            "actions": f"http://{local_address(settings.action_server_host)}:{settings.action_server_port}/health",
            "rasa": f"http://localhost:{settings.rasa_port}/webhooks/rest/",
        }
        for name, url in checks.items():
            if not wait_until_up(url, processes[name], STARTUP_TIMEOUT_S):
                print(f"{name} 服务器没有启动成功，请查看上面的日志。", file=sys.stderr)
                return 1
        local = f"http://localhost:{settings.rasa_port}"
        print(
            "\n12345 热线助手已启动。\n"
            f"  先试试网页聊天：在浏览器打开 {local}/chat\n"
            "渠道：\n"
            f"{channels}\n"
            f"  终端对话：另开一个终端运行 make chat\n"
            f"  REST：curl -s localhost:{settings.rasa_port}/webhooks/rest/webhook "
            '-H \'Content-Type: application/json\' -d \'{"sender":"demo","message":"办护照要带什么"}\'\n'
            "  查进度：说“查办件进度”，再说 make run 开头列出的演示办件编号，手机后四位 8000\n"
            "  按 Ctrl-C 停止。\n",
            flush=True,
        )
        os.wait()  # returns when either server exits: then stop the other one too
        print("一个服务器已退出，正在停止另一个。", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
