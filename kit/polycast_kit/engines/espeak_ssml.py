"""Amazon-Polly-style SSML rewritten into the SSML subset espeak-ng honours.

Measured with espeak-ng 1.51 (``docs/engines.md``): ``rate="N%"`` multiplies the
speaking rate; ``volume`` takes percentages and keywords but reads ``+6dB`` as a
tiny step, so decibels become percentages; ``pitch="+N%"`` moves the voice by
roughly half as much in Hz, so relative pitch changes are doubled; ``<break>``,
``<emphasis>``, ``<p>`` and ``<s>`` work as written. Elements espeak does not know
(``amazon:effect``, ``lang``, ``phoneme``, ``say-as`` …) are unwrapped, keeping
their text, so no tag name is ever read aloud.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from polycast.errors import BadRequest

RATE_KEYWORDS = frozenset({"x-slow", "slow", "medium", "fast", "x-fast", "default"})
VOLUME_KEYWORDS = frozenset({"silent", "x-soft", "soft", "medium", "loud", "x-loud", "default"})
PITCH_KEYWORDS = frozenset({"x-low", "low", "medium", "high", "x-high", "default"})
EMPHASIS_LEVELS = frozenset({"strong", "moderate", "reduced", "none"})
BREAK_STRENGTHS = frozenset({"none", "x-weak", "weak", "medium", "strong", "x-strong"})

RATE_RANGE = (20.0, 300.0)  # percent of the voice's normal rate
VOLUME_RANGE = (0.0, 300.0)  # percent of normal amplitude; espeak clips above ~200 %
PITCH_RANGE = (-90.0, 200.0)  # relative percent handed to espeak
PITCH_GAIN = 2.0  # espeak's "+N%" raises F0 by about N/2 %
MAX_BREAK_MS = 10_000

_PERCENT = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)%$")
_DECIBELS = re.compile(r"^([+-]?\d+(?:\.\d+)?)dB$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$", re.IGNORECASE)
_UNBOUND_PREFIX = re.compile(r"<(/?)([A-Za-z][\w.-]*):")
# Elements dropped together with their content: they carry no speakable text.
_DROPPED = frozenset({"mark", "audio", "desc"})


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def espeak_rate(value: str) -> str | None:
    """Polly rate (``115%``, ``fast``) → espeak rate; None to leave the rate alone."""
    value = value.strip().lower()
    if value in RATE_KEYWORDS:
        return value
    if (m := _PERCENT.match(value)) is not None:
        sign, number = m[1], float(m[2])
        percent = 100 + number if sign == "+" else 100 - number if sign == "-" else number
        return f"{_fmt(_clamp(percent, RATE_RANGE))}%"
    if _NUMBER.match(value):  # SSML 1.1 multiplier: "1.5"
        return f"{_fmt(_clamp(float(value) * 100, RATE_RANGE))}%"
    return None


def espeak_volume(value: str) -> str | None:
    """Polly volume (``+3dB``, ``loud``) → espeak volume as a percentage or keyword."""
    value = value.strip()
    if value.lower() in VOLUME_KEYWORDS:
        return value.lower()
    if (m := _DECIBELS.match(value)) is not None:
        percent = 100 * 10 ** (float(m[1]) / 20)
        return f"{_fmt(round(_clamp(percent, VOLUME_RANGE)))}%"
    if (m := _PERCENT.match(value)) is not None:
        sign, number = m[1], float(m[2])
        percent = 100 + number if sign == "+" else 100 - number if sign == "-" else number
        return f"{_fmt(_clamp(percent, VOLUME_RANGE))}%"
    return None


def espeak_pitch(value: str) -> str | None:
    """Polly pitch (``+5%``, ``high``) → espeak pitch, relative changes doubled."""
    value = value.strip().lower()
    if value in PITCH_KEYWORDS:
        return value
    if (m := _PERCENT.match(value)) is not None and m[1]:
        change = float(m[2]) * (1 if m[1] == "+" else -1) * PITCH_GAIN
        change = _clamp(change, PITCH_RANGE)
        return f"{'+' if change >= 0 else '-'}{_fmt(abs(change))}%"
    return None


def espeak_break_time(value: str) -> str | None:
    """``300ms`` / ``1.5s`` → milliseconds espeak reads, capped at 10 s."""
    m = _TIME.match(value.strip())
    if m is None:
        return None
    ms = float(m[1]) * (1000 if m[2].lower() == "s" else 1)
    return f"{round(min(ms, MAX_BREAK_MS))}ms"


def _local_name(tag: str) -> str:
    """``{ns}effect`` and ``amazon:effect`` both → the bare element name, lower case."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _parse(ssml: str) -> ET.Element:
    # Polly SSML uses prefixes (amazon:effect) without declaring them; ElementTree
    # refuses unbound prefixes, so fold "prefix:" into the element name first.
    text = _UNBOUND_PREFIX.sub(lambda m: f"<{m[1]}{m[2]}_", ssml.strip())
    try:
        root = ET.fromstring(text)  # noqa: S314 - our own generated SSML, no entities
    except ET.ParseError as exc:
        raise BadRequest(f"invalid SSML: {exc}") from None
    if _local_name(root.tag) != "speak":
        raise BadRequest(f"SSML root must be <speak>, not <{root.tag}>")
    return root


def _append_text(parent: ET.Element, text: str | None) -> None:
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _rewrite_children(source: ET.Element, target: ET.Element) -> None:
    _append_text(target, source.text)
    for child in source:
        _rewrite_element(child, target)
        _append_text(target, child.tail)


def _rewrite_element(element: ET.Element, parent: ET.Element) -> None:
    name = _local_name(element.tag).replace("amazon_", "")
    attrs = {_local_name(k): v for k, v in element.attrib.items()}
    if name in _DROPPED:
        return
    if name == "break":
        out = {}
        if (time := espeak_break_time(attrs.get("time", ""))) is not None:
            out["time"] = time
        elif attrs.get("strength", "").lower() in BREAK_STRENGTHS:
            out["strength"] = attrs["strength"].lower()
        ET.SubElement(parent, "break", out)
        return
    if name == "prosody":
        converted = {
            "rate": espeak_rate(attrs.get("rate", "")),
            "volume": espeak_volume(attrs.get("volume", "")),
            "pitch": espeak_pitch(attrs.get("pitch", "")),
        }
        kept = {k: v for k, v in converted.items() if v is not None}
        target = ET.SubElement(parent, "prosody", kept) if kept else parent
    elif name == "emphasis":
        level = attrs.get("level", "moderate").lower()
        target = ET.SubElement(
            parent, "emphasis", {"level": level if level in EMPHASIS_LEVELS else "moderate"}
        )
    elif name in {"p", "s"}:
        target = ET.SubElement(parent, name)
    elif name == "sub" and "alias" in attrs:
        _append_text(parent, attrs["alias"])
        return
    else:  # speak inside speak, lang, phoneme, say-as, w, amazon:effect, …: keep the words
        target = parent
    _rewrite_children(element, target)


def to_espeak_ssml(ssml: str) -> str:
    """Rewrite Polly-style SSML (or plain text) into SSML for ``espeak-ng -m``."""
    if not ssml.lstrip().startswith("<"):
        return f"<speak>{escape(ssml)}</speak>"
    root = _parse(ssml)
    out = ET.Element("speak")
    _rewrite_children(root, out)
    return ET.tostring(out, encoding="unicode")
