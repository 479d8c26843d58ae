"""Vector segments by size: exact (flat) when small, approximate (IVF) when large.

A segment of at most :attr:`SegmentPlan.flat_up_to` vectors is exact: FAISS ``IDMap2,Flat``,
every vector compared with the question. A larger one is ``IVF{nlist},Flat``: its vectors are
filed under the nearest of ``nlist`` centroids, and a search compares the question with the
vectors of the ``nprobe`` nearest lists only. The centroids are trained once, on the first
segment that is large enough, and every later approximate segment of the index is built on the
same ones, so that merging approximate segments copies their lists (no vector is filed again).

Measured on this machine before choosing (a one-off script; vectors made as bench/scale.py
makes them: real MiniLM passage vectors repeated with noise; real eval questions; one thread;
centroids trained on 50,000 vectors): a flat segment of 50,000 vectors answers a question in
3.6 ms and one of 100,000 in 15 ms; IVF1024 with ``nprobe=32`` in 0.3 ms at 50,000 and 2.2 ms
at 400,000, with recall@10 against exact search of 0.96 at 10,000 vectors and 0.99 from 50,000
up. Hence :data:`DEFAULT_PLAN`: flat up to 50,000 (training 1,024 centroids wants 39 vectors
each, about 40,000), IVF1024 with 32 lists probed above; and the store merges its exact
segments into one IVF segment once together they hold more than 50,000 vectors.

Filters: a search may be limited to some vector ids (a FAISS ``IDSelector``). An IVF search
sees only the allowed vectors in the lists it probes, so when few vectors are allowed it would
find fewer than ``k``. When at most :data:`EXACT_FILTER_UP_TO` vectors are allowed every list is
probed (the search is then exact); above, the lists probed grow as the allowed share shrinks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

#: A filtered search among at most this many vectors is exact (as in the PostgreSQL store).
EXACT_FILTER_UP_TO = 20_000
#: The vectors k-means trains the centroids on, per centroid at most (FAISS's own default).
TRAINING_PER_CENTROID = 256


@dataclass(frozen=True)
class SegmentPlan:
    """Which kind of FAISS index a segment is, by its size, and how it is searched.

    Attributes:
        flat_up_to: Segments of at most this many vectors are exact; None: all are (indexes
            made before approximate segments).
        approximate: The FAISS factory string of larger segments, ``"IVF{nlist},Flat"``.
        nprobe: Lists an unfiltered search of an approximate segment probes.
    """

    flat_up_to: int | None = None
    approximate: str = "IVF1024,Flat"
    nprobe: int = 32

    @property
    def nlist(self) -> int:
        return int(self.approximate.split(",")[0].removeprefix("IVF"))

    def is_flat(self, size: int) -> bool:
        return self.flat_up_to is None or size <= self.flat_up_to

    def check(self) -> None:
        """Raises ValueError if the plan cannot be built (the message says which value)."""
        head, _, tail = self.approximate.partition(",")
        if tail != "Flat" or not head.startswith("IVF") or not head[3:].isdigit():
            raise ValueError(f"approximate={self.approximate!r} is not 'IVF<nlist>,Flat'")
        if not 1 <= self.nprobe <= self.nlist:
            raise ValueError(f"nprobe={self.nprobe} must be between 1 and nlist={self.nlist}")
        if self.flat_up_to is not None and self.flat_up_to < self.nlist:
            raise ValueError(f"flat_up_to={self.flat_up_to} is below nlist={self.nlist}: "
                             "an approximate segment needs more vectors than centroids")


#: What a new index uses (see the module docstring for the measurements behind it).
DEFAULT_PLAN = SegmentPlan(flat_up_to=50_000, approximate="IVF1024,Flat", nprobe=32)


def is_approximate(index: faiss.Index) -> bool:
    return isinstance(index, faiss.IndexIVF)


def build_segment(ids: np.ndarray, vectors: np.ndarray, plan: SegmentPlan,
                  others: Iterable[faiss.Index] = ()) -> faiss.Index:
    """A segment holding ``vectors`` under ``ids``: flat or IVF by ``plan`` and their number.
    An IVF segment is built on the centroids of the first IVF segment among ``others`` (the
    index's segments), or trains them on these vectors when there is none."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    dimension = vectors.shape[1]
    if plan.is_flat(len(ids)):
        index = faiss.index_factory(dimension, "IDMap2,Flat", faiss.METRIC_INNER_PRODUCT)
        index.add_with_ids(vectors, ids)
        return index
    index = _empty_ivf(dimension, plan, others, vectors)
    index.add_with_ids(vectors, ids)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct(vector id)
    return index


def merge_segments(parts: Iterable[faiss.Index], dead: np.ndarray, plan: SegmentPlan,
                   dimension: int, others: Iterable[faiss.Index] = ()) -> faiss.Index | None:
    """One segment holding the vectors of ``parts`` less the ids in ``dead`` (None if none
    are left). Lists of IVF parts built on the chosen centroids are copied as they are;
    other parts' vectors are filed anew."""
    parts = list(parts)
    dead = np.asarray(dead, dtype=np.int64)
    live = sum(part.ntotal for part in parts) - int(np.isin(dead, segment_ids_all(parts)).sum())
    if live == 0:
        return None
    if plan.is_flat(live):
        ids, vectors = zip(*(segment_contents(part) for part in parts))
        ids, vectors = np.concatenate(ids), np.concatenate(vectors)
        keep = ~np.isin(ids, dead)
        return build_segment(ids[keep], vectors[keep], plan)
    candidates = [*parts, *others]
    merged = _empty_ivf(dimension, plan, candidates,
                        lambda: _training_sample(parts, dimension))
    centroids = _centroids(merged)
    for part in parts:
        if is_approximate(part) and np.array_equal(_centroids(part), centroids):
            _copy_lists(part, merged, dead)
        else:
            ids, vectors = segment_contents(part)
            keep = ~np.isin(ids, dead)
            merged.add_with_ids(vectors[keep], ids[keep])
    merged.set_direct_map_type(faiss.DirectMap.Hashtable)
    return merged


def search_segments(segments: Iterable[faiss.Index], queries: np.ndarray, k: int,
                    plan: SegmentPlan, selector: faiss.IDSelector | None,
                    searchable: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Searches each segment for the top ``k`` of each query among the ids ``selector``
    admits (all when None), of which there are ``searchable``.

    Returns:
        Per segment, its ``(scores, ids)``, each ``(len(queries), min(k, its size))``.
    """
    segments = [index for index in segments if index.ntotal]
    total = sum(index.ntotal for index in segments)
    flat_params = faiss.SearchParameters(sel=selector) if selector is not None else None
    nprobe = probes(plan, searchable, total)
    all_scores, all_ids = [], []
    for index in segments:
        if is_approximate(index):
            params = faiss.SearchParametersIVF(nprobe=min(nprobe, index.nlist))
            if selector is not None:
                params.sel = selector
        else:
            params = flat_params
        scores, ids = index.search(queries, min(k, index.ntotal), params=params)
        all_scores.append(scores)
        all_ids.append(ids)
    return all_scores, all_ids


def probes(plan: SegmentPlan, searchable: int, total: int) -> int:
    """Lists an IVF search probes when ``searchable`` of the ``total`` vectors may be
    returned: all of them (exact) when few may, else :attr:`SegmentPlan.nprobe` grown by
    ``total / searchable`` so that as many allowed vectors are compared as unfiltered."""
    if searchable <= EXACT_FILTER_UP_TO:
        return plan.nlist
    return min(plan.nlist, math.ceil(plan.nprobe * total / searchable))


def segment_ids(index: faiss.Index) -> np.ndarray:
    """The vector ids a segment holds."""
    if not is_approximate(index):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    lists = index.invlists
    found = [faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
             for number in range(index.nlist) if (size := lists.list_size(number))]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def segment_ids_all(parts: Iterable[faiss.Index]) -> np.ndarray:
    found = [segment_ids(part) for part in parts]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def segment_contents(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, vectors)`` of a segment, row for row."""
    ids = segment_ids(index)
    if not is_approximate(index):
        return ids, index.index.reconstruct_n(0, index.ntotal)
    vectors = np.zeros((len(ids), index.d), dtype=np.float32)
    if len(ids):
        index.reconstruct_batch(ids, vectors)
    return ids, vectors


def read_segment(file: Path) -> faiss.Index:
    """A segment memory-mapped (flat vectors and IVF lists stay in the page cache, shared by
    every process searching the index)."""
    return faiss.read_index(str(file), faiss.IO_FLAG_MMAP_IFC)


def plan_from_values(values: Mapping[str, object]) -> SegmentPlan:
    """The plan of a manifest's ``flat_up_to``, ``approximate`` and ``nprobe`` (absent: the
    index was made before approximate segments, and every segment is flat)."""
    if values.get("flat_up_to") is None:
        return SegmentPlan()
    plan = SegmentPlan(int(values["flat_up_to"]), str(values["approximate"]),
                       int(values["nprobe"]))
    plan.check()
    return plan


# -- internals ---------------------------------------------------------------------------


def _empty_ivf(dimension: int, plan: SegmentPlan, others: Iterable[faiss.Index],
               training: np.ndarray | object) -> faiss.IndexIVF:
    """An empty IVF index on the centroids of the first IVF segment among ``others`` with
    ``plan``'s nlist, else trained on ``training`` (vectors, or a function giving them)."""
    index = faiss.index_factory(dimension, plan.approximate, faiss.METRIC_INNER_PRODUCT)
    for other in others:
        if is_approximate(other) and other.nlist == plan.nlist and other.d == dimension:
            index.quantizer.add(_centroids(other))
            index.is_trained = True
            return index
    vectors = training() if callable(training) else training
    limit = TRAINING_PER_CENTROID * plan.nlist
    if len(vectors) > limit:
        rows = np.random.default_rng(0).choice(len(vectors), limit, replace=False)
        vectors = vectors[np.sort(rows)]
    index.train(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _centroids(index: faiss.IndexIVF) -> np.ndarray:
    quantizer = faiss.downcast_index(index.quantizer)
    return quantizer.reconstruct_n(0, quantizer.ntotal)


def _training_sample(parts: list[faiss.Index], dimension: int) -> np.ndarray:
    vectors = [segment_contents(part)[1] for part in parts]
    return np.concatenate(vectors) if vectors else np.zeros((0, dimension), np.float32)


def _copy_lists(source: faiss.IndexIVF, target: faiss.IndexIVF, dead: np.ndarray) -> None:
    """Appends the source's lists (less the ``dead`` ids) to the target's, which has the same
    centroids. The source is left as it is (it may be memory-mapped, hence read-only)."""
    lists, code_size = source.invlists, source.code_size
    added = 0
    for number in range(source.nlist):
        size = lists.list_size(number)
        if not size:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
        codes = faiss.rev_swig_ptr(lists.get_codes(number), size * code_size).copy()
        keep = ~np.isin(ids, dead)
        ids, codes = ids[keep], codes.reshape(size, code_size)[keep]
        if len(ids):
            target.invlists.add_entries(number, len(ids), faiss.swig_ptr(ids),
                                        faiss.swig_ptr(np.ascontiguousarray(codes)))
            added += len(ids)
    target.ntotal += added
