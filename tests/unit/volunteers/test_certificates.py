"""Service record certificates, the pure parts: numbers and codes, the canonical form, Ed25519
signatures as a third party checks them, tamper detection, key rotation, and the PDF (its
text, read back with pypdf, shows the Chinese)."""

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from pypdf import PdfReader

from services.chassis.errors import Conflict, InvalidInput
from services.volunteers.certificates import domain, pdf
from services.volunteers.certificates.signing import (
    KeyConfigurationError,
    KeyRing,
    canonical,
    from_b64url,
    keyring_from_settings,
)

NAME = "欧阳晓岚"
CENTER = "南天池村新时代文明实践站"


def pem(private_key):
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_key):
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def ring(key):
    return KeyRing(key)


def entry(served_on, title, hours):
    return SimpleNamespace(served_on=served_on, activity_title=title, hours=Decimal(hours))


ENTRIES = [
    entry(date(2026, 3, 5), "学雷锋志愿服务：清扫村道", "2.50"),
    entry(date(2026, 4, 12), "关爱留守儿童·周末课堂", "3.00"),
    entry(date(2026, 5, 1), "文明旅游引导", "1.25"),
]


def issue(ring, entries=ENTRIES, number=None, **changes):
    values = {
        "number": number or domain.new_number(2026, 0x0123456789ABCDE),
        "volunteer_id": 42,
        "volunteer_number": "JZXY-2026-000123",
        "name": NAME,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 6, 30),
        "entries": entries,
        "center_id": 17,
        "center_name": CENTER,
        "issued_on": date(2026, 11, 29),
        "issued_by": "9001",
        "key_id": ring.current_key_id,
        **changes,
    }
    return domain.certificate_content(domain.Issue(**values))


@pytest.fixture(scope="module")
def content(ring):
    return issue(ring)


@pytest.fixture(scope="module")
def document(ring, content):
    return domain.document(content, ring.sign(content))


# --- numbers and codes --------------------------------------------------------------------------


def test_a_number_is_the_year_and_60_random_bits_in_groups():
    number = domain.new_number(2026, 2**60 - 1)
    assert number == "ZS-2026-ZZZZ-ZZZZ-ZZZZ"
    assert domain.new_number(2026, 0) == "ZS-2026-0000-0000-0000"
    assert domain.new_number(2026, 1) != domain.new_number(2026, 2)
    assert domain.NUMBER.fullmatch(domain.new_number(2027, 0x0123456789ABCDE))


def test_a_typed_number_is_normalized():
    assert domain.parse_number(" zs-2026-7k3m-9qxd-w2pa ") == "ZS-2026-7K3M-9QXD-W2PA"
    assert domain.parse_number("ZS-2026-7K3M-9QXD-W2PO") == "ZS-2026-7K3M-9QXD-W2P0"  # O read as zero


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        17,
        "ZS-2026-7K3M-9QXD",
        "ZS-2026-7K3M-9QXD-W2PA-0000",
        "XX-2026-7K3M-9QXD-W2PA",
        "ZS-2026-7K3M-9QXD-W2PU",  # U is not in Crockford's alphabet
    ],
)
def test_a_malformed_number_is_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as refused:
        domain.parse_number(text)
    assert refused.value.code == "certificate.number_invalid"
    assert "number" in refused.value.fields


def test_the_verification_code_is_80_bits_of_the_signature_and_forgives_typing(document):
    code = document["verification_code"]
    assert len(code) == 19 and code.count("-") == 3
    signature = document["signature"]
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    assert domain.same_code(typed, signature)
    assert domain.same_code(code.replace("-", ""), signature)
    assert not domain.same_code(code[:-1] + ("A" if code[-1] != "A" else "B"), signature)
    assert not domain.same_code("签名", signature)


# --- content and canonical form -------------------------------------------------------------------


