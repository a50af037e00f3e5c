"""The counting committee's k-of-n key ceremony (docs/CRYPTO.md §8).

Pedersen's distributed key generation with Feldman commitments, as ElectionGuard 2.0 §3.2 and
Belenios' threshold mode do it: every member i draws a polynomial P_i of degree k−1, publishes
commitments K_ij = a_ij·G with Schnorr proofs of knowledge and a share-encryption key κ_i, sends
P_i(ℓ) to every other member ℓ encrypted to κ_ℓ, and every recipient checks each share against
the sender's commitments. The joint key is K = Σ_i K_i0; member ℓ's key is s_ℓ = Σ_i P_i(ℓ), and
its verification key VK_ℓ = Σ_i Σ_j ℓ^j·K_ij = s_ℓ·G is computed by anyone from the commitments.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from votes.sealed import group, sodium
from votes.sealed.group import SealedError, base_mult, challenge, mult, sub, u32
from votes.sealed.sodium import L

MAX_MEMBERS: Final = 50
SHARE_NONCE: Final = bytes(sodium.SECRETBOX_NONCE_BYTES)


class CeremonyError(SealedError):
    """A ceremony step failed; `member` names the member at fault when one is known."""

    def __init__(self, message: str, member: int | None = None) -> None:
        super().__init__(message)
        self.member = member


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """Proof of knowledge of the discrete logarithm of a published point: (c, v)."""

    c: int
    v: int

    def to_list(self) -> list[str]:
        """Return [c, v] as hex scalars."""
        return [group.scalar(self.c).hex(), group.scalar(self.v).hex()]

    @classmethod
    def from_list(cls, value: object, what: str) -> SchnorrProof:
        """Read [c, v] or raise SealedError."""
        if not isinstance(value, list) or len(value) != 2:
            raise SealedError(f"{what}: expected [c, v]")
        return cls(
            group.read_scalar(group.hex_bytes(value[0], what, 32), what),
            group.read_scalar(group.hex_bytes(value[1], what, 32), what),
        )


def ceremony_context(scope: str, label: str, k: int, n: int) -> bytes:
    """Return the 32-byte context of a key ceremony (installation scope, committee label, k, n)."""
    check_threshold(k, n)
    return group.digest(
        "ceremony",
        [
            unicodedata.normalize("NFC", scope).encode("utf-8"),
            unicodedata.normalize("NFC", label).encode("utf-8"),
            u32(k),
            u32(n),
        ],
    )


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_threshold(k: int, n: int) -> None:
    """Refuse a threshold that is not 1 ≤ k ≤ n ≤ MAX_MEMBERS."""
    if not 1 <= k <= n <= MAX_MEMBERS:
        raise CeremonyError(f"threshold {k} of {n}: 1 ≤ k ≤ n ≤ {MAX_MEMBERS} is required")


def _schnorr(tag: str, parts: list[bytes], secret: int, public: bytes) -> SchnorrProof:
    u = group.random_scalar()
    h = base_mult(u)
    c = challenge(tag, [*parts, public, h])
    return SchnorrProof(c, (u + c * secret) % L)


def _schnorr_valid(tag: str, parts: list[bytes], public: bytes, proof: SchnorrProof) -> bool:
    h = sub(base_mult(proof.v), mult(proof.c, public))
    return proof.c == challenge(tag, [*parts, public, h])


@dataclass(frozen=True, slots=True)
class MemberPublic:
    """What a member publishes: commitments K_i0..K_i(k−1), their proofs, the share key κ_i."""

    index: int
    k: int
    n: int
    commitments: tuple[bytes, ...]
    proofs: tuple[SchnorrProof, ...]
    share_key: bytes
    share_key_proof: SchnorrProof

    def to_dict(self) -> dict[str, object]:
        """Return the record's form."""
        return {
            "index": self.index,
            "k": self.k,
            "n": self.n,
            "commitments": [point.hex() for point in self.commitments],
            "proofs": [proof.to_list() for proof in self.proofs],
            "share_key": self.share_key.hex(),
            "share_key_proof": self.share_key_proof.to_list(),
        }

    @classmethod
    def from_dict(cls, value: object) -> MemberPublic:
        """Read the record's form (points and scalars checked, proofs not yet) or raise."""
        if not isinstance(value, dict):
            raise SealedError("member: expected an object")
        index, k, n = value.get("index"), value.get("k"), value.get("n")
        if not (_integer(index) and _integer(k) and _integer(n)):
            raise SealedError("member: index, k and n must be integers")
        assert isinstance(index, int)
        assert isinstance(k, int)
        assert isinstance(n, int)
        check_threshold(k, n)
        commitments, proofs = value.get("commitments"), value.get("proofs")
        if not isinstance(commitments, list) or not isinstance(proofs, list):
            raise SealedError(f"member {index}: commitments and proofs must be lists")
        return cls(
            index,
            k,
            n,
            tuple(group.point_from_hex(p, f"member {index} commitment") for p in commitments),
            tuple(SchnorrProof.from_list(p, f"member {index} proof") for p in proofs),
            group.point_from_hex(value.get("share_key"), f"member {index} share key"),
            SchnorrProof.from_list(value.get("share_key_proof"), f"member {index} share key proof"),
        )


