"""Points and love supermarkets (爱心超市) at the edge: balances and their history, each
center's catalogue of goods, redemptions and their cancellation. The volunteers service
decides every scope (a volunteer's own account, the admins of a volunteer's home station or
of the goods' center); the gateway checks only that admin-only routes are called by admins."""

from services.chassis.actors import ADMIN_ROLES
from services.volunteers.contract.points import (
    CancellationSchema,
    GoodsCreateSchema,
    GoodsListQuerySchema,
    GoodsPageSchema,
    GoodsSchema,
    GoodsUpdateSchema,
    PointsAccountSchema,
    PointsQuerySchema,
    RedeemSchema,
    RedemptionListQuerySchema,
    RedemptionPageSchema,
    RedemptionSchema,
    StockChangeSchema,
)
from services.volunteers.contract.registration import SELF_ROLES

from ..auth import Authenticated, Roles
from ..routing import Reply, RouteTable
from .centers import expected_version

CENTER = "/api/v1/centers/<int:center_id>"
GOODS = "/api/v1/goods"
ONE_GOODS = GOODS + "/<int:goods_id>"
SIGNED_IN, ADMINS, REDEEMERS = Authenticated(), Roles(*ADMIN_ROLES), Roles(*SELF_ROLES, *ADMIN_ROLES)

routes = RouteTable(tag="points", calls=("volunteers",))


# -- accounts --------------------------------------------------------------------------------


@routes.route(
    "GET",
    "/api/v1/me/points",
    auth=Roles(*SELF_ROLES),
    summary="My points: balance and history, newest first (volunteers)",
    query=PointsQuerySchema(),
    response=PointsAccountSchema(),
)
async def points_get_mine(edge, call):
    return await edge.rpc("volunteers").get_my_points(call.principal.as_payload(), call.query)


@routes.route(
    "GET",
    "/api/v1/volunteers/<int:volunteer_id>/points",
    auth=SIGNED_IN,
    summary="A volunteer's points (the volunteer, or admins of their home station's scope)",
    query=PointsQuerySchema(),
    response=PointsAccountSchema(),
)
async def points_get_volunteer(edge, call, volunteer_id):
    return await edge.rpc("volunteers").get_volunteer_points(volunteer_id, call.principal.as_payload(), call.query)


# -- goods -----------------------------------------------------------------------------------


@routes.route(
    "GET",
    CENTER + "/goods",
    auth=SIGNED_IN,
    tag="goods",
    summary="A center's love supermarket catalogue",
    query=GoodsListQuerySchema(),
    response=GoodsPageSchema(),
)
async def points_list_goods(edge, call, center_id):
    return await edge.rpc("volunteers").list_goods(center_id, call.query)


@routes.route(
    "POST",
    CENTER + "/goods",
    auth=ADMINS,
    tag="goods",
    summary="Put goods on a center's shelf (admins of its scope)",
    body=GoodsCreateSchema(),
    response=GoodsSchema(),
    status=201,
    errors=(409,),
    response_headers=("ETag", "Location"),
)
async def points_add_goods(edge, call, center_id):
    goods = await edge.rpc("volunteers").add_goods(center_id, call.payload, call.principal.as_payload())
    return _goods_reply(goods, status=201)


@routes.route(
    "GET",
    ONE_GOODS,
    auth=SIGNED_IN,
    tag="goods",
    summary="One item",
    response=GoodsSchema(),
    response_headers=("ETag",),
)
async def points_get_goods(edge, call, goods_id):
    return _goods_reply(await edge.rpc("volunteers").get_goods(goods_id))


@routes.route(
    "PATCH",
    ONE_GOODS,
    auth=ADMINS,
    tag="goods",
    summary='Change, withdraw or put back an item; If-Match: "<version>" guards it',
    body=GoodsUpdateSchema(),
    response=GoodsSchema(),
    errors=(400, 409),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def points_update_goods(edge, call, goods_id):
    expected = expected_version(call.headers.get("If-Match"))
    goods = await edge.rpc("volunteers").update_goods(goods_id, call.payload, call.principal.as_payload(), expected)
    return _goods_reply(goods)


@routes.route(
    "POST",
    ONE_GOODS + "/stock",
    auth=ADMINS,
    tag="goods",
    summary="Restock an item, or remove items (negative delta)",
    body=StockChangeSchema(),
    response=GoodsSchema(),
    errors=(409,),
    response_headers=("ETag",),
)
async def points_change_stock(edge, call, goods_id):
    return _goods_reply(await edge.rpc("volunteers").change_stock(goods_id, call.payload, call.principal.as_payload()))


# -- redemptions -----------------------------------------------------------------------------


@routes.route(
    "POST",
    ONE_GOODS + "/redeem",
    auth=REDEEMERS,
    tag="goods",
    summary="Spend points on an item (a volunteer; an admin of the item's center for `volunteer_id`)",
    body=RedeemSchema(),
    response=RedemptionSchema(),
    status=201,
    errors=(409,),
)
async def points_redeem(edge, call, goods_id):
    redemption = await edge.rpc("volunteers").redeem(goods_id, call.payload, call.principal.as_payload())
    return Reply(201, redemption)


@routes.route(
    "GET",
    CENTER + "/redemptions",
    auth=ADMINS,
    tag="goods",
    summary="A center's redemptions, newest first (admins of its scope)",
    query=RedemptionListQuerySchema(),
    response=RedemptionPageSchema(),
)
async def points_list_redemptions(edge, call, center_id):
    return await edge.rpc("volunteers").list_redemptions(center_id, call.principal.as_payload(), call.query)


@routes.route(
    "POST",
    "/api/v1/redemptions/<int:redemption_id>/cancellation",
    auth=ADMINS,
    tag="goods",
    summary="Cancel a redemption: points and items go back (admins of its center's scope)",
    body=CancellationSchema(),
    response=RedemptionSchema(),
    errors=(409,),
)
async def points_cancel_redemption(edge, call, redemption_id):
    return await edge.rpc("volunteers").cancel_redemption(redemption_id, call.payload, call.principal.as_payload())


def _goods_reply(goods, status=200):
    headers = {"ETag": f'"{goods["version"]}"'}
    if status == 201:
        headers["Location"] = f"{GOODS}/{goods['id']}"
    return Reply(status, goods, headers)
