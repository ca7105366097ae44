"""The document every baseline answers with, shared by the nameko baselines
(bench/baselines.py) and the ASGI ones (bench/asgi_baselines.py); it imports nothing, so
the ASGI processes load no eventlet."""


def small_center(center_id):
    return {
        "id": center_id,
        "code": "JZ-XY-CSQ",
        "name": "昔阳县城社区新时代文明实践所",
        "level": "institute",
        "parent_id": 1,
        "status": "active",
        "version": 1,
    }
