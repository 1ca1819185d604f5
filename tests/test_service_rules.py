"""Rules both faces follow, held by the services: how near a certificate is to its end,
the format an export file's name asks for, and a password retry merged into an import."""

import datetime as dt

import pytest

from app.services import certificate_import, certificates, expiry
from app.services.certificate_import import FileResult, ImportReport
from app.services.certificates import EXPIRING_DAYS

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
YEAR_AGO = NOW - 365 * DAY


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "state", "days_left"),
    [
        (YEAR_AGO, NOW + 400 * DAY, expiry.VALID, 400),
        (YEAR_AGO, NOW + EXPIRING_DAYS * DAY, expiry.VALID, EXPIRING_DAYS),
        (YEAR_AGO, NOW + EXPIRING_DAYS * DAY - dt.timedelta(seconds=1), expiry.EXPIRING, 29),
        (YEAR_AGO, NOW + dt.timedelta(hours=3), expiry.EXPIRING, 0),
        (YEAR_AGO, NOW - dt.timedelta(seconds=1), expiry.EXPIRED, -1),
        (YEAR_AGO, NOW - 10 * DAY, expiry.EXPIRED, -10),
        (NOW + DAY, NOW + 400 * DAY, expiry.NOT_YET_VALID, 400),
        (NOW + DAY, NOW + 5 * DAY, expiry.NOT_YET_VALID, 5),
        (NOW + DAY, NOW - DAY, expiry.EXPIRED, -1),  # past its end, however it began
    ],
)
def test_the_expiry_of_a_certificate(valid_from, valid_to, state, days_left):
    assert expiry.expiry(valid_from, valid_to, NOW) == expiry.Expiry(state, days_left)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("build.pem", "pem"),
        ("BUILD.CRT", "pem"),
        ("dir.pem/build.crt", "pem"),
        ("build.cer", "der"),
        ("build.der", "der"),
        ("build", "der"),
        ("build.pem.cer", "der"),
    ],
)
def test_an_export_is_pem_for_a_file_named_so(name, fmt):
    assert certificates.export_format(name) == fmt


def test_a_password_retry_replaces_the_result_in_place(session, tmp_path, certs):
    cert, key = certs.make_cert("Locked Signing")
    locked = certs.write(tmp_path, "locked.p12", certs.p12(cert, key, b"open sesame"))
    plain = certs.write(tmp_path, "plain.pem", certs.pem(certs.make_cert("Plain")[0]))
    report = certificate_import.import_files(session, [locked, plain])
    assert [f.needs_password for f in report.files] == [True, False]
    wrong = certificate_import.retry_with_password(session, report, str(locked), "nope")
    assert wrong.files[0].needs_password and wrong.imported == 1
    retried = certificate_import.retry_with_password(session, report, str(locked), "open sesame")
    assert [f.path for f in retried.files] == [str(locked), str(plain)]
    assert retried.files[0].imported == ["Locked Signing"] and retried.keys_sealed == 1
    assert not retried.failed and report.files[0].needs_password  # the first is kept


def test_a_retry_that_stopped_says_so_for_the_whole():
    first = ImportReport(files=[FileResult("a.p12", needs_password=True, error="password")])
    retry = ImportReport(stopped="the store is busy", not_imported=1)
    merged = certificate_import.merged(first, retry)
    assert merged.files == first.files
    assert (merged.stopped, merged.not_imported) == ("the store is busy", 1)