def test_the_content_lists_every_entry_and_their_total(content, ring):
    assert content["total_hours"] == "6.75"
    assert [line["hours"] for line in content["activities"]] == ["2.50", "3.00", "1.25"]
    first = {"served_on": "2026-03-05", "activity_title": "学雷锋志愿服务：清扫村道", "hours": "2.50"}
    assert content["activities"][0] == first
    assert content["name"] == NAME
    assert content["issuing_center_name"] == CENTER
    assert content["key_id"] == ring.current_key_id
    assert content["format"] == "wenming.volunteer-service-record.v1"


def test_the_canonical_form_is_sorted_compact_utf8():
    expected = '{"a":"志愿","b":[1,{"c":"2.50","d":"时"}]}'.encode()
    assert canonical({"b": [1, {"d": "时", "c": "2.50"}], "a": "志愿"}) == expected


def test_a_period_without_confirmed_hours_gets_no_certificate(ring):
    with pytest.raises(InvalidInput) as refused:
        issue(ring, entries=[])
    assert refused.value.code == "certificate.no_hours"


def test_too_many_entries_must_be_certified_in_shorter_periods(ring):
    entries = [entry(date(2026, 1, 1), "值守", "1.00")] * (domain.MAX_ACTIVITIES + 1)
    with pytest.raises(InvalidInput) as refused:
        issue(ring, entries=entries)
    assert refused.value.code == "certificate.too_many_entries"


@pytest.mark.parametrize(
    ("start", "end", "code", "field"),
    [
        (date(2026, 6, 2), date(2026, 6, 1), "certificate.period_invalid", "period_start"),
        (date(2026, 6, 1), date(2026, 12, 1), "certificate.period_in_future", "period_end"),
    ],
)
def test_a_period_must_be_ordered_and_over(start, end, code, field):
    with pytest.raises(InvalidInput) as refused:
        domain.check_period(start, end, date(2026, 11, 29))
    assert (refused.value.code, list(refused.value.fields)) == (code, [field])


def test_a_period_ending_today_is_certifiable():
    domain.check_period(date(2026, 11, 29), date(2026, 11, 29), date(2026, 11, 29))


def test_the_date_of_issue_is_the_county_s():
    assert domain.local_date(datetime(2026, 6, 30, 17, 0, tzinfo=UTC)) == date(2026, 7, 1)


@pytest.mark.parametrize(("status", "erased"), [("deregistered", True), ("deregistered", False), ("active", True)])
def test_a_deregistered_volunteer_gets_no_certificate(status, erased):
    with pytest.raises(Conflict) as refused:
        domain.require_certifiable(status, erased)
    assert refused.value.code == "certificate.volunteer_deregistered"


def test_an_active_or_suspended_volunteer_may_be_certified():
    domain.require_certifiable("active", False)
    domain.require_certifiable("suspended", False)


# --- signatures, as a third party verifies them ------------------------------------------------


