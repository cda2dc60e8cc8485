"""Token verification: the claims a service trusts (contract §0), the HIS hospitals claim failing closed."""

import pytest

from fupin_kit.auth import TokenVerifier, hospitals_claim
from fupin_kit.errors import AppError
from fupin_kit.testing import generate_keypair, mint_token

PRIVATE, PUBLIC = generate_keypair()


def verifier() -> TokenVerifier:
    return TokenVerifier(PUBLIC, issuer="fupin-gateway", audience="fupin")


def test_the_hospitals_claim_lists_codes_star_means_all_absent_means_none() -> None:
    assert hospitals_claim(["*"]) is None
    assert hospitals_claim(["HOTHER01", "H2"]) == frozenset({"HOTHER01", "H2"})
    for bad in (None, "HOTHER01", [1], {"a": 1}):
        assert hospitals_claim(bad) == frozenset()


def test_an_his_token_acts_only_for_its_hospitals() -> None:
    other = verifier().verify(mint_token(PRIVATE, "his-other", "medical:settle", hospitals=("HOTHER01",)))
    assert other.acts_for_hospital("HOTHER01") and not other.acts_for_hospital("H1")
    every = verifier().verify(mint_token(PRIVATE, "his-demo", "medical:settle", hospitals=("*",)))
    assert every.acts_for_hospital("H1") and every.acts_for_hospital("HOTHER01")
    bare = verifier().verify(mint_token(PRIVATE, "his-x", "medical:settle"))
    assert not bare.acts_for_hospital("H1")


def test_a_token_signed_by_another_key_is_refused() -> None:
    stranger, _ = generate_keypair()
    with pytest.raises(AppError) as refused:
        verifier().verify(mint_token(stranger, "gov-portal", "registry:read"))
    assert refused.value.status == 401
