"""The demo's activities (deploy/demo/activities.json), put in through the activities
service's RPC API like any county administrator's, so that every rule applies and every
event goes out: upcoming activities of the seed's sites, published (sign-ups open) unless
marked `draft`, and its recurring programmes (series with an iCalendar rule, their
occurrences published). Days count from the day of seeding, times are the county's
(Asia/Shanghai). Safe to repeat: a site that has activities is left alone."""

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from services.activities.contract.common import LOCAL_ZONE

DEMO_FILE = Path(__file__).resolve().parents[1] / "demo" / "activities.json"


def seed_activities(client, actor, today=None, demo_file=DEMO_FILE):
    """Create the demo's activities on sites that have none; returns how many it created."""
    today = today or date.today()
    demo = json.loads(demo_file.read_text(encoding="utf-8"))
    plan, series = demo["activities"], demo["series"]
    centers = _centers_by_code(client, {item["center"] for item in (*plan, *series)})
    busy = {code for code, center_id in centers.items() if _has_activities(client, center_id, actor)}
    created = 0
    for item in plan:
        if item["center"] in busy or item["center"] not in centers:
            continue
        activity = client.activities.create_activity(_activity(item, centers[item["center"]], today), actor)
        if item.get("status") != "draft":
            client.activities.publish_activity(activity["id"], actor)
        created += 1
    for item in series:
        if item["center"] in busy or item["center"] not in centers:
            continue
        made = client.activities.create_series(_series(item, centers[item["center"]], today), actor)
        created += client.activities.list_activities({"series_id": made["id"]}, 1, 1, actor)["total"]
    return created


def _activity(item, center_id, today):
    hour, minute = (int(part) for part in item["time"].split(":"))
    starts = datetime.combine(today + timedelta(days=item["day"]), time(hour, minute), tzinfo=LOCAL_ZONE)
    data = {
        "title": item["title"],
        "platform": item["platform"],
        "organizer_center_id": center_id,
        "place": item["place"],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=item["hours"])).isoformat(),
        "capacity": item["capacity"],
        "points_rule": {"kind": "per_hour", "rate": 1},
    }
    if "latitude" in item:
        data.update(latitude=item["latitude"], longitude=item["longitude"])
    return data


def _series(item, center_id, today):
    """A series from its demo entry: the activity's fields, less the times, plus the rule."""
    activity = _activity(item, center_id, today)
    first = activity.pop("starts_at")
    del activity["ends_at"]
    rule = {"rrule": item["rrule"], "first_starts_at": first, "duration_minutes": round(item["hours"] * 60)}
    return {**activity, **rule, "publish": True}


def _centers_by_code(client, codes):
    found = {}
    for code in codes:
        for center in client.centers.list_centers({"code": code})["items"]:
            found[code] = center["id"]
    return found


def _has_activities(client, center_id, actor):
    return client.activities.list_activities({"center_id": center_id}, 1, 1, actor)["total"] > 0