def test_a_third_party_verifies_with_the_published_jwk_alone(ring, document):
    jwk = next(key for key in ring.jwks() if key["kid"] == document["certificate"]["key_id"])
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    public_key = Ed25519PublicKey.from_public_bytes(from_b64url(jwk["x"]))
    payload = json.dumps(document["certificate"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public_key.verify(from_b64url(document["signature"]), payload.encode("utf-8"))  # raises if not
    assert len(document["signature"]) == 86 and "=" not in document["signature"]


def stored_of(document):
    return domain.Stored(document["certificate"], document["signature"])


def test_the_issued_document_verifies(ring, document):
    verdict = domain.verify_document(ring, document, stored_of(document))
    assert verdict == {"valid": True, "reason": None, "message": domain.VALID, "certificate": document["certificate"]}


def tampered(document, change):
    altered = json.loads(json.dumps(document))
    change(altered["certificate"])
    return altered


TAMPERINGS = {
    "name": lambda c: c.update(name="欧阳晓兰"),
    "total_hours": lambda c: c.update(total_hours="60.75"),
    "an entry's hours": lambda c: c["activities"][0].update(hours="25.00"),
    "an entry's title": lambda c: c["activities"][1].update(activity_title="关爱留守儿童"),
    "an entry added": lambda c: c["activities"].append(
        {"served_on": "2026-06-01", "activity_title": "值守", "hours": "1.00"}
    ),
    "an entry removed": lambda c: c["activities"].pop(),
    "period_end": lambda c: c.update(period_end="2026-12-31"),
    "issuing center": lambda c: c.update(issuing_center_name="县新时代文明实践中心"),
    "volunteer_number": lambda c: c.update(volunteer_number="JZXY-2026-000124"),
    "volunteer_id": lambda c: c.update(volunteer_id=43),
    "a field added": lambda c: c.update(remark="优秀志愿者"),
    "a field removed": lambda c: c.pop("issued_by"),
}


@pytest.mark.parametrize("what", sorted(TAMPERINGS))
def test_any_change_to_the_content_is_refused(ring, document, what):
    verdict = domain.verify_document(ring, tampered(document, TAMPERINGS[what]), stored_of(document))
    assert verdict["valid"] is False
    assert verdict["reason"] == "certificate.signature_invalid"
    assert verdict["certificate"] is None
    assert "篡改" in verdict["message"] or "改动" in verdict["message"]


def test_another_signature_or_a_wrong_code_is_refused(ring, document):
    other = issue(ring, number=domain.new_number(2026, 7))
    swapped = {**document, "signature": ring.sign(other)}
    assert domain.verify_document(ring, swapped, stored_of(document))["reason"] == "certificate.signature_invalid"
    garbage = {**document, "signature": "not*base64"}
    assert domain.verify_document(ring, garbage, stored_of(document))["reason"] == "certificate.signature_invalid"
    wrong_code = {**document, "verification_code": "AAAA-AAAA-AAAA-AAAA"}
    assert domain.verify_document(ring, wrong_code, stored_of(document))["reason"] == "certificate.code_mismatch"


def test_a_certificate_signed_by_another_key_is_refused(document):
    stranger = KeyRing(Ed25519PrivateKey.generate())
    assert domain.verify_document(stranger, document, stored_of(document))["reason"] == "certificate.unknown_key"
    content = {**document["certificate"], "key_id": stranger.current_key_id}
    forged = {"certificate": content, "signature": KeyRing(Ed25519PrivateKey.generate()).sign(content)}
    assert domain.verify_document(stranger, forged, stored_of(document))["reason"] == "certificate.signature_invalid"


@pytest.mark.parametrize("presented", [{}, {"certificate": "x", "signature": "y"}, {"certificate": {}, "signature": 5}])
def test_a_malformed_document_is_refused(ring, presented):
    assert domain.verify_document(ring, presented, None)["reason"] == "certificate.malformed"


def test_a_genuine_signature_needs_the_registry_s_record_too(ring, document):
    """A leaked key cannot mint certificates the registry never issued, nor rewrite one."""
    assert domain.verify_document(ring, document, None)["reason"] == "certificate.not_issued"
    rewritten = {**document["certificate"], "total_hours": "99.00"}
    resigned = {"certificate": rewritten, "signature": ring.sign(rewritten)}
    assert domain.verify_document(ring, resigned, stored_of(document))["reason"] == "certificate.not_matching"


def test_the_number_and_its_code_verify(ring, document):
    verdict = domain.verify_code(ring, document["verification_code"].lower(), stored_of(document))
    assert verdict["valid"] is True
    assert verdict["certificate"]["name"] == NAME


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(ring, document):
    wrong = domain.verify_code(ring, "AAAA-AAAA-AAAA-AAAA", stored_of(document))
    unknown = domain.verify_code(ring, document["verification_code"], None)
    assert wrong == unknown
    assert wrong["valid"] is False and wrong["reason"] == "certificate.not_verified"


def test_an_altered_registry_record_is_refused_by_code(ring, document):
    altered = domain.Stored({**document["certificate"], "total_hours": "99.00"}, document["signature"])
    assert domain.verify_code(ring, document["verification_code"], altered)["reason"] == "certificate.signature_invalid"


# --- keys and their rotation -----------------------------------------------------------------------


def test_after_a_rotation_old_certificates_still_verify(key, document):
    new_key = Ed25519PrivateKey.generate()
    rotated = keyring_from_settings(pem(new_key), "", public_pem(key))
    assert rotated.current_key_id != document["certificate"]["key_id"]
    assert [jwk["kid"] for jwk in rotated.jwks()][1] == document["certificate"]["key_id"]
    assert domain.verify_document(rotated, document, stored_of(document))["valid"] is True
    forgotten = keyring_from_settings(pem(new_key), "", "")
    assert domain.verify_document(forgotten, document, stored_of(document))["reason"] == "certificate.unknown_key"


def test_the_key_can_come_from_a_file(key, tmp_path):
    path = tmp_path / "certificate-key.pem"
    path.write_text(pem(key))
    assert keyring_from_settings("", str(path), "").current_key_id == KeyRing(key).current_key_id


@pytest.mark.parametrize(
    ("private", "path", "previous", "message"),
    [
        ("", "", "", "must be set"),
        ("not a key", "", "", "not a PEM private key"),
        (pem(generate_private_key(SECP256R1())), "", "", "must be an Ed25519 key"),
        ("", "/nonexistent/key.pem", "", "cannot read"),
        (None, "", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "malformed public key"),
        (None, "", "junk", "holds no PEM public key"),
        (None, "", public_pem(generate_private_key(SECP256R1())), "Ed25519 keys only"),
    ],
)
def test_unusable_keys_stop_the_service(private, path, previous, message):
    private = pem(Ed25519PrivateKey.generate()) if private is None else private
    with pytest.raises(KeyConfigurationError, match=message):
        keyring_from_settings(private, path, previous)


# --- the PDF --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def font():
    return pdf.CertificateFont(pdf.DEFAULT_FONT)


@pytest.fixture(scope="module")
def printed(document, font):
    return pdf.render(document, font)


def text_of(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_shows_the_chinese_text(printed, document):
    assert printed.startswith(b"%PDF-")
    text = text_of(printed)
    for expected in (
        "志愿服务记录证明",
        NAME,
        CENTER,
        "学雷锋志愿服务：清扫村道",
        "累计志愿服务时长6.75小时",
        "2026年11月29日",
        document["certificate"]["number"],
        document["verification_code"],
    ):
        assert expected in text, expected


def test_the_pdf_embeds_a_subset_of_the_font(printed):
    assert len(printed) < 80_000  # the font file is 5 MB: only the glyphs used are embedded


def test_the_pdf_carries_the_signed_document(printed, ring, document):
    attached = json.loads(PdfReader(io.BytesIO(printed)).attachments["certificate.json"][0])
    assert attached == document
    assert domain.verify_document(ring, attached, stored_of(document))["valid"] is True


def test_a_long_record_runs_over_pages(ring, font):
    entries = [entry(date(2026, 1, 1 + day % 28), f"社区文明实践活动第{day}场", "2.00") for day in range(120)]
    content = issue(ring, entries=entries)
    data = pdf.render(domain.document(content, ring.sign(content)), font)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 2
    assert "社区文明实践活动第119场" in text_of(data)
    assert f"共 {len(reader.pages)} 页" in reader.pages[-1].extract_text()


def latin_only_font(path):
    """A valid TrueType font with the Latin capital A only."""
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "A"])
    builder.setupCharacterMap({ord("A"): "A"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((500, 700))
    pen.lineTo((1000, 0))
    pen.closePath()
    glyph = pen.glyph()
    builder.setupGlyf({".notdef": glyph, "A": glyph})
    builder.setupHorizontalMetrics({".notdef": (1000, 0), "A": (1000, 0)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Latin", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
    return path


def test_a_font_without_chinese_stops_the_service(tmp_path):
    with pytest.raises(pdf.FontConfigurationError, match="not a CJK font"):
        pdf.CertificateFont(str(latin_only_font(tmp_path / "latin.ttf")))


def test_a_missing_font_stops_the_service(tmp_path):
    with pytest.raises(pdf.FontConfigurationError, match="fonts-wqy-microhei"):
        pdf.CertificateFont(str(tmp_path / "none.ttc"))
