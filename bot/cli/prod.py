"""``make run-prod``: several Rasa instances and an action server behind nginx, on PostgreSQL and Redis.

The production topology on one machine, in the foreground: the database is created if it is not
there and upgraded to the newest schema, the catalogue is imported, then the action server, the Rasa
instances (ports ``RASA_PORT``, ``RASA_PORT + 1``, …) and Debian's nginx (``deploy/nginx/``) start;
every line they print is shown with its server's name. Ctrl-C or SIGTERM stops nginx first, then the
Rasa instances, then the action server; if any of them exits, the others are stopped too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.cli.serve import (
    STARTUP_TIMEOUT_S,
    local_address,
    server_commands,
    server_environment,
    wait_until_up,
    write_channel_credentials,
)
from bot.core.settings import PROJECT_ROOT, Settings, get_settings

NGINX = Path("/usr/sbin/nginx")
LOCATIONS = PROJECT_ROOT / "deploy" / "nginx" / "hotline-locations.conf"
RUN_DIR = PROJECT_ROOT / "var" / "run-prod"
# How long one server may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT_S = 20.0
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")


class ProdRefused(RuntimeError):
    """The settings or the machine do not allow the production topology (the message says what to do)."""


def check_settings(settings: Settings) -> None:
    """Refuse the embedded defaults: the instances must share PostgreSQL and Redis.

    Raises:
        ProdRefused: DATABASE_URL is not PostgreSQL, or REDIS_URL is not set.
    """
    if not settings.database_url.startswith("postgresql"):
        raise ProdRefused("run-prod 需要 PostgreSQL：请设置 DATABASE_URL=postgresql://…（make run-prod 默认用本机的）")
    if not settings.tracker_store_url.startswith("postgresql"):
        raise ProdRefused("run-prod 需要 PostgreSQL 上的对话存储：TRACKER_STORE_URL 应为 postgresql://…")
    if not settings.uses_redis:
        raise ProdRefused("run-prod 需要 Redis：请设置 REDIS_URL=redis://…（make run-prod 默认用本机的）")
    if not NGINX.exists():
        raise ProdRefused(f"没有找到 {NGINX}：请先安装 nginx（make run-prod 会运行 apt-get install -y nginx）")


def rasa_ports(settings: Settings, instances: int) -> list[int]:
    """The ports of the Rasa instances: ``RASA_PORT`` and the ones after it."""
    return [settings.rasa_port + number for number in range(instances)]


async def ensure_database(url: str, timeout_s: float) -> bool:
    """Create the PostgreSQL database named in ``url`` when it does not exist; whether it was created.

    Raises:
        ProdRefused: the URL names no usable database, or the server cannot be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ProdRefused(f"DATABASE_URL 无法解析：{error}") from error
    name = parsed.database or ""
    if not _DATABASE_NAME.fullmatch(name):
        raise ProdRefused(f"数据库名应为字母、数字或下划线：{name!r}")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(admin, timeout=timeout_s)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as error:
        where = f"{parsed.host}:{parsed.port or 5432}"
        raise ProdRefused(f"无法连接 PostgreSQL（{where}）：{type(error).__name__}") from error
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name, timeout=timeout_s):
            return False
        await connection.execute(f'CREATE DATABASE "{name}"', timeout=timeout_s)
        return True
    except asyncpg.DuplicateDatabaseError:  # made by another start in between
        return False
    finally:
        await connection.close()


def nginx_config(listen_port: int, ports: list[int], run_dir: Path) -> str:
    """nginx's main file: the instances as the upstream, ``deploy/nginx/hotline-locations.conf`` as the server."""
    upstreams = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {run_dir / (kind + '-temp')};" for kind in kinds)
    return f"""# Written by python -m bot run-prod; the locations are deploy/nginx/hotline-locations.conf.
worker_processes 1;
error_log stderr warn;
pid {run_dir / "nginx.pid"};
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    server_tokens off;
{temp}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    upstream hotline_rasa {{
{upstreams}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{listen_port};
        include {LOCATIONS};
    }}
}}
"""


