"""Every registered space passes the shipped space contract (nasrank.testing.spaces)."""

from __future__ import annotations

import pytest

from nasrank.spaces import SPACES, get_space
from nasrank.testing import SPACE_CHECKS, check_space, parametrize_checks
from nasrank.testing.spaces import BAD_IDS, check_bad_ids_rejected


@pytest.fixture(scope="module", params=SPACES.names())
def space(request):
    return get_space(request.param)


@parametrize_checks(SPACE_CHECKS)
def test_space_contract(space, check):
    check(space)


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_bad_ids_rejected_with_message(space, bad):
    check_bad_ids_rejected(space, (bad,))


def test_check_space_accepts_a_name_a_class_and_an_instance():
    for form in ("nb201", SPACES.get("nb201"), get_space("nb201")):
        check_space(form)


def test_the_contract_catches_a_space_whose_sampling_ignores_the_seed():
    class Constant(type(get_space("nb201"))):
        def sample(self, seed=None):
            return super().sample(0)

    with pytest.raises(AssertionError, match="sampled one architecture"):
        check_space(Constant())
