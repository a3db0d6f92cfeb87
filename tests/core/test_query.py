from pathlib import Path

import pytest

from photoseek.core.errors import QueryError
from photoseek.core.search.query import QueryTerm, parse_query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kids on a beach", [QueryTerm(1.0, text="kids on a beach")]),
        (
            '"beach" + 0.5*@photo.jpg - "people"',
            [
                QueryTerm(1.0, text="beach"),
                QueryTerm(0.5, image=Path("photo.jpg")),
                QueryTerm(-1.0, text="people"),
            ],
        ),
        ("t-shirt on a line", [QueryTerm(1.0, text="t-shirt on a line")]),
        ("-people + beach", [QueryTerm(-1.0, text="people"), QueryTerm(1.0, text="beach")]),
        ('a "quoted - not split" x', [QueryTerm(1.0, text='a "quoted - not split" x')]),
        (
            '@"my pic.jpg" - 0.3*blur',
            [QueryTerm(1.0, image=Path("my pic.jpg")), QueryTerm(-0.3, text="blur")],
        ),
        ("kid's toy + .25 * dog", [QueryTerm(1.0, text="kid's toy"), QueryTerm(0.25, text="dog")]),
    ],
)
def test_parse(query: str, expected: list[QueryTerm]) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize("query", ["", "   ", "- people", '"unbalanced', "0*beach", "beach + @"])
def test_bad_queries_raise(query: str) -> None:
    with pytest.raises(QueryError):
        parse_query(query)
