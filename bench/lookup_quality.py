"""Look-up quality and speed, against plain baselines on the same clauses, in one run.

    python bench/lookup_quality.py            # figures for the README
    python bench/lookup_quality.py --misses   # also list the questions the look-up misses

Quality: hit@1, hit@3 and MRR over bench/lookup_eval.yaml (split dev = tuned on, test =
held out), for protocol-bot's look-up, BM25 (rank-bm25) and rapidfuzz token_set_ratio.
Speed: look-up latency p50/p99 with the index loaded, index build time, the same for a
synthetic base of 10,000 clauses, and cold start of the CLI to its first answer.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from scripted_users import percentile  # noqa: E402

from bot.kb import ClauseIndex, Glossary, KnowledgeBase, load_topics  # noqa: E402
from bot.kb.model import Clause  # noqa: E402

Ranker = Callable[[str], list[str]]


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def evaluate(rank: Ranker, questions: list[dict]) -> dict[str, float]:
    h1 = h3 = rr = 0.0
    for q in questions:
        ranked = rank(q["q"])[:10]
        expected = set(q["expect"])
        positions = [i for i, cid in enumerate(ranked) if cid in expected]
        if positions:
            first = positions[0]
            h1 += first == 0
            h3 += first < 3
            rr += 1 / (first + 1)
    n = len(questions) or 1
    return {"hit@1": h1 / n, "hit@3": h3 / n, "MRR": rr / n, "n": len(questions)}


def latency(index: ClauseIndex, queries: list[str], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            index.search(q, k=3)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 99)


def synthetic(kb: KnowledgeBase, size: int) -> KnowledgeBase:
    """10,000 clauses made by recombining real sentences, so the vocabulary is realistic."""
    rng = random.Random(7)
    sentences = [s for c in kb.clauses.values() for s in re.split(r"(?<=[.:;])\s+", c.text) if s]
    clauses = dict(kb.clauses)
    for i in range(size - len(clauses)):
        text = " ".join(rng.sample(sentences, 3))
        doc = rng.choice(list(kb.documents))
        cid = f"{doc}/synthetic/{i}"
        clauses[cid] = Clause(cid, doc, "Synthetic section", f"para s{i}", text, 1, 1)
    return replace(kb, clauses=clauses)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    questions = yaml.safe_load((ROOT / "bench" / "lookup_eval.yaml").read_text(encoding="utf-8"))
    knowledge = ROOT / "knowledge"
    start = time.perf_counter()
    kb = KnowledgeBase.load(knowledge)
    glossary = Glossary.load(knowledge / "glossary.yaml")
    topics = load_topics(knowledge)
    index = ClauseIndex(kb, glossary, topics)
    build_ms = (time.perf_counter() - start) * 1000
    ids = list(kb.clauses)
    corpus = [tokens(c.heading + " " + c.text) for c in kb.clauses.values()]
    bm25 = BM25Okapi(corpus)

    def ours(q: str) -> list[str]:
        return [h.clause.id for h in index.search(q, k=10).hits]

    def plain_bm25(q: str) -> list[str]:
        scores = bm25.get_scores(tokens(q))
        return [ids[i] for i in sorted(range(len(ids)), key=lambda i: -scores[i])[:10]]

    texts = [c.text for c in kb.clauses.values()]

    def token_set(q: str) -> list[str]:
        scores = [fuzz.token_set_ratio(q, t) for t in texts]
        return [ids[i] for i in sorted(range(len(ids)), key=lambda i: -scores[i])[:10]]

    print(f"look-up evaluation: {len(questions)} questions over {len(ids)} clauses")
    print(f"{'ranker':24} {'split':6} {'n':>4} {'hit@1':>7} {'hit@3':>7} {'MRR':>7}")
    for name, rank in (
        ("protocol-bot", ours),
        ("BM25 (rank-bm25)", plain_bm25),
        ("rapidfuzz token_set", token_set),
    ):
        for split in ("all", "dev", "test"):
            subset = [q for q in questions if split == "all" or q.get("split") == split]
            r = evaluate(rank, subset)
            print(
                f"{name:24} {split:6} {r['n']:4} {r['hit@1']:7.3f} {r['hit@3']:7.3f} {r['MRR']:7.3f}"
            )
    print("\nprotocol-bot by kind (all):")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for q in questions:
        by_kind[q["kind"]].append(q)
    for kind, subset in sorted(by_kind.items()):
        r = evaluate(ours, subset)
        print(f"  {kind:12} n={r['n']:3}  hit@1 {r['hit@1']:.3f}  hit@3 {r['hit@3']:.3f}")
    if args.misses:
        print("\nmisses at 1:")
        for q in questions:
            got = ours(q["q"])[:3]
            if not got or got[0] not in q["expect"]:
                print(
                    f"  [{q.get('split')}/{q['kind']}] {q['q']!r}\n      want {q['expect']} got {got}"
                )

    queries = [q["q"] for q in questions]
    p50, p99 = latency(index, queries, rounds=5)
    print(
        f"\nspeed, real base ({len(ids)} clauses): index build {build_ms:.1f} ms, "
        f"look-up p50 {p50:.3f} ms, p99 {p99:.3f} ms"
    )
    big = synthetic(kb, 10_000)
    start = time.perf_counter()
    big_index = ClauseIndex(big, glossary, topics)
    big_build = (time.perf_counter() - start) * 1000
    p50, p99 = latency(big_index, queries, rounds=2)
    print(
        f"speed, synthetic base (10,000 clauses): index build {big_build:.0f} ms, "
        f"look-up p50 {p50:.3f} ms, p99 {p99:.3f} ms"
    )
    colds = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "lookup", "lgo 17", "--json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        colds.append((time.perf_counter() - start) * 1000)
    print(
        f"cold start, `python -m bot lookup` to first answer: median {statistics.median(colds):.0f} ms "
        f"(min {min(colds):.0f}, max {max(colds):.0f}) over 5 runs"
    )


if __name__ == "__main__":
    main()
