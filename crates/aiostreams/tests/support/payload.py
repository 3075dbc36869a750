"""Payloads that both sides can regenerate: the Python half of tests/support/payload.rs.

generate(n, seed) is xorshift64 (13, 7, 17) started at `seed` (0 becomes 1), each state
as 8 little-endian bytes, cut to n bytes. Imported by the peer scripts of this directory.
"""

import array
import sys

MASK64 = (1 << 64) - 1


def generate(n, seed):
    x = seed & MASK64 or 1
    words = array.array("Q", bytes(8 * ((n + 7) // 8)))
    for i in range(len(words)):
        x ^= (x << 13) & MASK64
        x ^= x >> 7
        x ^= (x << 17) & MASK64
        words[i] = x
    if sys.byteorder == "big":
        words.byteswap()
    return words.tobytes()[:n]
