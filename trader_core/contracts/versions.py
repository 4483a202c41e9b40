"""Versions and split ids (docs/splits.md). Declared once; everything else imports them."""

FEATURE_VERSION = "feature-v4-p3-gap-flags"
LABEL_VERSION = "label-v4-p5-entry-quality"
SPLIT_VERSION = "split-v4-p0"
REPLAY_VERSION = "replay-v4-p1-gap-policy"
RAW_MARKET_VERSION = "raw-market-v1"
RUN_SPEC_VERSION = "run-spec-v1"
MODEL_BUNDLE_VERSION = "trader-v4-btc-p0"
CALIBRATION_BUNDLE_VERSION = "cal-v4-btc-p0"

FIT_SPLIT = "fit_inner"
TUNE_SPLIT = "tune_inner"
VALIDATION_LOCKED_SPLIT = "validation_locked"
LATEST_STRESS_SPLIT = "latest_stress"
#: Rows inside the embargo gap before a split; excluded from training and evaluation.
EMBARGO_SPLIT = "embargo"
#: Rows outside the split plan's window.
UNASSIGNED_SPLIT = "unassigned"

TRAINING_SPLITS = (FIT_SPLIT, TUNE_SPLIT, VALIDATION_LOCKED_SPLIT, LATEST_STRESS_SPLIT)
ALL_SPLITS = TRAINING_SPLITS
EVAL_SPLITS = (TUNE_SPLIT, VALIDATION_LOCKED_SPLIT, LATEST_STRESS_SPLIT)
SEALED_SPLITS = (VALIDATION_LOCKED_SPLIT, LATEST_STRESS_SPLIT)
SPLIT_IDS = TRAINING_SPLITS + (EMBARGO_SPLIT, UNASSIGNED_SPLIT)

FIT_FOLD = "fold_01"
NO_FOLD = "NO_FOLD"
