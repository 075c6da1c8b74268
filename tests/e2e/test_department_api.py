"""End to end: the department API on the real Rasa server, over HTTP, with real keys and databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.cases.records import find_case
from bot.core import clock
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import Case
from bot.work_orders.department_keys import add_key, revoke_key
from bot.work_orders.filing import NewOrder, file_order
from bot.work_orders.lifecycle import dispatch
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.servers import Servers, free_port, running_servers, stored_order

TIANHE = "广州市天河区住房和城乡建设局"
YUEXIU = "广州市越秀区住房和城乡建设局"
PASSPORTS = "广州市公安局出入境管理支队"
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"


@dataclass(frozen=True)
class Api:
    """The running server, its database, and the keys and orders made for the tests."""

    servers: Servers
    database_url: str
    tianhe_key: str
    yuexiu_key: str
    passports_key: str
    revoked_key: str


async def _file(database: Database, department: str, now: datetime, **fields: Any) -> str:
    """File an order the way the hotline does; it goes to ``department`` (dispatched by hand if not routed)."""
    filed = await file_order(
        database, NewOrder(department=department, sender_id="e2e-dept", channel="webchat", **fields), now
    )
    if filed.department is None:
        await dispatch(database, filed.number, department, "派单员", now)
    return filed.number


async def _keys(url: str) -> dict[str, str]:
    """The schema, and keys for three departments (and a revoked one)."""
    database = Database(url)
    try:
        await database.create_schema()
        now = clock.now()
        keys = {
            "tianhe_key": (await add_key(database, TIANHE, now)).key,
            "yuexiu_key": (await add_key(database, YUEXIU, now)).key,
            "passports_key": (await add_key(database, PASSPORTS, now)).key,
        }
        revoked = await add_key(database, TIANHE, now)
        await revoke_key(database, revoked.key_id, now)
        return {**keys, "revoked_key": revoked.key}
    finally:
        await database.close()


# The orders the tests work on, by name: (department, type, title, summary, district, address, contact phone).
# An order without a contact phone is anonymous.
ORDERS = {
    "elevator": (
        TIANHE,
        "投诉",
        "小区电梯经常停运",
        "龙口西路某小区3号楼电梯一周停了三次，老人上下楼很困难。",
        "天河区",
        "天河区龙口西路某小区3号楼",
        PHONE,
    ),
    "anonymous": (
        TIANHE,
        "举报",
        "物业私自占用消防通道停车",
        "小区物业把消防通道划成收费车位。",
        "天河区",
        "天河区天河北路某小区",
        None,
    ),
    "returned": (TIANHE, "求助", "楼道灯坏了", "楼道灯坏了一个月没人修。", "天河区", "天河区体育西路某小区", PHONE),
    "yuexiu": (
        YUEXIU,
        "投诉",
        "小区水池长期不清洗",
        "二次供水水池半年没清洗。",
        "越秀区",
        "越秀区东风中路某小区",
        PHONE,
    ),
}


async def _orders(url: str) -> dict[str, str]:
    """The orders of ``ORDERS`` (two departments), filed and dispatched as the hotline does."""
    database = Database(url)
    try:
        now = clock.now()
        property_services = ("城乡建设", "住房保障与房地产", "物业服务")
        common = {"category": property_services, "urgency": "normal", "source": "conversation"}
        numbers = {}
        for name, (department, kind, title, summary, district, address, phone) in ORDERS.items():
            report = {"type": kind, "title": title, "summary": summary, "district": district, "address": address}
            anonymous = phone is None
            numbers[name] = await _file(
                database, department, now, **report, contact_phone=phone, anonymous=anonymous, **common
            )
        return numbers
    finally:
        await database.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The servers on a fresh database (SQLite, then PostgreSQL) with department keys and orders."""
    workdir = Path(tmp_path_factory.mktemp(f"dept-{request.param}"))
    extra: dict[str, str] = {}
    url = f"sqlite:///{workdir / 'hotline.db'}"
    if request.param == "postgresql":
        url = asyncio.run(create_postgres_database())
        extra = {"DATABASE_URL": url, "TRACKER_STORE_URL": f"sqlite:///{workdir / 'trackers.db'}"}
    try:
        keys = asyncio.run(_keys(url))  # the schema too: the servers expect it when they start
        with running_servers(workdir, log_level="DEBUG", extra_env=extra) as servers:
            yield Api(servers=servers, database_url=url, **keys)
    finally:
        if request.param == "postgresql":
            asyncio.run(drop_postgres_database(url))


