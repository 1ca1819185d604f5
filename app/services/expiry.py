"""How near a certificate is to the end of its validity, said one way for every face: the
console's rows and filters, the certificate window and `certdesk list`."""

import datetime as dt
from dataclasses import dataclass

from app.services.certificates import EXPIRING_DAYS

VALID = "valid"
EXPIRING = "expiring"
EXPIRED = "expired"
NOT_YET_VALID = "not yet valid"


@dataclass(frozen=True)
class Expiry:
    state: str  # VALID, EXPIRING, EXPIRED or NOT_YET_VALID
    days_left: int  # whole days until the end of validity, rounded down: negative once expired


def expiry(valid_from: dt.datetime, valid_to: dt.datetime, now: dt.datetime) -> Expiry:
    """The state at `now` (UTC): expired once past its end, however it began; else not
    yet valid before its start; else expiring within EXPIRING_DAYS of its end."""
    days = (valid_to - now) // dt.timedelta(days=1)
    if days < 0:
        state = EXPIRED
    elif now < valid_from:
        state = NOT_YET_VALID
    elif days < EXPIRING_DAYS:
        state = EXPIRING
    else:
        state = VALID
    return Expiry(state, days)
