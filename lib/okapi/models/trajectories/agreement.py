"""How well two partitions of the same patients agree: the adjusted Rand index, used by the simulation study to
score class recovery against the generator's true classes."""

import numpy as np
import pandas as pd


def adjusted_rand_index(labels_a, labels_b) -> float:
    """Hubert-Arabie adjusted Rand index between two partitions (1 = identical up to relabelling, ~0 = chance)."""
    a = pd.factorize(np.asarray(labels_a))[0]
    b = pd.factorize(np.asarray(labels_b))[0]
    if a.size != b.size:
        raise ValueError("the two labelings must have the same length")
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(x):
        return (x * (x - 1) / 2.0).sum()

    index = pairs(table)
    row_pairs, col_pairs, total = pairs(table.sum(1)), pairs(table.sum(0)), a.size * (a.size - 1) / 2.0
    expected = row_pairs * col_pairs / total
    maximum = (row_pairs + col_pairs) / 2.0
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))
