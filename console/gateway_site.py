"""The widget's files and the demo company website at ``/``.

``/widget/<file>`` serves the widget script, its stylesheet and the
stylesheet of the demo and self-service pages, from a fixed list (no path
is ever taken from the URL). They are loaded by other origins' pages, so
they carry ``Cross-Origin-Resource-Policy: cross-origin`` and a short
public cache lifetime, and they set no cookie.

``/`` is a demo of a company website with the widget embedded by one
``<script>`` tag, under the console's strict Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from console.access import public

WIDGET_DIR = Path(__file__).with_name("static") / "widget"
TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
ASSETS = {
    "leadguard-widget.js": "text/javascript; charset=utf-8",
    "leadguard-widget.css": "text/css; charset=utf-8",
    "pages.css": "text/css; charset=utf-8",
}
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Referrer-Policy": "no-referrer",
}


@public("the widget's script and styles are embedded by the company's websites")
async def widget_asset(request: Request) -> Response:
    """Serve one of the widget's fixed files."""
    name = str(request.path_params["name"])
    media_type = ASSETS.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        WIDGET_DIR / name, media_type=media_type, headers=dict(ASSET_HEADERS)
    )


@public("the demo company website is what any visitor sees")
async def demo_site(request: Request) -> Response:
    """Show the demo company website with the widget on it."""
    response = TEMPLATES.TemplateResponse(request, "site/index.html", {})
    response.headers["Cache-Control"] = "no-cache"
    return response


routes = [
    Route("/", demo_site, methods=["GET"]),
    Route("/widget/{name:str}", widget_asset, methods=["GET"]),
]
