"""``qmgrade serve``: the web front of qmgrade (pages and the JSON API) on the public engine API."""
from .app import UploadLimits, create_app

__all__ = ["create_app", "UploadLimits"]