@dataclass(frozen=True, slots=True)
class MemberSecret:
    """A member's secrets during the ceremony: polynomial coefficients and share-key secret."""

    ceremony: bytes
    index: int
    k: int
    n: int
    coefficients: tuple[int, ...] = field(repr=False)
    share_secret: int = field(repr=False)

    def share_for(self, recipient: int) -> int:
        """Return P_i(recipient)."""
        return sum(a * pow(recipient, j, L) for j, a in enumerate(self.coefficients)) % L


@dataclass(frozen=True, slots=True)
class MemberKey:
    """A member's final key s_ℓ, with the joint key and its own verification key for checking."""

    ceremony: bytes
    index: int
    k: int
    n: int
    secret: int = field(repr=False)
    public_key: bytes
    verification_key: bytes


@dataclass(frozen=True, slots=True)
class EncryptedShare:
    """P_sender(recipient), encrypted to the recipient's share key (docs/CRYPTO.md §8.3)."""

    sender: int
    recipient: int
    ephemeral: bytes
    box: bytes

    def to_dict(self) -> dict[str, object]:
        """Return the transport form."""
        return {
            "sender": self.sender,
            "recipient": self.recipient,
            "ephemeral": self.ephemeral.hex(),
            "box": self.box.hex(),
        }

    @classmethod
    def from_dict(cls, value: object) -> EncryptedShare:
        """Read the transport form or raise SealedError."""
        if not isinstance(value, dict):
            raise SealedError("share: expected an object")
        sender, recipient = value.get("sender"), value.get("recipient")
        if not isinstance(sender, int) or not isinstance(recipient, int):
            raise SealedError("share: sender and recipient must be integers")
        return cls(
            sender,
            recipient,
            group.point_from_hex(value.get("ephemeral"), "share ephemeral key"),
            group.hex_bytes(value.get("box"), "share box", 32 + sodium.SECRETBOX_MAC_BYTES),
        )


@dataclass(frozen=True, slots=True)
class Committee:
    """The committee's public values: the members' public parts, joint and verification keys."""

    ceremony: bytes
    k: int
    n: int
    members: tuple[MemberPublic, ...]
    public_key: bytes
    verification_keys: tuple[bytes, ...]

    @property
    def single(self) -> bool:
        """Tell whether this is the weaker single-member mode (one person holds the whole key)."""
        return self.n == 1

    def verification_key(self, index: int) -> bytes:
        """Return VK_index."""
        if not 1 <= index <= self.n:
            raise SealedError(f"no member {index} in a committee of {self.n}")
        return self.verification_keys[index - 1]

    def to_dict(self) -> dict[str, object]:
        """Return the record's form (the derived keys are included for readers, and rechecked)."""
        return {
            "ceremony": self.ceremony.hex(),
            "k": self.k,
            "n": self.n,
            "mode": "single" if self.single else "threshold",
            "members": [member.to_dict() for member in self.members],
            "public_key": self.public_key.hex(),
            "verification_keys": [key.hex() for key in self.verification_keys],
        }

    @classmethod
    def from_dict(cls, value: object) -> Committee:
        """Read the record's form, check every proof and recompute the derived keys."""
        if not isinstance(value, dict) or not isinstance(value.get("members"), list):
            raise SealedError("committee: expected {ceremony, k, n, members}")
        ceremony = group.hex_bytes(value.get("ceremony"), "committee ceremony", 32)
        committee = make_committee(ceremony, [MemberPublic.from_dict(m) for m in value["members"]])
        if value.get("k") != committee.k or value.get("n") != committee.n:
            raise SealedError("committee: k or n differ from the members' values")
        if value.get("public_key") != committee.public_key.hex():
            raise SealedError("committee: the joint public key is not the members' combination")
        if value.get("verification_keys") != [key.hex() for key in committee.verification_keys]:
            raise SealedError("committee: a verification key is not derived from the commitments")
        if value.get("mode") != ("single" if committee.single else "threshold"):
            raise SealedError("committee: the mode does not match n")
        return committee


