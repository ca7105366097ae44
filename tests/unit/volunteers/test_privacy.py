"""Field encryption (AES-256-GCM tokens bound to their record and field), key rotation, lookup
hashes and the keys read from the environment."""

import base64
import hashlib
import hmac
import re

import pytest

from services.volunteers.privacy import (
    DataKeys,
    FieldCipher,
    KeyConfigurationError,
    UndecryptableToken,
    keys_from_environment,
)

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
LOOKUP = bytes(range(200, 232))
AD = b"volunteer:42:id_number"
ID_NUMBER = "11010519491231002X"


def cipher(keys=None, current="k1", lookup=LOOKUP):
    return FieldCipher({"k1": K1} if keys is None else keys, current, lookup)


def b64(raw):
    return base64.b64encode(raw).decode()


def tampered(token, index):
    """`token` with one byte of its nonce + ciphertext flipped."""
    head, _, payload = token.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[index] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


# --- encryption --------------------------------------------------------------------------


def test_a_value_round_trips_through_a_compact_token():
    token = cipher().encrypt(ID_NUMBER, AD)
    assert re.fullmatch(r"v1\.k1\.[A-Za-z0-9_-]+", token)
    assert ID_NUMBER not in token
    assert cipher().decrypt(token, AD) == ID_NUMBER


def test_chinese_text_round_trips():
    assert cipher().decrypt(cipher().encrypt("张三 山西省晋中市昔阳县", AD), AD) == "张三 山西省晋中市昔阳县"


def test_each_encryption_uses_a_fresh_nonce():
    first, second = cipher().encrypt(ID_NUMBER, AD), cipher().encrypt(ID_NUMBER, AD)
    assert first != second
    assert first.split(".")[2][:16] != second.split(".")[2][:16]  # the nonce comes first


@pytest.mark.parametrize("index", [0, 11, 12, 20, -1])  # nonce, first ciphertext byte, inside, the tag's last byte
def test_a_tampered_token_is_refused(index):
    token = cipher().encrypt(ID_NUMBER, AD)
    with pytest.raises(UndecryptableToken, match="altered"):
        cipher().decrypt(tampered(token, index), AD)


def test_a_token_does_not_decrypt_under_other_associated_data():
    token = cipher().encrypt(ID_NUMBER, AD)
    with pytest.raises(UndecryptableToken, match="associated data"):
        cipher().decrypt(token, b"volunteer:43:id_number")
    with pytest.raises(UndecryptableToken):
        cipher().decrypt(token, b"volunteer:42:phone")


def test_swapped_tokens_between_records_are_refused():
    mine, theirs = (
        cipher().encrypt("13800138000", b"volunteer:1:phone"),
        cipher().encrypt("13900139000", b"volunteer:2:phone"),
    )
    with pytest.raises(UndecryptableToken):
        cipher().decrypt(theirs, b"volunteer:1:phone")
    assert cipher().decrypt(mine, b"volunteer:1:phone") == "13800138000"


def test_a_token_does_not_decrypt_under_another_key_with_the_same_id():
    token = cipher().encrypt(ID_NUMBER, AD)
    with pytest.raises(UndecryptableToken, match="wrong key"):
        cipher({"k1": K2}).decrypt(token, AD)


@pytest.mark.parametrize(
    "token",
    [
        "",
        None,
        "11010519491231002X",
        "v1.k1",
        "v1..AAAA",
        "v1.k1.",
        "v1.k1.not base64!",
        "v2.k1." + "A" * 40,
        "v1.k1." + "A" * 36,  # 27 bytes: shorter than nonce + tag
        "v1.k1." + "A" * 41,  # not a possible base64 length
    ],
)
def test_malformed_tokens_are_refused(token):
    with pytest.raises(UndecryptableToken):
        cipher().decrypt(token, AD)


@pytest.mark.parametrize("associated_data", [b"", "volunteer:42:id_number", None])
def test_associated_data_must_be_non_empty_bytes(associated_data):
    with pytest.raises(TypeError):
        cipher().encrypt(ID_NUMBER, associated_data)
    token = cipher().encrypt(ID_NUMBER, AD)
    with pytest.raises(TypeError):
        cipher().decrypt(token, associated_data)


# --- rotation ------------------------------------------------------------------------------


def test_old_tokens_decrypt_after_a_new_current_key_is_added():
    old_token = cipher().encrypt(ID_NUMBER, AD)
    rotated = cipher({"k2": K2, "k1": K1}, "k2")
    assert rotated.decrypt(old_token, AD) == ID_NUMBER
    assert rotated.needs_rotation(old_token)

    new_token = rotated.encrypt(rotated.decrypt(old_token, AD), AD)
    assert new_token.startswith("v1.k2.")
    assert not rotated.needs_rotation(new_token)

    only_new = cipher({"k2": K2}, "k2")
    assert only_new.decrypt(new_token, AD) == ID_NUMBER
    with pytest.raises(UndecryptableToken, match="'k1', which is not configured"):
        only_new.decrypt(old_token, AD)


