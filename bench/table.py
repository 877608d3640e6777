"""The one table every measurement reports into: a row per figure, with its budget and whether it is met."""

from dataclasses import dataclass

WITHIN, OVER, NO_BUDGET, NOT_MEASURED = "within", "OVER", "no budget", "not measured"


@dataclass
class Row:
    section: str
    name: str
    figure: str
    budget: str
    verdict: str  # WITHIN, OVER, NO_BUDGET or NOT_MEASURED


def verdict(ok: bool) -> str:
    return WITHIN if ok else OVER


def print_table(rows: list[Row], notes: list[str]) -> None:
    headers = ("measurement", "figure", "budget (docs/budgets.md)", "")
    cells = [(row.name, row.figure, row.budget, row.verdict) for row in rows]
    widths = [max(len(line[i]) for line in [headers, *cells]) for i in range(4)]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    rule = "-" * len(line(tuple("-" * width for width in widths)))
    print(line(headers))
    section = None
    for row, values in zip(rows, cells, strict=True):
        if row.section != section:  # a ruled title line per section keeps one table readable
            section = row.section
            print(rule)
            print(f"{section}")
        print(line(values))
    print(rule)
    over = sum(row.verdict == OVER for row in rows)
    print(f"{len(rows)} figures: {over} over budget, {sum(row.verdict == NO_BUDGET for row in rows)} without one")
    for note in notes:
        print(f"note: {note}")