@pytest.fixture(scope="module")
def orders(api: Api) -> dict[str, str]:
    """Orders of two departments on the server's database, by name."""
    return asyncio.run(_orders(api.database_url))


def call(
    base_url: str,
    method: str,
    path: str,
    key: str | None = None,
    body: object = None,
    raw: bytes | None = None,
    authorization: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request to the department API; the status and the decoded JSON answer."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if authorization is not None:
        headers["Authorization"] = authorization
    data = raw if raw is not None else None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{base_url}/dept/api{urllib.parse.quote(path, safe='/?=&,')}", data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(api: Api, path: str, key: str | None = None, **options: Any) -> tuple[int, dict[str, Any]]:
    """GET as a department."""
    return call(api.servers.rasa_url, "GET", path, key, **options)


def post(api: Api, path: str, key: str | None, body: object = None, **options: Any) -> tuple[int, dict[str, Any]]:
    """POST as a department."""
    return call(api.servers.rasa_url, "POST", path, key, body, **options)


def detail(api: Api, number: str) -> Any:
    """The order as stored, read from the server's database."""
    return asyncio.run(stored_order(api.database_url, number))


# ---------------------------------------------------------------- keys


def test_a_request_without_a_key_gets_401(api: Api) -> None:
    status, answer = get(api, "/orders")
    assert status == 401
    assert "Authorization: Bearer" in answer["error"]
    for header in ("Basic dXNlcjpwYXNz", "Bearer", api.tianhe_key):
        assert get(api, "/orders", authorization=header)[0] == 401


@pytest.mark.parametrize("forged", ["x" * 43, "short", "A" * 200, "%" * 43])
def test_a_forged_key_gets_401_everywhere(api: Api, forged: str) -> None:
    number = "WO2026112800001"
    assert get(api, "/orders", forged) == (401, {"error": "部门密钥无效或已停用"})
    assert get(api, f"/orders/{number}", forged)[0] == 401
    assert post(api, f"/orders/{number}/accept", forged)[0] == 401
    assert post(api, "/cases", forged, {"number": "20261120000158"})[0] == 401


def test_a_revoked_key_gets_401_while_the_departments_other_key_works(api: Api) -> None:
    assert get(api, "/orders", api.revoked_key) == (401, {"error": "部门密钥无效或已停用"})
    assert get(api, "/orders", api.tianhe_key)[0] == 200


def test_calls_are_logged_with_the_department_and_key_id_never_the_key(api: Api) -> None:
    get(api, "/orders", api.tianhe_key)
    get(api, "/orders", api.revoked_key)
    get(api, "/orders/WO2026112800001", api.tianhe_key)
    log = api.servers.wait_for_log("rasa", "GET /dept/api/orders/WO2026112800001 -> ")  # the last call's line
    assert f"department API: {TIANHE} (key " in log
    assert "GET /dept/api/orders -> 200" in log
    assert "refused without a valid key (401)" in log
    for key in (api.tianhe_key, api.yuexiu_key, api.passports_key, api.revoked_key):
        assert key not in log
    assert PHONE not in log


# ---------------------------------------------------------------- orders


def test_a_department_lists_only_its_own_orders(api: Api, orders: dict[str, str]) -> None:
    status, answer = get(api, "/orders", api.tianhe_key)
    assert status == 200
    listed = {order["number"]: order for order in answer["orders"]}
    assert orders["yuexiu"] not in listed
    assert {orders["elevator"], orders["anonymous"]} <= set(listed)
    elevator = listed[orders["elevator"]]
    assert elevator["title"] == "小区电梯经常停运"
    assert elevator["address"] == "天河区龙口西路某小区3号楼"
    assert elevator["category"] == ["城乡建设", "住房保障与房地产", "物业服务"]
    assert elevator["contact_phone"] == "139****5678"
    assert elevator["overdue"] is False
    assert listed[orders["anonymous"]]["contact_phone"] is None
    assert PHONE not in json.dumps(answer)
    status, yuexiu = get(api, "/orders", api.yuexiu_key)
    assert [order["number"] for order in yuexiu["orders"]] == [orders["yuexiu"]]
    assert get(api, "/orders", api.passports_key) == (200, {"orders": []})


def test_orders_are_filtered_by_state(api: Api, orders: dict[str, str]) -> None:
    status, answer = get(api, "/orders?state=已办结", api.yuexiu_key)
    assert (status, answer) == (200, {"orders": []})
    status, answer = get(api, "/orders?state=已派单,办理中,督办", api.yuexiu_key)
    assert [order["number"] for order in answer["orders"]] == [orders["yuexiu"]]
    status, answer = get(api, "/orders?state=处理中", api.yuexiu_key)
    assert status == 400 and "未知的状态：处理中" in answer["error"]


def test_the_detail_gives_the_phone_unless_anonymous(api: Api, orders: dict[str, str]) -> None:
    status, answer = get(api, f"/orders/{orders['elevator']}", api.tianhe_key)
    assert status == 200
    assert answer["contact_phone"] == PHONE
    assert answer["summary"].startswith("龙口西路某小区3号楼电梯")
    assert [event["to_state"] for event in answer["events"]][-1] == "已派单"
    status, anonymous = get(api, f"/orders/{orders['anonymous']}", api.tianhe_key)
    assert status == 200 and anonymous["contact_phone"] is None and anonymous["anonymous"] is True


def test_another_departments_order_looks_like_no_order(api: Api, orders: dict[str, str]) -> None:
    theirs = orders["yuexiu"]
    unknown = get(api, "/orders/WO2099010199999", api.tianhe_key)
    assert unknown[0] == 404
    assert get(api, f"/orders/{theirs}", api.tianhe_key) == unknown
    assert get(api, "/orders/not-a-number", api.tianhe_key) == unknown
    for step, body in [
        ("accept", None),
        ("progress", {"text": "已处理"}),
        ("close", {"reply": "已处理完毕"}),
        ("return", {"reason": "不归我们管"}),
        ("extend", {"reason": "需要协调", "days": 3}),
    ]:
        assert post(api, f"/orders/{theirs}/{step}", api.tianhe_key, body) == unknown
    untouched = detail(api, theirs)
    assert (untouched.state, untouched.department, untouched.notes) == ("已派单", YUEXIU, ())


def test_accept_progress_extend_and_close_an_order(api: Api, orders: dict[str, str]) -> None:
    number = orders["elevator"]
    status, accepted = post(api, f"/orders/{number}/accept", api.tianhe_key)
    assert (status, accepted["state"]) == (200, "办理中")
    assert accepted["events"][-1]["actor"].startswith(f"{TIANHE}（接口密钥")
    status, again = post(api, f"/orders/{number}/accept", api.tianhe_key)
    assert status == 409 and again["error"]
    status, noted = post(api, f"/orders/{number}/progress", api.tianhe_key, {"text": "已约物业周五检修电梯"})
    assert status == 200
    assert noted["notes"][-1]["text"] == "已约物业周五检修电梯"
    before = datetime.fromisoformat(noted["due_at"])
    status, extended = post(
        api, f"/orders/{number}/extend", api.tianhe_key, {"reason": "需更换主板，等配件", "days": 5}
    )
    assert status == 200
    assert extended["state"] == "延期"
    assert datetime.fromisoformat(extended["due_at"]) >= before + timedelta(days=5)
    status, closed = post(api, f"/orders/{number}/close", api.tianhe_key, {"reply": "电梯已更换主板，恢复运行。"})
    assert (status, closed["state"], closed["reply"]) == (200, "已办结", "电梯已更换主板，恢复运行。")
    status, late = post(api, f"/orders/{number}/progress", api.tianhe_key, {"text": "补充说明"})
    assert status == 409 and late["error"]
    stored = detail(api, number)
    assert stored.state == "已办结"
    assert [event.to_state for event in stored.events][-3:] == ["办理中", "延期", "已办结"]


def test_return_sends_the_order_back_to_the_dispatcher(api: Api, orders: dict[str, str]) -> None:
    number = orders["returned"]
    status, answer = post(api, f"/orders/{number}/return", api.tianhe_key, {"reason": "路灯归城管局管理，请改派"})
    assert status == 200 and answer["state"] == "退单"
    stored = detail(api, number)
    assert stored.events[-1].reason == "路灯归城管局管理，请改派"
    # Back in the dispatcher queue: no longer the department's order.
    assert get(api, f"/orders/{number}", api.tianhe_key)[0] == 404
    assert number not in {o["number"] for o in get(api, "/orders", api.tianhe_key)[1]["orders"]}


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("progress", {}, "text"),
        ("progress", {"text": "   "}, "text"),
        ("progress", {"text": 5}, "text"),
        ("close", {"answer": "好了"}, "reply"),
        ("return", {"reason": ""}, "reason"),
        ("extend", {"reason": "等配件"}, "days"),
        ("extend", {"reason": "等配件", "days": 0}, "days"),
        ("extend", {"reason": "等配件", "days": "3"}, "days"),
        ("extend", {"days": 3}, "reason"),
        ("progress", {"text": "字" * 2001}, "text"),
    ],
)
def test_a_wrong_body_gets_400_saying_what_is_wrong(
    api: Api, orders: dict[str, str], step: str, body: object, field: str
) -> None:
    number = orders["anonymous"]
    status, answer = post(api, f"/orders/{number}/{step}", api.tianhe_key, body)
    assert status == 400
    assert field in answer["error"]
    assert detail(api, number).notes == ()


