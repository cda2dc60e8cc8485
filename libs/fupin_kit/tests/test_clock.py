"""The programme's clock is China Standard Time: its date turns at 16:00 UTC."""

import datetime as dt

from fupin_kit import clock

UTC = dt.UTC


def test_the_last_second_before_16_utc_is_still_the_same_day_in_china() -> None:
    with clock.frozen(dt.datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)):
        assert clock.today() == dt.date(2026, 12, 31)
        assert clock.now().isoformat() == "2026-12-31T23:59:59+08:00"


def test_at_16_utc_on_new_years_eve_china_is_in_the_new_year() -> None:
    with clock.frozen(dt.datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC)):
        assert clock.today() == dt.date(2027, 1, 1)
        assert clock.today().year == 2027
        assert clock.utcnow() == dt.datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_a_naive_moment_is_utc_and_a_date_is_noon_in_china() -> None:
    with clock.frozen(dt.datetime(2026, 2, 28, 16, 0, 0)):
        assert clock.today() == dt.date(2026, 3, 1)
    with clock.frozen(dt.date(2024, 2, 29)):
        assert clock.today() == dt.date(2024, 2, 29)
        assert clock.now().hour == 12


def test_frozen_restores_the_running_clock() -> None:
    with clock.frozen(dt.date(2001, 1, 1)):
        with clock.frozen(dt.date(2002, 1, 1)):
            assert clock.today().year == 2002
        assert clock.today().year == 2001
    assert abs(clock.utcnow() - dt.datetime.now(UTC)) < dt.timedelta(seconds=5)


def test_china_date_of_an_event_time() -> None:
    assert clock.china_date(dt.datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)) == dt.date(2026, 6, 30)
    assert clock.china_date(dt.datetime(2026, 6, 30, 16, 0, 0)) == dt.date(2026, 7, 1)
    moment = clock.event_time({"time": "2026-06-30T16:00:00Z"})
    assert moment == dt.datetime(2026, 6, 30, 16, tzinfo=UTC)
    assert clock.china_date(moment) == dt.date(2026, 7, 1)
