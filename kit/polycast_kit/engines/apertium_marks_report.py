"""How many segments of a talk carry an Apertium mark, raw and after the repair.

``python -m polycast_kit.engines.apertium_marks_report samples/talk.jsonl`` prints the
table in docs/engines.md.
"""

from __future__ import annotations

from polycast_kit.engines.apertium_marks import has_marks


def measure(talk: str, *, experimental: bool = True) -> dict[str, tuple[int, int, int]]:
    """Per target language: (segments, marked by the raw engine, marked after the fix).

    "Raw" is the pipeline with marks on and no normalization or repair: what reached
    listeners, marks stripped, before this module existed.
    """
    import json

    from polycast_kit.engines.apertium import ApertiumPipeline, ApertiumTranslator

    texts = []
    for line in open(talk, encoding="utf-8"):  # noqa: SIM115 - a short read
        if line.strip().startswith("{"):
            text = json.loads(line).get("transcriptText")
            if isinstance(text, str):
                texts.append(text)
    results: dict[str, tuple[int, int, int]] = {}
    with ApertiumTranslator(experimental=experimental) as translator:
        raw: dict[str, ApertiumPipeline] = {}
        for target in translator.available_targets("en"):
            before = after = 0
            for text in texts:
                out = text
                for mode in translator.route("en", target).modes:
                    pipe = raw.setdefault(mode.name, ApertiumPipeline(mode))
                    out = pipe.translate(out)
                before += has_marks(out)
                after += has_marks(translator.translate(text, source="en", target=target))
            results[target] = (len(texts), before, after)
        for pipe in raw.values():
            pipe.close()
    return results


if __name__ == "__main__":
    import sys

    print("language  segments  marked (raw engine)  marked (after)")
    for language, (total, before, after) in measure(sys.argv[1]).items():
        print(f"{language:<9} {total:>8}  {before:>19}  {after:>14}")
