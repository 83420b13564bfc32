"""A fast subset of the slow NAS-Bench-Graph every-layout hash test (tests/spaces/test_nbgraph.py),
so the default run still checks non-canonical layouts against the reference package."""

from __future__ import annotations

import itertools

from nasrank.spaces.nbgraph import OPS, arch_hash
from tests.spaces.test_nbgraph import reference_arch  # noqa: F401  the fixture

#: Every 41st op list (41 is prime to 9, so every op appears at every position).
STRIDE = 41


def test_hash_agrees_with_package_on_every_link_list_and_a_subset_of_op_lists(reference_arch):  # noqa: F811
    links = list(itertools.product(*(range(i + 1) for i in range(4))))
    assert len(links) == 24
    op_lists = list(itertools.islice(itertools.product(OPS, repeat=4), 0, None, STRIDE))
    assert {ops[j] for ops in op_lists for j in range(4)} == set(OPS)
    count = 0
    for link in links:
        for ops in op_lists:
            if set(ops) == {"skip"}:
                continue
            count += 1
            expected = reference_arch(list(link), list(ops)).valid_hash()
            assert arch_hash((link, ops)) == expected, (link, ops)
    assert count >= 24 * (len(op_lists) - 1)
