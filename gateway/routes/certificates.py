"""Service record certificates (志愿服务记录证明) at the edge: issued for a volunteer (by the
volunteer themself or an admin of the scope), read as JSON or PDF, and verified by anyone,
without a token, by number and code or by the document itself. The volunteers service
decides scope; the gateway checks roles."""

import base64

from services.chassis.actors import ADMIN_ROLES
from services.volunteers.contract.certificates import (
    CertificateKeysSchema,
    CertificateSchema,
    CertificateSummarySchema,
    IssueSchema,
    VerificationSchema,
    VerifyCodeQuerySchema,
    VerifySchema,
)
from services.volunteers.contract.registration import SELF_ROLES

from ..auth import Public, Roles
from ..routing import Reply, RouteTable

OF_VOLUNTEER = "/api/v1/volunteers/<int:volunteer_id>/certificates"
CERTIFICATE = OF_VOLUNTEER + "/<number>"
LOCATION = "/api/v1/volunteers/{volunteer_id}/certificates/{number}"
PUBLIC = "/api/v1/certificates"
HOLDERS = Roles(*SELF_ROLES, *ADMIN_ROLES)  # the volunteer themself, admins of their scope (the service decides which)
PDF_TYPE = "application/pdf"

routes = RouteTable(tag="certificates", calls=("volunteers",))


@routes.route(
    "POST",
    OF_VOLUNTEER,
    auth=HOLDERS,
    summary="Issue a service record certificate for a period (the volunteer, or an admin of the scope)",
    body=IssueSchema(),
    response=CertificateSchema(),
    status=201,
    errors=(409,),
    response_headers=("Location",),
)
async def certificates_issue(edge, call, volunteer_id):
    document = await edge.rpc("volunteers").issue_certificate(volunteer_id, call.payload, call.principal.as_payload())
    location = LOCATION.format(volunteer_id=volunteer_id, number=document["certificate"]["number"])
    return Reply(201, document, {"Location": location})


@routes.route(
    "GET",
    OF_VOLUNTEER,
    auth=HOLDERS,
    summary="A volunteer's certificates, the newest first",
    response=CertificateSummarySchema(),
    many=True,
)
async def certificates_list(edge, call, volunteer_id):
    return await edge.rpc("volunteers").list_certificates(volunteer_id, call.principal.as_payload())


@routes.route(
    "GET",
    CERTIFICATE,
    auth=HOLDERS,
    summary="A certificate as a signed JSON document",
    response=CertificateSchema(),
)
async def certificates_get(edge, call, volunteer_id, number):
    return await edge.rpc("volunteers").get_certificate(volunteer_id, number, call.principal.as_payload())


@routes.route("GET", CERTIFICATE + "/pdf", auth=HOLDERS, summary="A certificate as a PDF (application/pdf), to print")
async def certificates_pdf(edge, call, volunteer_id, number):
    printed = await edge.rpc("volunteers").get_certificate_pdf(volunteer_id, number, call.principal.as_payload())
    disposition = f'attachment; filename="{printed["filename"]}"'
    return Reply(200, base64.b64decode(printed["content"]), {"Content-Disposition": disposition}, PDF_TYPE)


@routes.route(
    "GET",
    PUBLIC + "/<number>/verify",
    auth=Public(),
    summary="Verify a certificate by its number and the code printed on it (valid: false says why)",
    query=VerifyCodeQuerySchema(),
    response=VerificationSchema(),
)
async def certificates_verify_code(edge, call, number):
    return await edge.rpc("volunteers").verify_certificate_code(number, call.query["code"])


@routes.route(
    "POST",
    PUBLIC + "/verify",
    auth=Public(),
    summary="Verify a certificate document: its signature, then the registry (valid: false says why)",
    body=VerifySchema(),
    response=VerificationSchema(),
)
async def certificates_verify_document(edge, call):
    return await edge.rpc("volunteers").verify_certificate(call.payload)


@routes.route(
    "GET",
    PUBLIC + "/keys",
    auth=Public(),
    summary="The public keys (JWK, Ed25519) that verify certificates, the current one first",
    response=CertificateKeysSchema(),
)
async def certificates_keys(edge, call):
    return await edge.rpc("volunteers").certificate_keys()
