"""The readers and the group hold-out on the real shared data (skipped without it)."""


import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from moderation.training.dataset import load_dataset
from moderation.training.evaluation import holdout_margins
from moderation.training.readers import read_labelled

from tests.data import MISSING_DATA, SHARED_DATA

YOUTUBE = SHARED_DATA / "youtube-spam-collection"
SMS = SHARED_DATA / "sms-spam-collection" / "SMSSpamCollection"

pytestmark = pytest.mark.skipif(
    not YOUTUBE.is_dir() or not SMS.is_file(),
    reason=MISSING_DATA,
)


@pytest.mark.parametrize(
    ("name", "rows", "spam"),
    [("Youtube01-Psy.csv", 350, 175), ("Youtube02-KatyPerry.csv", 350, 175), ("Youtube03-LMFAO.csv", 438, 236)],
)
def test_youtube_files_read_completely(name, rows, spam):
    result = read_labelled(YOUTUBE / name)
    assert result.format == "youtube" and not result.errors
    assert len(result.rows) == rows and sum(row.label for row in result.rows) == spam


def test_sms_collection_reads_completely():
    result = read_labelled(SMS)
    assert result.format == "sms" and not result.errors
    assert len(result.rows) == 5574 and sum(row.label for row in result.rows) == 747


@pytest.mark.slow
def test_an_unseen_video_is_ranked_well():
    dataset = load_dataset([YOUTUBE])
    assert dataset.duplicates_removed > 0
    holdout = holdout_margins(dataset, {}, seed=0)
    for video in holdout.fold_names:
        mask = holdout.fold == video
        assert roc_auc_score(dataset.labels[mask], holdout.margins[mask]) > 0.95, video
    assert np.isfinite(holdout.margins).all()
