"""/docs: Swagger UI over /openapi.json, every file from this server.

FastAPI's own /docs loads Swagger UI from a CDN, so it is blank without internet and
needs an inline script. Here the files come from the `fastapi-offline` wheel (Swagger
UI's release, MIT) and our own starter script, and the page's Content-Security-Policy
allows scripts from this server only (the other pages allow none at all)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

SWAGGER = Path(fastapi_offline.__file__).resolve().parent / "static"
OURS = Path(__file__).resolve().parent / "static"
ASSETS = {  # name in the URL → (file, media type)
    "swagger-ui-bundle.js": (SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (SWAGGER / "swagger-ui.css", "text/css"),
    "docs.js": (OURS / "docs.js", "text/javascript"),
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API · backchannel</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


def missing_assets() -> list[str]:
    """Files /docs needs that are not installed (a broken install, said at start-up)."""
    return [str(path) for path, _ in ASSETS.values() if not path.is_file()]


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"content-security-policy": CSP})


@router.get("/docs/assets/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, f"no file {name} here")
    path, media_type = ASSETS[name]
    return FileResponse(path, media_type=media_type,
                        headers={"cache-control": "public, max-age=86400"})