def test_broken_json_and_non_objects_get_400(api: Api, orders: dict[str, str]) -> None:
    number = orders["anonymous"]
    status, answer = post(api, f"/orders/{number}/progress", api.tianhe_key, raw=b'{"text": ')
    assert (status, answer) == (400, {"error": "请求体不是有效的JSON（UTF-8编码）"})
    assert post(api, f"/orders/{number}/progress", api.tianhe_key, ["text"])[1] == {"error": "请求体应是JSON对象"}


def test_a_huge_body_gets_413_and_changes_nothing(api: Api, orders: dict[str, str]) -> None:
    number = orders["anonymous"]
    status, answer = post(api, f"/orders/{number}/progress", api.tianhe_key, {"text": "很长" * 40000})
    assert status == 413 and "请求体过大" in answer["error"]
    assert detail(api, number).notes == ()


def test_an_unknown_step_gets_404(api: Api, orders: dict[str, str]) -> None:
    status, answer = post(api, f"/orders/{orders['anonymous']}/delete", api.tianhe_key)
    assert status == 404 and "没有这个操作" in answer["error"]


# ---------------------------------------------------------------- cases


CASE: dict[str, Any] = {
    "number": "20261201000321",
    "service_name": "普通护照签发（换发）",
    "promised_date": "2026-12-20",
    "applicant_phone": PHONE,
    "applicant_id": ID_NUMBER,
    "events": [{"status": "受理", "at": "2026-12-01T09:30:00", "note": "天河办证大厅受理"}],
}


