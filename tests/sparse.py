"""A quiet-symbol export made from gap-free bars: a share of the minutes removed in short runs (issue 17's fixture)."""

import numpy as np
import pandas as pd


def sparse_minutes(bars: pd.DataFrame, *, share: float, max_run: int, seed: int) -> pd.DataFrame:
    """``bars`` without about ``share`` of their rows, removed in runs of 1..``max_run`` consecutive minutes.

    Runs never touch each other (a present minute between two runs, so each stays a run of its drawn length)
    nor the first or last bar (the data's edges stay where they were).
    """
    rng = np.random.default_rng(seed)
    n = len(bars)
    lengths = rng.integers(1, max_run + 1, size=int(share * n / ((1 + max_run) / 2)) + 1)
    lengths = lengths[np.cumsum(lengths) <= round(share * n)]
    slack = n - 2 - lengths.sum() - len(lengths)  # present minutes left to spread before the runs
    spacing = np.diff(np.sort(rng.choice(slack + len(lengths), size=len(lengths), replace=False)), prepend=-1) - 1
    starts = 1 + np.cumsum(spacing + 1) + np.r_[0, np.cumsum(lengths)[:-1]] - 1
    drop = np.zeros(n, dtype=bool)
    for start, length in zip(starts, lengths):  # a few hundred runs: building the test fixture, not a hot path
        drop[start:start + length] = True
    return bars[~drop].reset_index(drop=True)
