"""Putting registrations into the database: one (`enrol`) or a batch (imports), with the
private data encrypted, volunteer numbers reserved and `volunteer.registered` emitted, all
in the caller's unit of work. The rules themselves are `domain.registration`.

Batch-friendly on purpose: a batch asks once which ID numbers are taken, reserves all its
serials in one statement and flushes once.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.centers.contract import PLATFORMS
from services.volunteers import domain
from services.volunteers.contract.registration import AVAILABLE_TIMES, VOLUNTEER_REGISTERED
from services.volunteers.models import NumberSerial, Volunteer
from services.volunteers.views import event_data

VOCABULARIES = {"service_categories": PLATFORMS, "available_times": AVAILABLE_TIMES}


def associated_data(volunteer_number, field):
    """What binds a token to its record and field (privacy.FieldCipher): the volunteer number,
    known before the row is written (so a batch writes each row once) and never changed."""
    return f"volunteer:{volunteer_number}:{field}".encode()


def registration(values, today):
    """`domain.registration` with this service's vocabularies."""
    return domain.registration(values, today, VOCABULARIES)


def registered_hashes(session, hashes):
    """Which of the ID-number lookup hashes `hashes` are already registered."""
    if not hashes:
        return set()
    found = session.scalars(sa.select(Volunteer.id_number_hash).where(Volunteer.id_number_hash.in_(hashes)))
    return set(found)


def reserve_numbers(session, county_code, year, count):
    """`count` new volunteer numbers of `year`, in one statement (the row lock serializes
    concurrent registrations of a year on PostgreSQL; SQLite has one writer)."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(NumberSerial).values(year=year, last_serial=0).on_conflict_do_nothing())
    last = session.scalar(
        sa.update(NumberSerial)
        .where(NumberSerial.year == year)
        .values(last_serial=NumberSerial.last_serial + count)
        .returning(NumberSerial.last_serial)
    )
    return [domain.volunteer_number(county_code, year, serial) for serial in range(last - count + 1, last + 1)]


def add_volunteers(uow, personal_data, states, *, channel, actor, now, consent, account_ids=None):
    """Insert the volunteers of `states` (from `registration`, none of them registered yet),
    their private data encrypted, in one statement, and emit `volunteer.registered` for each
    in one more; returns the rows.

    `consent`: {"version", "accepted_at"} per state (a list) or one for all (a dict).
    `account_ids`: the linked account per state, or None."""
    cipher = personal_data.cipher
    numbers = reserve_numbers(uow.session, personal_data.county_code, now.year, len(states))
    consents = consent if isinstance(consent, list) else [consent] * len(states)
    rows = []
    for index, state in enumerate(states):
        number = numbers[index]
        guardian = state["guardian"]
        rows.append(
            Volunteer(
                volunteer_number=number,
                account_id=account_ids[index] if account_ids else None,
                name=state["name"],
                id_number_token=cipher.encrypt(state["id_number"], associated_data(number, "id_number")),
                id_number_hash=cipher.lookup_hash(state["id_number"]),
                id_number_masked=domain.mask_id_number(state["id_number"]),
                phone_token=cipher.encrypt(state["phone"], associated_data(number, "phone")),
                phone_hash=cipher.lookup_hash(state["phone"]),
                phone_masked=domain.mask_phone(state["phone"]),
                sex=state["sex"],
                birth_date=state["birth_date"],
                guardian=None if guardian is None else _guardian_view(guardian, now, cipher, number),
                skills=state["skills"],
                service_categories=state["service_categories"],
                available_times=state["available_times"],
                home_station_id=state["home_station_id"],
                status="active",
                privacy_consent_version=consents[index]["version"],
                privacy_consent_at=consents[index]["accepted_at"] or now,
                channel=channel,
                registered_by=actor.account_id,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    uow.session.add_all(rows)
    uow.flush()  # the ids, which the events carry; a duplicate raced in fails here
    uow.emit_many(VOLUNTEER_REGISTERED, [(str(row.id), {**event_data(row), "channel": channel}) for row in rows])
    return rows


def _guardian_view(guardian, now, cipher, volunteer_number):
    return {
        "name": guardian["name"],
        "relation": guardian["relation"],
        "consented_at": now.isoformat(),
        "phone_token": cipher.encrypt(guardian["phone"], associated_data(volunteer_number, "guardian_phone")),
    }


def enrol(uow, personal_data, values, *, channel, actor, now, account_id=None):
    """Register one volunteer from `values` (loaded by RegistrationSchema); the home station
    is checked by the caller. Conflict volunteer.id_number_registered for a second
    registration of an ID number. Returns the Volunteer row."""
    state = registration(values, now.date())
    if registered_hashes(uow.session, [personal_data.cipher.lookup_hash(state["id_number"])]):
        raise domain.already_registered()
    (row,) = add_volunteers(
        uow,
        personal_data,
        [state],
        channel=channel,
        actor=actor,
        now=now,
        consent=values["privacy_consent"],
        account_ids=[account_id] if account_id is not None else None,
    )
    return row
