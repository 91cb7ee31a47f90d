import logging

from cartwheel.kit.logs import KeyValueFormatter


def test_log_lines_carry_extras_as_key_values() -> None:
    record = logging.LogRecord(
        "cartwheel.x", logging.WARNING, "f.py", 1, "batch failed", None, None
    )
    record.events = 12
    record.reason = "disk full"
    line = KeyValueFormatter().format(record)
    assert "level=warning logger=cartwheel.x" in line
    assert 'msg="batch failed"' in line
    assert "events=12" in line and 'reason="disk full"' in line
