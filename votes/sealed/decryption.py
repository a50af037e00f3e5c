"""Partial decryption with proofs, Lagrange combination, small discrete logs (CRYPTO.md §9–§10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from votes.sealed import group
from votes.sealed.ballot import Ciphertext, EncryptedTally
from votes.sealed.committee import Committee, MemberKey
from votes.sealed.group import GENERATOR, SealedError, base_mult, challenge, mult, sub, u32
from votes.sealed.sodium import IDENTITY, L


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    """M = s_ℓ·alpha for one tally ciphertext, with a Chaum–Pedersen proof (c, v)."""

    value: bytes
    c: int
    v: int

    def to_list(self) -> list[str]:
        """Return [M, c, v] as hex."""
        return [self.value.hex(), group.scalar(self.c).hex(), group.scalar(self.v).hex()]

    @classmethod
    def from_list(cls, value: object, what: str) -> DecryptionShare:
        """Read [M, c, v] or raise SealedError."""
        if not isinstance(value, list) or len(value) != 3:
            raise SealedError(f"{what}: expected [M, c, v]")
        return cls(
            group.point_from_hex(value[0], what, allow_identity=True),
            group.read_scalar(group.hex_bytes(value[1], what, 32), what),
            group.read_scalar(group.hex_bytes(value[2], what, 32), what),
        )


@dataclass(frozen=True, slots=True)
class PartialDecryption:
    """One member's decryption shares of a whole tally."""

    member: int
    rows: tuple[tuple[DecryptionShare, ...], ...]

    def to_dict(self) -> dict[str, object]:
        """Return the transport and record form."""
        return {"member": self.member, "rows": [[s.to_list() for s in row] for row in self.rows]}

    @classmethod
    def from_dict(cls, value: object) -> PartialDecryption:
        """Read the transport form or raise SealedError."""
        if not isinstance(value, dict) or not isinstance(value.get("rows"), list):
            raise SealedError("partial decryption: expected {member, rows}")
        member = value.get("member")
        if not isinstance(member, int) or isinstance(member, bool):
            raise SealedError("partial decryption: member must be an integer")
        rows = []
        for index, row in enumerate(value["rows"]):
            if not isinstance(row, list):
                raise SealedError(f"partial decryption row {index + 1}: expected a list")
            what = f"partial decryption of member {member} row {index + 1}"
            rows.append(tuple(DecryptionShare.from_list(item, what) for item in row))
        return cls(member, tuple(rows))


def _challenge(
    committee: Committee,
    context: bytes,
    member: int,
    row: int,
    option: int,
    ciphertext: Ciphertext,
    value: bytes,
    a: bytes,
    b: bytes,
) -> int:
    return challenge(
        "partial-decryption",
        [
            context,
            committee.public_key,
            u32(member),
            committee.verification_key(member),
            u32(row),
            u32(option),
            ciphertext.alpha,
            ciphertext.beta,
            value,
            a,
            b,
        ],
    )


def partial_decrypt(
    key: MemberKey, committee: Committee, context: bytes, tally: EncryptedTally
) -> PartialDecryption:
    """Compute this member's share of the decryption of every tally ciphertext, with proofs."""
    if key.public_key != committee.public_key or key.ceremony != committee.ceremony:
        raise SealedError("this member key belongs to another committee")
    if base_mult(key.secret) != committee.verification_key(key.index):
        raise SealedError("this member key does not match its verification key")
    rows = []
    for row, ciphertexts in enumerate(tally.rows):
        shares = []
        for option, ciphertext in enumerate(ciphertexts):
            value = mult(key.secret, ciphertext.alpha)
            w = group.random_scalar()
            a, b = base_mult(w), mult(w, ciphertext.alpha)
            c = _challenge(committee, context, key.index, row, option, ciphertext, value, a, b)
            shares.append(DecryptionShare(value, c, (w + c * key.secret) % L))
        rows.append(tuple(shares))
    return PartialDecryption(key.index, tuple(rows))


