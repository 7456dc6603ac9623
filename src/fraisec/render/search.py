"""IR → full-text search functions: ``app.fn_search_<x>`` over a searchable entity's view."""

from __future__ import annotations

from dataclasses import dataclass

from fraisec.render.model import Model
from fraisec.render.objects import entity_order
from fraisec.render.quoting import qualified

__all__ = ["SearchFn", "search_functions"]


# -- full-text search -------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchFn:
    """``app.fn_search_<x>(p_query, p_limit, p_offset)``: the entity's view rows matching a web
    search query, best first. SECURITY INVOKER over the view: RLS keeps it in the tenant."""

    template = "objects/search.sql.j2"
    name: str
    entity: str
    table: str
    view: str
    language: str
    headline: str  # the highest-weighted searched column

    @property
    def signature(self) -> str:
        return f"{self.name}(text, integer, integer)"


def search_functions(model: Model) -> list[SearchFn]:
    result = []
    for e in entity_order(model):
        if e.entity.search:
            headline = min(e.entity.search, key=lambda cw: cw[1])[0]
            result.append(SearchFn(qualified(model.app, f"fn_search_{e.entity.table.removeprefix('tb_')}"),
                                   e.name, model.table(e), qualified(model.app, e.entity.view),
                                   e.entity.search_language, headline))
    return result
