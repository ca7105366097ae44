"""What leaves the service about a volunteer: the view every method returns (private data
masked) and the data of every volunteer event (no personal data at all)."""

from services.volunteers.contract.registration import VolunteerSchema

_volunteer = VolunteerSchema()


def volunteer_view(row):
    """The JSON-ready view of a Volunteer row."""
    guardian = row.guardian
    return _volunteer.dump(
        {
            "id": row.id,
            "volunteer_number": row.volunteer_number,
            "account_id": row.account_id,
            "name": row.name,
            "id_number": row.id_number_masked,
            "phone": row.phone_masked,
            "sex": row.sex,
            "birth_date": row.birth_date,
            "guardian": None if guardian is None else {key: guardian[key] for key in ("name", "relation")},
            "skills": row.skills,
            "service_categories": row.service_categories,
            "available_times": row.available_times,
            "home_station_id": row.home_station_id,
            "status": row.status,
            "status_reason": row.status_reason,
            "privacy_consent": None
            if row.privacy_consent_version is None
            else {"version": row.privacy_consent_version, "accepted_at": row.privacy_consent_at},
            "channel": row.channel,
            "erased": row.erased_at is not None,
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def event_data(row):
    """The data of a volunteer event: ids, station, status and what they offer; no name, ID
    number or phone (docs/events.md)."""
    return {
        "id": row.id,
        "volunteer_number": row.volunteer_number,
        "account_id": row.account_id,
        "home_station_id": row.home_station_id,
        "status": row.status,
        "skills": list(row.skills),
        "service_categories": list(row.service_categories),
        "available_times": list(row.available_times),
        "version": row.version,
        "updated_at": row.updated_at.isoformat().replace("+00:00", "Z"),
    }