def partial_problems(
    committee: Committee, context: bytes, tally: EncryptedTally, partial: PartialDecryption
) -> list[str]:
    """Return what is wrong with a partial decryption (empty when every proof verifies)."""
    if not 1 <= partial.member <= committee.n:
        return [f"partial decryption: no member {partial.member}"]
    if tuple(len(row) for row in partial.rows) != tuple(len(row) for row in tally.rows):
        return [f"partial decryption of member {partial.member}: not the tally's shape"]
    verification_key = committee.verification_key(partial.member)
    problems = []
    for row, (ciphertexts, shares) in enumerate(zip(tally.rows, partial.rows, strict=True)):
        for option, (ciphertext, share) in enumerate(zip(ciphertexts, shares, strict=True)):
            a = sub(base_mult(share.v), mult(share.c, verification_key))
            b = sub(mult(share.v, ciphertext.alpha), mult(share.c, share.value))
            expected = _challenge(
                committee, context, partial.member, row, option, ciphertext, share.value, a, b
            )
            if share.c != expected:
                problems.append(
                    f"partial decryption of member {partial.member}, row {row + 1} "
                    f"option {option + 1}: proof fails"
                )
    return problems


def verify_partial(
    committee: Committee, context: bytes, tally: EncryptedTally, partial: PartialDecryption
) -> None:
    """Raise SealedError unless every decryption share of the partial decryption is proven."""
    problems = partial_problems(committee, context, tally, partial)
    if problems:
        raise SealedError("; ".join(problems))


def discrete_log_table(max_count: int) -> dict[bytes, int]:
    """Return {t·G: t} for t = 0..max_count (baby steps by repeated addition)."""
    table = {IDENTITY: 0}
    point = IDENTITY
    for t in range(1, max_count + 1):
        point = group.add(point, GENERATOR)
        table[point] = t
    return table


def combine(
    committee: Committee,
    context: bytes,
    tally: EncryptedTally,
    partials: Sequence[PartialDecryption],
    max_count: int | None = None,
) -> list[list[int]]:
    """Check the partial decryptions, combine k of them (Lagrange) and return the totals.

    Any k distinct members suffice; with more, the k lowest member numbers are used. Fewer than
    k valid partial decryptions raise SealedError: the tally cannot be decrypted. Each row's
    last option is not decrypted: its total is the number of ballots minus the others'
    (docs/CRYPTO.md §10); totals that would make it negative raise SealedError.
    """
    for partial in partials:
        verify_partial(committee, context, tally, partial)
    return combine_checked(committee, tally, partials, max_count)


def combine_checked(
    committee: Committee,
    tally: EncryptedTally,
    partials: Sequence[PartialDecryption],
    max_count: int | None = None,
) -> list[list[int]]:
    """combine for partial decryptions whose proofs the caller has just checked (partial_problems
    found nothing): the same combination, without checking every proof a second time."""
    by_member: dict[int, PartialDecryption] = {}
    for partial in partials:
        if partial.member in by_member:
            raise SealedError(f"two partial decryptions from member {partial.member}")
        by_member[partial.member] = partial
    if len(by_member) < committee.k:
        raise SealedError(
            f"{len(by_member)} partial decryptions for a threshold of {committee.k}: "
            "the tally cannot be decrypted"
        )
    present = sorted(by_member)[: committee.k]
    coefficients = {index: group.lagrange(index, present) for index in present}
    limit = tally.count if max_count is None else max_count
    table = discrete_log_table(limit)
    totals = []
    for row, ciphertexts in enumerate(tally.rows):
        counts = []
        for option, ciphertext in enumerate(ciphertexts):
            mask = group.total(
                [
                    mult(coefficients[index], by_member[index].rows[row][option].value)
                    for index in present
                ]
            )
            found = table.get(sub(ciphertext.beta, mask))
            if found is None:
                raise SealedError(
                    f"row {row + 1} option {option + 1}: the total is not between 0 and {limit}"
                )
            counts.append(found)
        last = tally.count - sum(counts)
        if last < 0:
            raise SealedError(
                f"row {row + 1}: the decrypted totals add up to more than the {tally.count} ballots"
            )
        totals.append([*counts, last])
    return totals