class Servers:
    """The started servers, each printing its lines with its name, stopped in the order they were started in reverse."""

    def __init__(self, out: IO[str]) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._out = out
        self._lock = threading.Lock()
        self._copiers: list[threading.Thread] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start one server in a session of its own (Ctrl-C reaches only the launcher, which stops it in turn)."""
        process = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        copier = threading.Thread(target=self._copy, args=(name, process), name=f"log-{name}", daemon=True)
        copier.start()
        self._copiers.append(copier)
        return process

    def _copy(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._lock:
                self._out.write(f"{name:<8}| {line.decode(errors='replace')}")
                self._out.flush()

    def stop(self) -> None:
        """SIGTERM to each running server, newest first, each waited for (killed after ``STOP_TIMEOUT_S``)."""
        for name, process in reversed(self.processes.items()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    print(f"{name} 在{STOP_TIMEOUT_S:.0f}秒内没有退出，强制结束。", file=sys.stderr)
                    process.kill()
                    process.wait()
        for copier in self._copiers:
            copier.join(timeout=5)


def _bot_command(env: dict[str, str], *args: str) -> None:
    """``python -m bot …`` as its own process, its output shown; a failure stops the start."""
    done = subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=PROJECT_ROOT, timeout=600)
    if done.returncode != 0:
        raise ProdRefused(f"python -m bot {' '.join(args)} 失败（退出码{done.returncode}）")


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM leaves like Ctrl-C does (through ``finally``), as a supervisor stops the launcher."""

    def interrupt(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_prod(instances: int, port: int) -> int:
    """Prepare the database, start everything, say where it is, and stop everything on Ctrl-C or SIGTERM."""
    settings = get_settings()
    model = PROJECT_ROOT / "models" / "current.tar.gz"
    try:
        check_settings(settings)
        if not model.exists():
            raise ProdRefused("还没有模型：请先运行 make model（make run-prod 会自动训练）。")
        ports = rasa_ports(settings, instances)
        if port in ports or port == settings.action_server_port:
            raise ProdRefused(f"nginx 的端口 {port} 与服务器端口冲突")
        if asyncio.run(ensure_database(settings.database_url, settings.outside_call_timeout_s)):
            print(f"已创建数据库 {make_url(settings.database_url).database}。", flush=True)
    except ProdRefused as refused:
        print(refused, file=sys.stderr)
        return 3
    env = server_environment(settings)
    if not os.environ.get("ACTION_SERVER_URL"):
        # By address, not `localhost`: Rasa opens a new connection for every action call, and a name
        # would be resolved each time (in a thread, about 1% of an instance's event loop under load).
        address = local_address(settings.action_server_host)
        env["ACTION_SERVER_URL"] = f"http://{address}:{settings.action_server_port}/webhook"
    RUN_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    credentials = RUN_DIR / "credentials.yml"
    servers = Servers(sys.stdout)
    with _stopped_by_sigterm():
        try:
            _bot_command(env, "db", "upgrade")
            _bot_command(env, "catalog", "import", str(settings.catalog_path))
            # Telegram's webhook (when asked to register it) and the start-up lines name nginx's address.
            channels = write_channel_credentials(dataclasses.replace(settings, rasa_port=port), credentials)
            config = RUN_DIR / "nginx.conf"
            config.write_text(nginx_config(port, ports, RUN_DIR))
            commands = server_commands(settings, model, credentials)
            checks = {
                "actions": f"http://{local_address(settings.action_server_host)}:{settings.action_server_port}/health"
            }
            servers.start("actions", commands["actions"], env)
            for number, rasa_port in enumerate(ports, 1):
                command = [str(rasa_port) if part == str(settings.rasa_port) else part for part in commands["rasa"]]
                servers.start(f"rasa{number}", command, env)
                checks[f"rasa{number}"] = f"http://127.0.0.1:{rasa_port}/webhooks/rest/"
            for name, url in checks.items():
                if not wait_until_up(url, servers.processes[name], STARTUP_TIMEOUT_S):
                    print(f"{name} 没有启动成功，请查看上面的日志。", file=sys.stderr)
                    return 1
            nginx = servers.start("nginx", [str(NGINX), "-e", "stderr", "-c", str(config), "-g", "daemon off;"], env)
            local = f"http://127.0.0.1:{port}"
            if not wait_until_up(f"{local}/webhooks/rest/", nginx, 30):
                print("nginx 没有启动成功，请查看上面的日志。", file=sys.stderr)
                return 1
            print(
                f"\n12345 热线助手（生产拓扑）已启动：nginx {local} → Rasa {', '.join(map(str, ports))}"
                f" → 动作服务器 {settings.action_server_port}；PostgreSQL 与 Redis 共享。\n"
                f"  网页聊天 {local}/chat   坐席控制台 {local}/agent\n"
                f"渠道：\n{channels}\n  按 Ctrl-C 停止。\n",
                flush=True,
            )
            pid, _ = os.wait()  # returns when any server exits: then the others are stopped too
            gone = next((name for name, p in servers.processes.items() if p.pid == pid), str(pid))
            print(f"{gone} 已退出，正在停止其他服务器。", file=sys.stderr)
            return 1
        except ProdRefused as refused:
            print(refused, file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print("正在停止：nginx、Rasa 实例、动作服务器……", file=sys.stderr, flush=True)
            return 0
        finally:
            servers.stop()
