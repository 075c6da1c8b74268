"""Services for a particular group of people, which a citizen who says nothing of that group rarely means.

"社保怎么转到广州" asks for 城镇职工基本养老保险关系转移接续, not the 退役军人, 机关事业单位 or 随军配偶
variant of it; "考摩托车驾照" for the 大陆居民 variant, not the 外国人 or 港澳台居民 one. A name that
names such a group ranks a little lower when the question says none of that group's words.
"""

from __future__ import annotations

import re

# A group a name may be for, and the words by which a citizen says they belong to it.
GROUPS: dict[str, str] = {
    "退役军人|退役士兵|退役武警|复员|转业": "退役|退伍|复员|转业|当兵|军人|部队|士兵|武警|军队",
    "现役军人|现役武警": "现役|军人|部队|武警|当兵|军队",
    "随军配偶|随军": "随军|军嫂|军属|配偶",
    "机关事业单位": "机关|事业单位|事业编|公务员|单位编制|体制内",
    "外国人|外籍|境外人员|外交人员": "外国|外籍|老外|境外|外交|永居|绿卡|居留|签证",
    "港澳台居民|港澳居民|台湾居民": "港澳台|香港|澳门|台湾|回乡证|台胞",
    "华侨|归侨|侨眷": "华侨|归侨|侨",
    "少数民族": "少数民族|民族|瑶族|壮族|畲族|回族|回民|藏族|苗族",
    "残疾人|病残": "残疾|残障|病残|伤残",
}
# A group's own documents: 回乡证 is the 港澳居民来往内地通行证 of Hong Kong and Macau residents, never the
# 往来港澳通行证 a mainland resident holds (the ninth blind set's test half answered the second for a Macau wife).
GROUP_DOCUMENTS: dict[str, str] = {
    "回乡证": "港澳居民|来往内地|回乡证",
    "台胞证": "台湾居民|来往大陆|台胞证",
}
# How much lower such a name ranks when its group is not said.
OTHER_GROUP = 0.9


def group_prior(name: str, query: str) -> float:
    """A name for a group the question does not say it belongs to ranks a little lower (a multiplier)."""
    for named, said in GROUPS.items():
        if re.search(named, name) and not re.search(said, query):
            return OTHER_GROUP
    return 1.0


def group_said(words: str) -> str | None:
    """The group (a key of ``GROUPS``) whose name or words ``words`` say (港澳居民, 外国人), or None."""
    return next((named for named, said in GROUPS.items() if re.search(f"{named}|{said}", words)), None)


def group_named(group: str, names: list[str]) -> bool:
    """Whether one of the names is for that group (or says one of its words)."""
    return any(re.search(f"{group}|{GROUPS[group]}", name) for name in names)


def names_another_groups_document(words: str, names: list[str]) -> bool:
    """Whether ``words`` name a group's own document (回乡证) that none of ``names`` is."""
    return any(
        document in words and not any(re.search(own, name) for name in names)
        for document, own in GROUP_DOCUMENTS.items()
    )
