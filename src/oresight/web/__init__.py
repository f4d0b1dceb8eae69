"""``oresight serve``: the web app (pages and a JSON API) on the World and the local store."""

from oresight.web.app import create_app

__all__ = ["create_app"]
