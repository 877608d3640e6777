"""clara.domain.accounts.totp without AWS: the secret at rest, the time-step window, recovery codes."""

import pyotp
import pytest
from cryptography.exceptions import InvalidTag

from clara.domain.accounts import totp


def test_the_secret_is_encrypted_for_its_user_only():
    stored = totp.encrypt("user_a", "JBSWY3DPEHPK3PXP")

    assert "JBSWY3DPEHPK3PXP" not in stored
    assert stored != totp.encrypt("user_a", "JBSWY3DPEHPK3PXP")  # a fresh nonce each time
    assert totp.decrypt("user_a", stored) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidTag):
        totp.decrypt("user_b", stored)  # copied to another user's item, it does not decrypt


@pytest.mark.parametrize(("offset", "expected"), [(-2, None), (-1, -1), (0, 0), (1, 1), (2, None)])
def test_a_code_matches_its_step_within_one_either_side(offset, expected):
    secret = pyotp.random_base32()
    now = 1_800_000_015.0
    step = int(now // 30)
    code = pyotp.TOTP(secret).at(now + offset * 30)

    found = totp._matching_step(secret, code, now)

    assert found == (None if expected is None else step + expected) or (
        found is not None and pyotp.TOTP(secret).at(found * 30) == code  # a rare collision with another step
    )


def test_recovery_codes_are_distinct_and_hashed_case_insensitively():
    codes, hashes = totp.new_recovery_codes("user_a")

    assert len(set(codes)) == 10 and all(len(code) == 11 and code[5] == "-" for code in codes)
    assert set(hashes) == {totp.recovery_hash("user_a", code.upper()) for code in codes}
    assert totp.recovery_hash("user_b", codes[0]) not in hashes
