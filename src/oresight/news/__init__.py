"""Watch: turn news reports (German, English, and any language with a lexicon folder) into deduplicated
supply-chain events with type, commodities, countries, date and the sentences they rest on.

>>> from oresight.news import Article, extract_articles
>>> result = extract_articles([Article(id="a1", published="2025-10-09", text=(
...     "China verschärft Exportkontrollen für Seltene Erden\\n"
...     "Das Handelsministerium in Peking kündigte am Donnerstag neue Exportkontrollen für Seltene Erden an."))])
>>> r = result[0]
>>> r.type, r.commodities, r.countries, r.event_date
('export_control', ['rare earths'], ['CHN'], '2025-10-09')
"""

from __future__ import annotations

from collections.abc import Callable

from oresight.news.extract import ARTICLE_ERRORS, Extraction, extract
from oresight.news.group import group, mark_duplicates
from oresight.news.lexicon import Lexicon, load_lexicon
from oresight.news.reader import Article, ReadProblem, read_articles
from oresight.news.text import prepare

__all__ = ["Article", "Extraction", "ReadProblem", "extract_articles", "read_articles"]


def extract_articles(
    articles: list[Article],
    *,
    progress: Callable[[int, int], None] | None = None,
    lexicon: Lexicon | None = None,
    problems: list[ReadProblem] | None = None,
) -> list[Extraction]:
    """Extract, deduplicate and group: one :class:`Extraction` per article, in input order (with the bundled
    lexicon unless another is given). With a ``problems`` list, an article that cannot be read is reported there
    and left out instead of stopping the batch."""
    lexicon = lexicon or load_lexicon()
    extractions = []
    for number, article in enumerate(articles, 1):
        try:
            extractions.append(extract(prepare(article, lexicon), lexicon))
        except ARTICLE_ERRORS as exc:
            if problems is None:
                raise
            problems.append(ReadProblem(article.source or article.id, None, f"{article.id}: not read ({exc})"))
        if progress is not None:
            progress(number, len(articles))
    mark_duplicates(extractions)
    group(extractions, lexicon)
    return extractions
