"""Train, evaluate and ship the spam model: see moderation/training/cli.py."""
from moderation.training.cli import main

raise SystemExit(main())
