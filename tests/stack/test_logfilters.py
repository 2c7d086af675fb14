"""Log lines carry the request id and lose what looks like personal data."""

from __future__ import annotations

import io
import logging

import pytest

from leads.logfilters import PersonalDataScrubber, RequestIdFilter, request_id, scrub

EMAIL = "siti.planted@example.com"
PHONE = "+60 12-345 6789"


@pytest.fixture
def stream_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(levelname)s request_id=%(request_id)s %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalDataScrubber())
    logger = logging.getLogger("tests.stack.logfilters")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_request_id_is_stamped(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = stream_logger
    logger.info("outside")
    token = request_id.set("req-1234abcd")
    try:
        logger.info("inside")
    finally:
        request_id.reset(token)
    lines = stream.getvalue().splitlines()
    assert lines == ["INFO request_id=- outside", "INFO request_id=req-1234abcd inside"]


def test_planted_values_never_reach_the_output(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = stream_logger
    logger.info("lead %s phone %s", EMAIL, PHONE)
    try:
        raise ValueError(f"bad address {EMAIL}")
    except ValueError:
        logger.exception("failed")
    output = stream.getvalue()
    assert EMAIL not in output
    assert "12-345 6789" not in output
    assert "[redacted]" in output
    assert "ValueError" in output


@pytest.mark.parametrize(
    "kept",
    [
        "lead 550e8400-e29b-41d4-a716-446655440000 captured",
        "tick at 2026-12-03 16:38:56 claimed 120 steps in 35 ms",
        "route=/console/leads/{lead_id:uuid} status=200",
    ],
)
def test_ids_dates_and_counts_are_kept(kept: str) -> None:
    assert scrub(kept) == kept


@pytest.mark.parametrize(
    "masked", ["jane%40example.com", "0123456789", "+44 20 7946 0958", "a.b+c@d.co.uk"]
)
def test_addresses_and_numbers_are_masked(masked: str) -> None:
    assert masked not in scrub(f"value {masked} end")
