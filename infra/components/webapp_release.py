"""Web app release: the web app's build (``web/dist``, Vite with base ``/app/``) and the
stack's ``config.json``, as objects under ``app/`` of the web app's bucket.

It comes after ``identity`` and ``api``, which need the web app's URL (OAuth callbacks,
CORS) before ``config.json`` can name them: ``webapp`` (bucket and distribution) comes
first, this last, so no resource waits for one that waits for it.

Hashed files under ``assets/`` are immutable for a year; everything else is ``no-cache``.
The pages go last, after the files they load and the config they read, so a viewer never
gets a page whose files are not there yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components.identity import OAUTH_SCOPES
from infra.components.webapp import ASSET_TTL_S, ASSETS_DIR

TYPE = "flixstack:index:WebAppRelease"
IMMUTABLE = f"public, max-age={ASSET_TTL_S}, immutable"
NO_CACHE = "no-cache"
PAGE_SUFFIX = ".html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}
"""By extension, not from the machine's MIME tables: the same build gets the same types
from every deploying machine (and browsers check them: ``nosniff``)."""
DEFAULT_CONTENT_TYPE = "application/octet-stream"
BUILD_HINT = "run `make install` (or `npm ci && npm run build` in web/)"


def content_type(path: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(path).suffix.lower(), DEFAULT_CONTENT_TYPE)


def cache_control(path: str) -> str:
    """``path`` relative to the build: hashed assets are immutable, the rest revalidates."""
    return IMMUTABLE if path.startswith(ASSETS_DIR) else NO_CACHE


def dist_files(dist_dir: Path) -> list[str]:
    """The build's files, relative to ``dist_dir`` (POSIX, sorted), but a ``config.json``:
    the stack writes its own. Fails when there is no build."""
    if not (dist_dir / "index.html").is_file():
        raise FileNotFoundError(
            f"the web app is not built ({dist_dir / 'index.html'} is missing): {BUILD_HINT} "
            "before `pulumi up`"
        )
    files = sorted(
        path.relative_to(dist_dir).as_posix() for path in dist_dir.rglob("*") if path.is_file()
    )
    return [f for f in files if f != spec.WEBAPP_CONFIG]


def runtime_config(*, api_url: str, hosted_ui_url: str, client_id: str, app_url: str) -> str:
    """The app's ``config.json`` (``web/src/config.ts``): the API's base URL without its
    trailing slash, and sign-in through the hosted UI (authorization code + PKCE) that
    sends viewers back to the app."""
    return json.dumps(
        {
            "api_base": api_url.rstrip("/"),
            "auth": {
                "kind": "hosted",
                "authorize_url": f"{hosted_ui_url}/oauth2/authorize",
                "token_url": f"{hosted_ui_url}/oauth2/token",
                "logout_url": f"{hosted_ui_url}/logout",
                "client_id": client_id,
                "redirect_uri": app_url,
                "scopes": list(OAUTH_SCOPES),
            },
        },
        indent=2,
    )


@dataclass(frozen=True)
class WebAppReleaseArgs:
    bucket_name: pulumi.Input[str]
    dist_dir: Path
    """The web app's build (``web/dist``): every file in it is uploaded."""
    app_url: pulumi.Input[str]
    """``https://<web app domain>/app/``: where the hosted UI sends viewers back."""
    api_url: pulumi.Input[str]
    hosted_ui_url: pulumi.Input[str]
    web_client_id: pulumi.Input[str]


class WebAppRelease(pulumi.ComponentResource):
    keys: list[str]
    """Every object key the release writes, ``config.json`` included."""
    config: pulumi.Output[str]
    """The ``config.json`` the app reads."""

    def __init__(
        self, name: str, args: WebAppReleaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        files = dist_files(args.dist_dir)
        self.config = pulumi.Output.all(
            api=args.api_url,
            hosted_ui=args.hosted_ui_url,
            client=args.web_client_id,
            app=args.app_url,
        ).apply(
            lambda v: runtime_config(
                api_url=v["api"],
                hosted_ui_url=v["hosted_ui"],
                client_id=v["client"],
                app_url=v["app"],
            )
        )
        config_key = f"{spec.WEBAPP_PREFIX}{spec.WEBAPP_CONFIG}"
        config = aws.s3.BucketObjectv2(
            f"{name}-{config_key}",
            bucket=args.bucket_name,
            key=config_key,
            content=self.config,
            content_type=content_type(config_key),
            cache_control=NO_CACHE,
            opts=pulumi.ResourceOptions(parent=self),
        )
        pages = [path for path in files if path.endswith(PAGE_SUFFIX)]
        loaded = [config] + [
            self._upload(name, args, path, pulumi.ResourceOptions(parent=self))
            for path in files
            if path not in pages
        ]
        for page in pages:
            self._upload(
                name, args, page, pulumi.ResourceOptions(parent=self, depends_on=list(loaded))
            )
        self.keys = [config_key, *(f"{spec.WEBAPP_PREFIX}{path}" for path in files)]
        self.register_outputs({"keys": self.keys, "config": self.config})

    @staticmethod
    def _upload(
        name: str, args: WebAppReleaseArgs, path: str, opts: pulumi.ResourceOptions
    ) -> aws.s3.BucketObjectv2:
        """One file of the build (``path`` relative to it), at ``app/<path>``."""
        key = f"{spec.WEBAPP_PREFIX}{path}"
        return aws.s3.BucketObjectv2(
            f"{name}-{key}",
            bucket=args.bucket_name,
            key=key,
            source=pulumi.FileAsset(str(args.dist_dir / path)),
            content_type=content_type(path),
            cache_control=cache_control(path),
            opts=opts,
        )
