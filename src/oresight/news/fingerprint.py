"""MinHash fingerprints of article texts, for finding near-duplicates across outlets.

The fingerprint is a datasketch MinHash of the text's word 5-shingles, computed in one vectorised step: each
word is hashed once (CRC-32, stable across processes, so stored fingerprints stay comparable), five word hashes
are mixed into a shingle hash, and datasketch's permutations are applied to all shingles at once.

>>> report = "China will require export permits for some graphite products from December 1, the ministry said"
>>> copy = fingerprint(report + " on Friday.")
>>> minhash(fingerprint(report)).jaccard(minhash(copy)) > 0.7
True
>>> minhash(copy).jaccard(minhash(fingerprint("Antimony prices climbed to a record in Rotterdam on Monday."))) < 0.2
True
"""

from __future__ import annotations

import functools
import re
import zlib

import numpy as np

__all__ = ["PERMUTATIONS", "SHINGLE", "fingerprint", "minhash"]

#: words per shingle and hash permutations of a fingerprint
SHINGLE, PERMUTATIONS = 5, 64
_WORDS = re.compile(r"\w+")
#: datasketch's universal hashing: (a·h + b) mod a Mersenne prime, kept to 32 bits
_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
_FNV_PRIME = np.uint64(0x01000193)


@functools.cache
def _template():
    from datasketch import MinHash

    return MinHash(num_perm=PERMUTATIONS, hashfunc=zlib.crc32)


def minhash(values=None):
    """A datasketch MinHash on the shared permutations (new, or from stored hash values)."""
    from datasketch import MinHash

    template = _template()
    return MinHash(
        num_perm=PERMUTATIONS,
        hashfunc=zlib.crc32,
        permutations=template.permutations,
        scheme=template.scheme,
        hashvalues=None if values is None else np.asarray(values, dtype=np.uint64),
    )


def _shingle_hashes(tokens: list[str]) -> np.ndarray:
    words = np.fromiter((zlib.crc32(t.encode()) for t in tokens), dtype=np.uint64, count=len(tokens))
    count = len(tokens) - SHINGLE + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        mixed = ((mixed * _FNV_PRIME) ^ words[offset : offset + count]) & _MAX_HASH
    return np.unique(mixed)


def fingerprint(text: str) -> list[int] | None:
    """The MinHash values of a text's word 5-shingles; None for texts too short to compare."""
    tokens = _WORDS.findall(text.lower())
    if len(tokens) < 2 * SHINGLE:
        return None
    a, b = _template().permutations
    shingles = _shingle_hashes(tokens)[:, np.newaxis]
    # uint64 products wrap around, as in datasketch's own update
    permuted = ((shingles * a + b) % _MERSENNE_PRIME) & _MAX_HASH
    return permuted.min(axis=0).tolist()