def new_member(ceremony: bytes, index: int, k: int, n: int) -> tuple[MemberPublic, MemberSecret]:
    """Draw member index's polynomial and share key; return its public part and its secrets."""
    check_threshold(k, n)
    if not 1 <= index <= n:
        raise CeremonyError(f"member number {index} outside 1..{n}")
    coefficients = tuple(group.random_scalar() for _ in range(k))
    commitments = tuple(base_mult(a) for a in coefficients)
    proofs = tuple(
        _schnorr("coefficient", [ceremony, u32(index), u32(j)], a, commitment)
        for j, (a, commitment) in enumerate(zip(coefficients, commitments, strict=True))
    )
    share_secret = group.random_scalar()
    share_key = base_mult(share_secret)
    share_key_proof = _schnorr("share-key", [ceremony, u32(index)], share_secret, share_key)
    public = MemberPublic(index, k, n, commitments, proofs, share_key, share_key_proof)
    return public, MemberSecret(ceremony, index, k, n, coefficients, share_secret)


def member_problems(ceremony: bytes, member: MemberPublic) -> list[str]:
    """Return what is wrong with a member's public part (empty when every proof verifies)."""
    problems = []
    if len(member.commitments) != member.k or len(member.proofs) != member.k:
        return [f"member {member.index}: {member.k} commitments with proofs expected"]
    for j, (commitment, proof) in enumerate(zip(member.commitments, member.proofs, strict=True)):
        parts = [ceremony, u32(member.index), u32(j)]
        if not _schnorr_valid("coefficient", parts, commitment, proof):
            problems.append(f"member {member.index}: proof for commitment {j} fails")
    if not _schnorr_valid(
        "share-key", [ceremony, u32(member.index)], member.share_key, member.share_key_proof
    ):
        problems.append(f"member {member.index}: proof for the share key fails")
    return problems


def _evaluate(commitments: Sequence[bytes], at: int) -> bytes:
    """Return Σ_j at^j·K_j (the public image of P(at))."""
    return group.total([mult(pow(at, j, L), point) for j, point in enumerate(commitments)])


def make_committee(ceremony: bytes, members: Sequence[MemberPublic]) -> Committee:
    """Check every member's public part and derive the joint key and the verification keys."""
    if not members:
        raise CeremonyError("a committee needs members")
    k, n = members[0].k, members[0].n
    check_threshold(k, n)
    ordered = sorted(members, key=lambda member: member.index)
    if [m.index for m in ordered] != list(range(1, n + 1)):
        raise CeremonyError(f"members 1..{n} are needed, each once")
    for member in ordered:
        if (member.k, member.n) != (k, n):
            raise CeremonyError(f"member {member.index}: another threshold", member.index)
        problems = member_problems(ceremony, member)
        if problems:
            raise CeremonyError("; ".join(problems), member.index)
    public_key = group.total([member.commitments[0] for member in ordered])
    group.check_point(public_key, "joint public key")
    # VK_ℓ = Σ_i Σ_j ℓ^j·K_ij = Σ_j ℓ^j·(Σ_i K_ij): sum the commitments of each degree first
    # (the same value with k scalar multiplications per member instead of n·k).
    by_degree = [group.total([member.commitments[j] for member in ordered]) for j in range(k)]
    verification_keys = tuple(_evaluate(by_degree, index) for index in range(1, n + 1))
    return Committee(ceremony, k, n, tuple(ordered), public_key, verification_keys)


