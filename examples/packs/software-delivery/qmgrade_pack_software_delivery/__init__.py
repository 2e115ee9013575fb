"""An example qmgrade model pack: a small software-delivery maturity model (English only).

Installed, it registers itself in the entry point group ``qmgrade.models`` under the name
``software-delivery``: ``qmgrade --model software-delivery assess team.yaml``.
"""
from pathlib import Path

MODEL_DIR = str(Path(__file__).resolve().parent / "model")
