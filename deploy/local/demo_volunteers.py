"""The demo's volunteers, teams, service hours, points and love-supermarket goods
(deploy/demo/volunteers.json), put in through the volunteers service's RPC API like any
county administrator's, so that every rule applies and every event goes out.

Hours come as the activities service will send them: `attendance.confirmed` events on
`activities.events`, one per volunteer and activity, which the volunteers service credits
once (hours and points). Until the activities service exists, the demo is their only source.

Made-up people: names from common surnames and given names, ID numbers valid in form
(region of the site's county, a birth date, a serial, the GB 11643 check character),
mobile numbers of no one. Safe to repeat: a site that has volunteers is left alone.
"""

import json
from datetime import date, timedelta
from pathlib import Path

from kombu import Connection, Exchange, Producer

from services.chassis.events import SERIALIZER, make_event
from services.volunteers.contract.hours import ACTIVITIES, ATTENDANCE_CONFIRMED
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from services.volunteers.id_card import check_character

DEMO_FILE = Path(__file__).resolve().parents[1] / "demo" / "volunteers.json"
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤"
)
GIVEN_NAMES = (
    *("建国", "秀英", "丽娟", "志强", "海燕", "晓东", "春梅", "国平", "玉兰", "文杰", "红霞", "俊峰", "桂芳"),
    *("永刚", "慧敏", "宏伟", "淑珍", "明辉", "雪梅", "立新", "晓燕", "卫东", "凤英", "鹏飞", "丽华", "军"),
    *("敏", "静", "磊", "婷", "浩然", "欣怡", "子涵", "雨萱", "梓轩", "思远", "佳琪", "一鸣", "家豪", "雅婷"),
)
# what members of a team of each kind typically serve and can do
KIND_PLATFORMS = {
    "lecture": ["theory"],
    "arts": ["culture"],
    "teaching": ["education"],
    "health": ["health"],
    "science": ["science"],
    "legal": ["theory", "education"],
    "environment": ["health"],
    "civilized_tourism": ["culture"],
    "local": ["education", "health"],
}
KIND_SKILLS = {
    "lecture": ["理论宣讲"],
    "arts": ["唱歌", "舞蹈"],
    "teaching": ["辅导作业"],
    "health": ["急救", "健身指导"],
    "science": ["科普讲解"],
    "legal": ["法律咨询"],
    "environment": ["环境整治"],
    "civilized_tourism": ["景区讲解", "文明引导"],
    "local": ["走访慰问"],
}
TIMES = (["weekend"], ["weekday_evening", "weekend"], ["holiday"], ["flexible"])
ACTIVITY_TITLES = ("政策宣讲进社区", "假日公益课堂", "文明交通劝导", "环境卫生大扫除", "义诊进村", "景区文明导览")


def load_demo(path=DEMO_FILE):
    with open(path, encoding="utf-8") as demo_file:
        return json.load(demo_file)["sites"]


def person(site_index, index, region):
    """The made-up registration data of the `index`-th volunteer of a site."""
    born = date(1962, 1, 1) + timedelta(days=(index * 97 + site_index * 13) % 15_000)
    body = f"{region}{born:%Y%m%d}{index % 1000:03d}"
    surname = SURNAMES[(index * 7 + site_index) % len(SURNAMES)]
    return {
        "name": surname + GIVEN_NAMES[(index * 11 + site_index) % len(GIVEN_NAMES)],
        "id_number": body + check_character(body),
        "phone": f"139{site_index}{index:07d}",
        "available_times": TIMES[index % len(TIMES)],
        "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION},
    }


def seed_volunteers(client, amqp_uri, actor, sites=None):
    """Create what is missing of the demo's volunteers; returns how many it registered."""
    registered = 0
    for site_index, site in enumerate(sites or load_demo(), start=1):
        (center,) = client.centers.list_centers({"code": site["center"]})["items"]
        if client.volunteers.list_volunteers({"within": center["id"]}, actor)["total"]:
            continue  # seeded before
        registered += _seed_site(client, amqp_uri, actor, site_index, site, center)
    return registered


def _seed_site(client, amqp_uri, actor, site_index, site, center):
    teams = site["teams"]
    members = {index: [] for index in range(len(teams))}
    for index in range(site["volunteers"]):
        team_index = index % len(teams)
        kind = teams[team_index]["kind"]
        data = {
            **person(site_index, index, site["region"]),
            "skills": KIND_SKILLS[kind],
            "service_categories": KIND_PLATFORMS[kind],
            "home_station_id": center["id"],
        }
        members[team_index].append(client.volunteers.register(data, actor)["id"])
    attendances = []
    for team_index, team in enumerate(teams):
        leader, *others = members[team_index]
        fields = {key: team[key] for key in ("name", "kind", "local_kind_name", "description") if key in team}
        fields.update(center_id=center["id"], leader_volunteer_id=leader)
        created = client.volunteers.create_team(fields, actor)
        for volunteer_id in others:
            client.volunteers.add_team_member(created["id"], {"volunteer_id": volunteer_id}, actor)
        attendances += _served(site_index, center["id"], created["id"], [leader, *others])
    for goods in site.get("goods", []):
        client.volunteers.add_goods(center["id"], goods, actor)
    _publish(amqp_uri, attendances)
    return site["volunteers"]


def _served(site_index, center_id, team_id, volunteer_ids):
    """The attendances of a team's members in 2026: the leader and a few regulars often
    (enough for stars), the others now and then."""
    for position, volunteer_id in enumerate(volunteer_ids):
        times = 45 if position == 0 else 12 if position % 5 == 1 else 2 + position % 4
        for occasion in range(times):
            attendance_id = (site_index * 1000 + team_id) * 100_000 + position * 100 + occasion
            yield {
                "attendance_id": attendance_id,
                "revision": 1,
                "activity_id": site_index * 10_000 + team_id * 100 + occasion,
                "activity_title": ACTIVITY_TITLES[(team_id + occasion) % len(ACTIVITY_TITLES)],
                "organizer_center_id": center_id,
                "team_id": team_id,
                "volunteer_id": volunteer_id,
                "served_on": (date(2026, 1, 4) + timedelta(days=7 * (occasion % 46))).isoformat(),
                "hours": 2.5 if occasion % 3 else 3,
                "points_rule": {"kind": "per_hour", "rate": 10 if site_index == 3 else 1},
                "confirmed_at": "2026-11-20T10:00:00Z",
            }


def _publish(amqp_uri, attendances):
    exchange = Exchange(f"{ACTIVITIES}.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.default_channel, serializer=SERIALIZER)
        for data in attendances:
            event = make_event(ACTIVITIES, ATTENDANCE_CONFIRMED, str(data["attendance_id"]), data)
            producer.publish(
                event, exchange=exchange, routing_key=ATTENDANCE_CONFIRMED, declare=[exchange], message_id=event["id"]
            )
