"""Where the tests find the public labelled data (never copied into this repository).

``MODERATION_TEST_DATA`` names a folder holding ``youtube-spam-collection/``
(YouTube Spam Collection v1, UCI dataset 380: ``Youtube01-Psy.csv``,
``Youtube02-KatyPerry.csv``, ``Youtube03-LMFAO.csv``) and
``sms-spam-collection/SMSSpamCollection`` (SMS Spam Collection v.1, UCI dataset
228); by default ``../shared/data`` beside the checkout. Tests that need it skip
with ``MISSING_DATA``, which says what to set.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MODERATION_TEST_DATA"
SHARED_DATA = Path(os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[1].parent / "shared" / "data")
MISSING_DATA = (f"the labelled data is not in {SHARED_DATA}: set {DATA_ENV} to a folder holding "
                "youtube-spam-collection/ (YouTube Spam Collection v1, UCI dataset 380) and "
                "sms-spam-collection/SMSSpamCollection (SMS Spam Collection v.1, UCI dataset 228)")