def test_needs_rotation_refuses_a_malformed_token():
    with pytest.raises(UndecryptableToken):
        cipher().needs_rotation("garbage")


@pytest.mark.parametrize(
    ("keys", "current", "lookup", "message"),
    [
        ({"k1": K1[:16]}, "k1", LOOKUP, "must be 32 bytes"),
        ({"k1": K1 + b"!"}, "k1", LOOKUP, "must be 32 bytes"),
        ({"k1": b64(K1)}, "k1", LOOKUP, "must be 32 bytes"),
        ({"k1": K1}, "k2", LOOKUP, "not among the keys"),
        ({}, "k1", LOOKUP, "not among the keys"),
        ({"k.1": K1}, "k.1", LOOKUP, "key id"),
        ({"k1": K1}, "k1", LOOKUP[:31], "at least 32 bytes"),
        ({"k1": K1}, "k1", K1, "differ from every data key"),
    ],
)
def test_unusable_keys_are_refused(keys, current, lookup, message):
    with pytest.raises(KeyConfigurationError, match=message):
        FieldCipher(keys, current, lookup)


# --- lookup hashes ---------------------------------------------------------------------------


def test_the_lookup_hash_is_a_keyed_hmac_sha256():
    digest = cipher().lookup_hash(ID_NUMBER)
    assert digest == hmac.new(LOOKUP, ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != hashlib.sha256(ID_NUMBER.encode()).hexdigest()  # no plain hash: ID numbers are guessable


def test_the_lookup_hash_is_stable_across_data_key_rotation_and_depends_on_its_key():
    assert cipher().lookup_hash(ID_NUMBER) == cipher({"k2": K2}, "k2").lookup_hash(ID_NUMBER)
    assert cipher().lookup_hash(ID_NUMBER) != cipher(lookup=bytes(32)).lookup_hash(ID_NUMBER)
    assert cipher().lookup_hash(ID_NUMBER) != cipher().lookup_hash(ID_NUMBER.lower())  # the caller normalizes


# --- keys from the environment -----------------------------------------------------------------


def environment(data_keys=None, lookup=None):
    return {
        "VOLUNTEERS_DATA_KEYS": f"k2:{b64(K2)},k1:{b64(K1)}" if data_keys is None else data_keys,
        "VOLUNTEERS_LOOKUP_KEY": b64(LOOKUP) if lookup is None else lookup,
        "PATH": "/usr/bin",
    }


def test_keys_are_read_from_the_environment_the_first_being_current():
    keys = keys_from_environment(environment())
    assert keys == DataKeys({"k2": K2, "k1": K1}, "k2", LOOKUP)
    fresh = FieldCipher(*keys)
    assert fresh.current_key_id == "k2"
    assert fresh.decrypt(cipher().encrypt(ID_NUMBER, AD), AD) == ID_NUMBER


def test_spaces_around_entries_are_tolerated():
    keys = keys_from_environment(environment(f" k2:{b64(K2)} , k1: {b64(K1)}\n", f" {b64(LOOKUP)} "))
    assert keys == DataKeys({"k2": K2, "k1": K1}, "k2", LOOKUP)


@pytest.mark.parametrize(
    ("data_keys", "lookup", "message"),
    [
        ("", None, "VOLUNTEERS_DATA_KEYS is not set"),
        (None, "  ", "VOLUNTEERS_LOOKUP_KEY is not set"),
        (b64(K2), None, "<key id>:<base64 key>"),
        (f"k2:{b64(K2)},", None, "<key id>:<base64 key>"),
        (f"k2:{b64(K2)},,k1:{b64(K1)}", None, "<key id>:<base64 key>"),
        (f":{b64(K2)}", None, "key id"),
        (f"k.2:{b64(K2)}", None, "key id"),
        (f"k2:{b64(K2)},k2:{b64(K1)}", None, "appears twice"),
        ("k2:not-base64!", None, "not valid base64"),
        (f"k2:{b64(K2)[:-1]}", None, "not valid base64"),
        (f"k2:{b64(K2[:16])}", None, "has 16 bytes, it must have 32"),
        (f"k2:{b64(K2 + K1)}", None, "has 64 bytes, it must have 32"),
        (None, "c2hvcnQ=", "VOLUNTEERS_LOOKUP_KEY has 5 bytes"),
        (None, "%%%", "VOLUNTEERS_LOOKUP_KEY is not valid base64"),
        (None, b64(K1), "differ from every data key"),
    ],
)
def test_malformed_environment_keys_are_refused(data_keys, lookup, message):
    with pytest.raises(KeyConfigurationError, match=re.escape(message)) as excinfo:
        FieldCipher(*keys_from_environment(environment(data_keys, lookup)))
    for key in (K1, K2, LOOKUP):
        assert b64(key) not in str(excinfo.value)  # key material never reaches a log


def test_missing_variables_are_refused():
    with pytest.raises(KeyConfigurationError, match="VOLUNTEERS_DATA_KEYS is not set"):
        keys_from_environment({})
