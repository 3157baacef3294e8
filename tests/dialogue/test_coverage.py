"""Every clause of a current document is walked by a flow, or is look-up only on purpose.

A clause that states an obligation or a procedure must be cited by at least one flow; the
others (background, definitions, commencement, signatures...) are listed in
knowledge/lookup_only.yaml with a kind and a reason a reviewer can check. The historical CSCI
memorandum is not counted, and wherever a flow cites a historical document it must say so.

    pytest tests/dialogue/test_coverage.py -s     # prints the coverage table
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dialogue import Engine
from bot.kb import KnowledgeBase
from bot.paths import knowledge_dir

LOOKUP_ONLY = knowledge_dir() / "lookup_only.yaml"
KINDS = {
    "background",
    "definition",
    "principle",
    "corporate",
    "commencement",
    "signatures",
    "contact",
    "single_step",
}
CURRENT = {"current", "check"}


def _lookup_only() -> list[dict[str, Any]]:
    entries = yaml.safe_load(Path(LOOKUP_ONLY).read_text(encoding="utf-8"))
    assert isinstance(entries, list), f"{LOOKUP_ONLY}: expected a list of entries"
    return entries


def _cited_by(engine: Engine) -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for flow in engine.flows.values():
        for step in flow.steps:
            for clause_id in step.cite:
                cited.setdefault(clause_id, set()).add(flow.id)
    return cited


def _current_clauses(kb: KnowledgeBase) -> dict[str, str]:
    """Clause id -> document id, for the documents that are not historical."""
    return {
        cid: c.document
        for cid, c in kb.clauses.items()
        if kb.documents[c.document].status in CURRENT
    }


def _table(kb: KnowledgeBase, current: dict[str, str], cited: set[str], lookup: set[str]) -> str:
    rows = [f"{'document':<12}{'cited':>7}{'look-up only':>14}{'missing':>9}{'total':>7}"]
    totals = Counter[str]()
    for doc_id in kb.documents:
        ids = [cid for cid, d in current.items() if d == doc_id]
        if not ids:
            continue
        n_cited = sum(1 for cid in ids if cid in cited)
        n_lookup = sum(1 for cid in ids if cid in lookup and cid not in cited)
        n_missing = len(ids) - n_cited - n_lookup
        totals.update(cited=n_cited, lookup=n_lookup, missing=n_missing, total=len(ids))
        rows.append(f"{doc_id:<12}{n_cited:>7}{n_lookup:>14}{n_missing:>9}{len(ids):>7}")
    rows.append(
        f"{'all current':<12}{totals['cited']:>7}{totals['lookup']:>14}"
        f"{totals['missing']:>9}{totals['total']:>7}"
    )
    share = totals["cited"] / totals["total"] if totals["total"] else 0.0
    rows.append(f"cited by a flow: {share:.0%} of the clauses of current documents")
    return "\n".join(rows)


def test_the_lookup_only_list_is_well_formed(engine: Engine) -> None:
    kb = engine.index.kb
    seen: Counter[str] = Counter()
    for number, entry in enumerate(_lookup_only(), start=1):
        where = f"{LOOKUP_ONLY.name} entry {number} ({entry.get('clause')})"
        assert set(entry) == {"clause", "kind", "reason"}, f"{where}: fields {sorted(entry)}"
        clause_id = entry["clause"]
        assert clause_id in kb.clauses, f"{where}: no such clause"
        status = kb.documents[kb.clauses[clause_id].document].status
        assert status in CURRENT, f"{where}: a {status} document is not counted; drop it"
        assert entry["kind"] in KINDS, f"{where}: kind must be one of {sorted(KINDS)}"
        assert len(str(entry["reason"]).split()) >= 3, (
            f"{where}: give a reason a reviewer can check"
        )
        seen[clause_id] += 1
    twice = sorted(c for c, n in seen.items() if n > 1)
    assert not twice, f"{LOOKUP_ONLY.name}: listed more than once: {twice}"


def test_every_clause_of_a_current_document_is_cited_or_lookup_only(engine: Engine) -> None:
    kb = engine.index.kb
    current = _current_clauses(kb)
    cited_by = _cited_by(engine)
    cited = set(cited_by)
    entries = _lookup_only()
    lookup = {e["clause"] for e in entries}
    table = _table(kb, current, cited, lookup)
    kinds = Counter(e["kind"] for e in entries)
    print(f"\nClause coverage (flows: {len(engine.flows)})\n{table}")
    print("look-up only by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))

    missing = [cid for cid in current if cid not in cited and cid not in lookup]
    assert not missing, (
        "clauses of current documents that no flow cites and knowledge/lookup_only.yaml does "
        "not list - cite each in the flow that walks it, or list it with a reason:\n  "
        + "\n  ".join(missing)
        + f"\n\n{table}"
    )
    stale = sorted(lookup & cited)
    assert not stale, (
        "listed as look-up only but cited by a flow - take them off knowledge/lookup_only.yaml:\n  "
        + "\n  ".join(f"{cid} (cited by {', '.join(sorted(cited_by[cid]))})" for cid in stale)
    )


def test_a_step_citing_a_historical_document_says_it_is_historical(engine: Engine) -> None:
    kb = engine.index.kb
    checked = 0
    for flow in engine.flows.values():
        for step in flow.steps:
            old = [
                c for c in step.cite if kb.documents[kb.clauses[c].document].status == "historical"
            ]
            if not old:
                continue
            checked += 1
            where = f"{flow.id}/{step.id} cites {old}"
            assert not step.draft, f"{where}: a draft must not rest on a historical document"
            text = (step.say or step.ask or "").lower()
            assert "historical" in text and "no longer exists" in text, (
                f"{where}: say plainly that the document is historical and the body no longer exists"
            )
    if not checked:
        pytest.skip("no flow cites a historical document")