def _case(api: Api, number: str) -> Any:
    async def read() -> Any:
        database = Database(api.database_url)
        try:
            return await find_case(database, number, date(2026, 12, 5))
        finally:
            await database.close()

    return asyncio.run(read())


def test_a_department_publishes_a_case_and_then_its_steps(api: Api) -> None:
    status, created = post(api, "/cases", api.passports_key, CASE)
    assert status == 201
    assert (created["created"], created["added"], created["status"]) == (True, 1, "受理")
    step = {"number": CASE["number"], "events": [{"status": "审查", "at": "2026-12-02T10:00:00", "note": "材料齐全"}]}
    status, updated = post(api, "/cases", api.passports_key, step)
    assert status == 200
    assert (updated["created"], updated["added"], updated["status"]) == (False, 1, "审查")
    assert post(api, "/cases", api.passports_key, step)[1]["added"] == 0  # sent twice: stored once
    view = _case(api, CASE["number"])  # what the progress lookup of the bot reads
    assert view.department == PASSPORTS
    assert view.status == "审查"
    assert view.timeline[-1] == ("审查", china(2026, 12, 2, 10, 0), "材料齐全")


def test_a_published_case_keeps_only_digests_of_the_applicant(api: Api) -> None:
    number = "20261201000322"
    assert post(api, "/cases", api.passports_key, {**CASE, "number": number})[0] == 201

    async def stored_values() -> str:
        database = Database(api.database_url)
        try:
            async with database.session() as session:
                case = await session.get(Case, number)
                assert case is not None
                return json.dumps({c.name: str(getattr(case, c.name)) for c in Case.__table__.columns})
        finally:
            await database.close()

    values = asyncio.run(stored_values())
    assert PHONE not in values and ID_NUMBER not in values and PHONE[-4:] not in values


