"""Turning a service's situation into answers every channel can show or speak."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.models import Service, Situation

# How many material names the spoken summary reads out before "等".
SPOKEN_MATERIALS = 3


@dataclass(frozen=True)
class Answer:
    """A complete text, a short spoken form, and structured data for rich channels."""

    text: str
    short: str
    data: dict[str, Any] = field(default_factory=dict)


def title(service: Service, situation: Situation) -> str:
    """``普通护照签发（首次申领）``, or the bare name when there is one situation."""
    if len(service.situations) > 1:
        return f"{service.name}（{situation.name}）"
    return service.name


def material_line(material: dict[str, Any]) -> str:
    """``居民身份证 原件1份（在有效期内）``."""
    form = material.get("form") or ""
    copies = material.get("copies") or 1
    line = material["name"]
    if form:
        line += f" {form}{copies}份"
    elif copies > 1:
        line += f" {copies}份"
    if material.get("notes"):
        line += f"（{material['notes']}）"
    return line


def office_line(office: dict[str, str]) -> str:
    """One office with address, hours and phone, as far as they are known."""
    parts = [office["name"]]
    for label, key in (("地址", "address"), ("时间", "hours"), ("电话", "phone")):
        if office.get(key):
            parts.append(f"{label}：{office[key]}")
    return "，".join(parts)


def terms_line(service: Service, situation: Situation) -> str:
    """Fee, time limit, visits and whether it can be done fully online."""
    terms = []
    if situation.fee:
        terms.append(f"费用：{situation.fee}")
    if situation.time_limit_days is not None:
        terms.append(f"承诺时限：{_time_limit(situation)}")
    if situation.fully_online:
        terms.append("可全程网办，不用跑腿")
    elif situation.visits is not None:
        terms.append(f"最多跑{situation.visits}次")
    return "；".join(terms)


def _online_sentence(service: Service, situation: Situation) -> str:
    if situation.fully_online and service.online_channel:
        return f"可以在{service.online_channel}全程网上办理。"
    if service.online_channel:
        return f"可以先在{service.online_channel}预约或预审。"
    return ""


def materials_answer(service: Service, situation: Situation) -> Answer:
    """The material list of one situation, with where to go and the terms."""
    heading = title(service, situation)
    materials = situation.materials
    lines = [f"【{heading}】"]
    if materials:
        lines.append(f"需要准备以下{len(materials)}项材料：")
        lines += [f"{n}. {material_line(m)}" for n, m in enumerate(materials, start=1)]
    else:
        lines.append("该事项未公布材料清单，请按下方电话先咨询办理部门。")
    if situation.conditions:
        lines.append("办理条件：" + "；".join(situation.conditions))
    if situation.offices:
        lines.append("办理地点：" + "；".join(office_line(o) for o in situation.offices))
    terms = terms_line(service, situation)
    if terms:
        lines.append(terms)
    online = _online_sentence(service, situation)
    if online:
        lines.append(online)
    names = [m["name"] for m in materials[:SPOKEN_MATERIALS]]
    if materials:
        more = "等" if len(materials) > SPOKEN_MATERIALS else ""
        doing = heading if "办理" in heading else f"办理{heading}"  # not "办理预防接种证办理"
        short = f"{doing}，需要{len(materials)}样材料：{'、'.join(names)}{more}。"
    else:
        short = f"{heading}没有公布材料清单，建议先打电话咨询办理部门。"
    short += online or "需要到办事大厅现场办理。"
    return Answer(
        text="\n".join(lines),
        short=short,
        data={
            "kind": "materials",
            "service_id": service.id,
            "service": service.name,
            "situation": situation.name,
            "materials": [dict(m) for m in materials],
            "offices": [dict(o) for o in situation.offices],
            "fee": situation.fee,
            "time_limit_days": situation.time_limit_days,
            "fully_online": situation.fully_online,
            "visits": situation.visits,
            "online_channel": service.online_channel,
        },
    )


def office_answer(service: Service, situation: Situation) -> Answer:
    """Where and when a service is handled, and which number to call."""
    heading = title(service, situation)
    lines = [f"【{heading}】办理地点："]
    lines += [f"{n}. {office_line(o)}" for n, o in enumerate(situation.offices, start=1)]
    online = _online_sentence(service, situation)
    if online:
        lines.append(online)
    first = situation.offices[0] if situation.offices else None
    if first is not None:
        short = f"{heading}可以到{first['name']}办理"
        short += f"，地址是{first['address']}" if first.get("address") else ""
        short += f"，办公时间{first['hours']}" if first.get("hours") else ""
        short += "。"
    else:
        short = f"{heading}暂无办理地点信息。"
    return Answer(
        text="\n".join(lines),
        short=short + online,
        data={"kind": "office", "service_id": service.id, "offices": [dict(o) for o in situation.offices]},
    )


def _time_limit(situation: Situation) -> str:
    """The promised time as said (当场办结, 7个工作日), or "" when the catalogue gives none."""
    if situation.time_limit_days is None:
        return ""
    return "当场办结" if situation.time_limit_days == 0 else f"{situation.time_limit_days}个工作日"


def time_answer(service: Service, situation: Situation) -> Answer:
    """How long a service takes (承诺时限), or where to ask when the catalogue gives no time."""
    heading = title(service, situation)
    limit = _time_limit(situation)
    if limit:
        text = f"【{heading}】承诺时限：{limit}，从受理之日算起；具体以办理部门的通知为准。"
    else:
        phones = [o["phone"] for o in situation.offices if o.get("phone")]
        ask = f"，可以打电话问办理部门：{phones[0]}" if phones else "，具体请问办理部门"
        text = f"【{heading}】没有公布承诺时限{ask}。"
    return Answer(text=text, short=text, data={"kind": "time_limit", "service_id": service.id})


def proxy_answer(service: Service, situation: Situation) -> Answer:
    """Whether someone else may go for the citizen, in the entry's own words: its conditions about the applicant in
    person (本人) and the materials for a proxy (委托, 代办, 代理); where to ask when it says nothing of either."""
    heading = title(service, situation)
    said = [c for c in situation.conditions if _IN_PERSON.search(c)]
    said += [material_line(m) for m in situation.materials if _IN_PERSON.search(f"{m['name']}{m.get('notes', '')}")]
    if said:
        text = f"【{heading}】关于本人办理和代办，办事指南写明：\n" + "\n".join(
            f"{n}. {line}" for n, line in enumerate(said, 1)
        )
    else:
        phones = [o["phone"] for o in situation.offices if o.get("phone")]
        ask = f"请打电话问办理部门：{phones[0]}" if phones else "请问办理部门"
        text = f"【{heading}】办事指南没有写能不能代办，{ask}。"
    return Answer(text=text, short=text.split("\n")[0], data={"kind": "proxy", "service_id": service.id})


# Words of a condition or a material about the applicant in person or a proxy.
_IN_PERSON = re.compile(r"本人|委托|代办|代理|代领|授权")


def conditions_answer(service: Service, situation: Situation) -> Answer:
    """The conditions (受理条件) of a service, for policy questions."""
    heading = title(service, situation)
    if situation.conditions:
        text = f"【{heading}】办理条件：\n" + "\n".join(
            f"{n}. {c}" for n, c in enumerate(situation.conditions, start=1)
        )
    else:
        text = f"【{heading}】没有公布具体的办理条件。"
    return Answer(text=text, short=text.split("\n")[0], data={"kind": "conditions", "service_id": service.id})