def _share_key(
    ceremony: bytes,
    sender: int,
    recipient: int,
    ephemeral: bytes,
    recipient_key: bytes,
    shared: bytes,
) -> bytes:
    return group.digest(
        "share-encryption",
        [ceremony, u32(sender), u32(recipient), ephemeral, recipient_key, shared],
    )


def make_shares(secret: MemberSecret, committee: Committee) -> list[EncryptedShare]:
    """Encrypt P_i(ℓ) to every other member ℓ's share key (hashed ElGamal + secretbox)."""
    _check_own(secret, committee)
    shares = []
    for member in committee.members:
        if member.index == secret.index:
            continue
        e = group.random_scalar()
        ephemeral = base_mult(e)
        key = _share_key(
            secret.ceremony,
            secret.index,
            member.index,
            ephemeral,
            member.share_key,
            mult(e, member.share_key),
        )
        box = sodium.secretbox(group.scalar(secret.share_for(member.index)), SHARE_NONCE, key)
        shares.append(EncryptedShare(secret.index, member.index, ephemeral, box))
    return shares


def _check_own(secret: MemberSecret, committee: Committee) -> None:
    if secret.ceremony != committee.ceremony or (secret.k, secret.n) != (committee.k, committee.n):
        raise CeremonyError("this key file belongs to another ceremony")
    own = committee.members[secret.index - 1]
    if own.commitments != tuple(
        base_mult(a) for a in secret.coefficients
    ) or own.share_key != base_mult(secret.share_secret):
        raise CeremonyError("the committee lists another public part for this member", secret.index)


def receive_shares(
    secret: MemberSecret, committee: Committee, shares: Sequence[EncryptedShare]
) -> MemberKey:
    """Decrypt and check the share from every other member; return this member's final key.

    A share that does not open, or that does not match its sender's commitments, raises a
    CeremonyError naming the sender: the ceremony must then be run again without that share.
    """
    _check_own(secret, committee)
    received: dict[int, EncryptedShare] = {}
    for share in shares:
        if share.recipient != secret.index:
            continue
        if share.sender in received:
            raise CeremonyError(f"two shares from member {share.sender}", share.sender)
        received[share.sender] = share
    total = secret.share_for(secret.index)
    for member in committee.members:
        if member.index == secret.index:
            continue
        incoming = received.get(member.index)
        if incoming is None:
            raise CeremonyError(f"no share from member {member.index}", member.index)
        group.check_point(incoming.ephemeral, "share ephemeral key")
        key = _share_key(
            secret.ceremony,
            member.index,
            secret.index,
            incoming.ephemeral,
            base_mult(secret.share_secret),
            mult(secret.share_secret, incoming.ephemeral),
        )
        opened = sodium.secretbox_open(incoming.box, SHARE_NONCE, key)
        value = None if opened is None else sodium.scalar_from_bytes(opened)
        if value is None:
            raise CeremonyError(f"the share from member {member.index} does not open", member.index)
        if base_mult(value) != _evaluate(member.commitments, secret.index):
            raise CeremonyError(
                f"the share from member {member.index} does not match its commitments",
                member.index,
            )
        total = (total + value) % L
    verification_key = committee.verification_key(secret.index)
    if base_mult(total) != verification_key:  # pragma: no cover - implied by the checks above
        raise CeremonyError("the combined share does not match the verification key")
    return MemberKey(
        secret.ceremony,
        secret.index,
        secret.k,
        secret.n,
        total,
        committee.public_key,
        verification_key,
    )


def single_member(ceremony: bytes) -> tuple[Committee, MemberKey]:
    """Make a 1-of-1 committee (weaker: whoever holds this one key can decrypt every ballot)."""
    public, secret = new_member(ceremony, 1, 1, 1)
    committee = make_committee(ceremony, [public])
    return committee, receive_shares(secret, committee, [])
