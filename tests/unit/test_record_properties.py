"""Property-based checks of record parsing: whatever arrives, only BadRequest escapes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from polycast.domain.models import SessionEnd, SessionStart, Transcript
from polycast.domain.records import parse_record
from polycast.errors import BadRequest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["transcript", "sessionStarted", "sessionEnded", "x"])
        | json_values,
        "sessionId": st.from_regex(r"[a-z]+-[a-z]+-[0-9]{3}", fullmatch=True) | json_values,
        "sequence": st.integers(min_value=-5, max_value=2**60) | json_values,
        "sourceLanguage": st.sampled_from(["en", "es", "xx", "EN", ""]) | json_values,
        "transcriptText": st.text(max_size=200) | json_values,
        "emotionDynamics": st.fixed_dictionaries(
            {},
            optional={
                "emotion": st.sampled_from(["happy", "sad", "bored"]) | json_values,
                "intensity": st.floats(min_value=-1, max_value=2, allow_nan=False) | json_values,
                "rateWpm": st.integers(min_value=0, max_value=1000) | json_values,
                "volumeLevel": st.sampled_from(["soft", "loud", "medium"]) | json_values,
            },
        )
        | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(fields)
def test_structured_input_parses_or_is_rejected_with_a_code(data: dict[str, Any]) -> None:
    try:
        record = parse_record(json.dumps(data).encode())
    except BadRequest as err:
        assert err.code.isupper()
        assert err.message
        return
    assert isinstance(record, Transcript | SessionStart | SessionEnd)
    if isinstance(record, Transcript):
        assert record.text.strip()
        assert 0 <= record.emotion.intensity <= 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_raise_anything_else(raw: bytes) -> None:
    try:
        parse_record(raw)
    except BadRequest:
        pass
