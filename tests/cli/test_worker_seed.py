"""Workers started with one --seed get seeds that AutoSampler's inner samplers (seeded
``seed + stride * k``) never share: with a plain stride, one worker's third inner sampler
had another worker's second one's seed and proposed the same points."""

from __future__ import annotations

from ferrotune.cli._run import _SEED_STRIDE, _worker_seed


def test_worker_seeds_avoid_the_inner_samplers_stride() -> None:
    for seed in (0, 1, 12345, 2**64 - 1):
        assert _worker_seed(seed, 0) == seed
        workers = [_worker_seed(seed, i) for i in range(16)]
        inner = {
            (w + _SEED_STRIDE * k) % 2**64 for w in workers for k in range(8)
        }  # every inner sampler of every worker
        assert len(inner) == 16 * 8
        assert all(0 <= w < 2**64 for w in workers)