def test_a_department_cannot_publish_for_another(api: Api) -> None:
    status, answer = post(api, "/cases", api.tianhe_key, {**CASE, "number": "20261201000400", "department": PASSPORTS})
    assert status == 403 and "本部门" in answer["error"]
    assert _case(api, "20261201000400") is None
    post(api, "/cases", api.passports_key, {**CASE, "number": "20261201000401"})
    step = {"number": "20261201000401", "events": [{"status": "审查", "at": "2026-12-02T10:00:00"}]}
    status, answer = post(api, "/cases", api.tianhe_key, step)
    assert status == 403
    assert _case(api, "20261201000401").status == "受理"


@pytest.mark.parametrize(
    ("body", "detail_text"),
    [
        ({**CASE, "number": "2026"}, "number must be 14 digits"),
        ({**CASE, "number": "20261201000500", "applicant_phone": "12345"}, "applicant_phone"),
        ({**CASE, "number": "20261201000501", "applicant_id": "110105194912310021"}, "applicant_id is invalid"),
        ({**CASE, "number": "20261201000502", "promised_date": "下个月"}, "promised_date"),
        ({**CASE, "number": "20261201000503", "events": [{"status": "审查", "at": "2026-12-01T09:00:00"}]}, "受理"),
    ],
)
def test_a_wrong_case_gets_400_with_the_importers_reasons(api: Api, body: dict[str, Any], detail_text: str) -> None:
    status, answer = post(api, "/cases", api.passports_key, body)
    assert status == 400
    assert answer["error"] == "办件数据有误，未作任何保存"
    assert any(detail_text in line for line in answer["details"])
    assert _case(api, str(body["number"])) is None


def test_a_step_that_goes_back_in_time_is_refused(api: Api) -> None:
    number = "20261201000600"
    assert post(api, "/cases", api.passports_key, {**CASE, "number": number})[0] == 201
    back = {"number": number, "events": [{"status": "审查", "at": "2026-11-30T10:00:00"}]}
    status, answer = post(api, "/cases", api.passports_key, back)
    assert status == 400 and any("backwards" in line for line in answer["details"])
    assert post(api, "/cases", api.passports_key, {"number": number})[0] == 400  # no events
    assert _case(api, number).status == "受理"


# ---------------------------------------------------------------- database down


class Cable:
    """A TCP forwarder to PostgreSQL that the test can unplug (connections cut, port closed) and plug back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def plug(self) -> None:
        """Listen on ``port`` and forward every connection."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        """Close the port and cut every connection at once."""
        with self._lock:
            doomed, self._sockets = [*self._sockets, *filter(None, [self._listener])], []
            self._listener = None
        for sock in doomed:
            with contextlib.suppress(OSError):  # already closed by its peer
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # unplugged
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass  # the cable was unplugged
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):  # already shut
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class Unpluggable:
    """Servers whose PostgreSQL database goes through a cable, and a key of that database."""

    servers: Servers
    cable: Cable
    key: str


@pytest.fixture(scope="module")
def unpluggable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unpluggable]:
    """The servers on a PostgreSQL database reached through a cable the test can unplug."""
    workdir = Path(tmp_path_factory.mktemp("dept-cable"))
    direct = asyncio.run(create_postgres_database())
    cable = Cable(int(make_url(direct).port or 5432))
    cable.plug()
    through_cable = str(make_url(direct).set(port=cable.port))
    try:
        key = asyncio.run(_keys(direct))["tianhe_key"]
        extra = {"DATABASE_URL": through_cable, "TRACKER_STORE_URL": f"sqlite:///{workdir / 'trackers.db'}"}
        with running_servers(workdir, extra_env=extra) as servers:
            yield Unpluggable(servers, cable, key)
    finally:
        cable.unplug()
        asyncio.run(drop_postgres_database(direct))


def test_a_database_that_is_down_gets_503_and_coming_back_answers_again(unpluggable: Unpluggable) -> None:
    url, key = unpluggable.servers.rasa_url, unpluggable.key
    assert call(url, "GET", "/orders", key) == (200, {"orders": []})
    unpluggable.cable.unplug()
    try:
        assert call(url, "GET", "/orders", key) == (503, {"error": "系统暂时无法访问数据库，请稍后重试"})
        assert call(url, "POST", "/cases", key, CASE)[0] == 503
        assert call(url, "GET", "/orders")[0] == 401  # no key: refused without asking the database
    finally:
        unpluggable.cable.plug()
    assert call(url, "GET", "/orders", key) == (200, {"orders": []})
    unpluggable.servers.wait_for_log("rasa", "department API: GET /dept/api/orders failed, the database is unavailable")
