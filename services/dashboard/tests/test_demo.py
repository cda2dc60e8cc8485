"""The demo plan gives every colour at county, town and village level."""

from dashboard import demo, rules


def test_every_colour_at_every_level() -> None:
    divisions, colours = demo.plan()
    poor = {code: 40 for code in colours}
    demo.populations(divisions, colours, poor)
    by_level: dict[str, set[str]] = {}
    for d in divisions:
        figure = sum(n for v, n in poor.items() if v.startswith(d["code"]))
        by_level.setdefault(d["level"], set()).add(rules.color(figure, d["population"]))
    assert by_level == {level: {"red", "amber", "green"} for level in ("county", "town", "village")}
