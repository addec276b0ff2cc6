"""The API's commands: `lurescan serve`, `lurescan feedback export`, `lurescan keys create`.

`register(app)` adds them to the `lurescan` typer app. Options of `serve`
are passed to the workers as LURESCAN_* environment variables, so the
command line, the environment and `.env` are one configuration.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

# Kept here, not imported from core.config, so `lurescan` starts without the [serve] extras.
ENV_PREFIX = "LURESCAN_"


def _one_line(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        message = err["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        return f"invalid setting {ENV_PREFIX}{where.upper()}: {message}" if where else f"invalid settings: {message}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _user_errors(func):
    """Errors a user can cause end as one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from lurescan.model.bundle import BundleError
        from lurescan.model.tables import TableError

        try:
            from sqlalchemy.exc import SQLAlchemyError
        except ImportError:  # pragma: no cover - [serve] extras absent

            class SQLAlchemyError(Exception):
                pass

        try:
            return func(*args, **kwargs)
        except ImportError as exc:
            typer.echo(f"error: {exc}; install the API's extras: pip install 'lurescan[serve]'", err=True)
            raise typer.Exit(1) from None
        except (BundleError, TableError, ValueError, OSError) as exc:
            typer.echo(f"error: {_one_line(exc)}", err=True)
            raise typer.Exit(1) from None
        except SQLAlchemyError as exc:
            typer.echo(f"error: database: {_one_line(exc.__cause__ or exc)}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _set_env(**values) -> None:
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)


@_user_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1; open mode only on loopback).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Worker processes (default 1; one per core).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="Bundle directory (default: the bundled model).")
    ] = None,
    keys_file: Annotated[Path | None, typer.Option(help="API keys file (see `lurescan keys create`).")] = None,
    open_mode: Annotated[
        bool | None,
        typer.Option(
            "--open/--no-open",
            help="Serve loopback clients without keys (default: on when bound to loopback with no keys).",
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL (default sqlite:///lurescan.sqlite3).")
    ] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis URL for shared rate limits.")] = None,
    log_level: Annotated[str | None, typer.Option(help="critical, error, warning, info or debug.")] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Origin allowed to call the API from a browser (repeatable), e.g. chrome-extension://<id> or "
            "https://board.example; * for any.",
        ),
    ] = None,
):
    """Run the scoring API (uvicorn, N workers); settings also from LURESCAN_* and .env."""
    import uvicorn

    from lurescan.model.bundle import read_bundle

    from .core.config import Settings, get_settings
    from .core.metrics import MULTIPROC_ENV
    from .core.slowclient import protocol_path
    from .db import Database

    _set_env(
        host=host,
        port=port,
        workers=workers,
        bundle_path=model,
        api_keys_file=keys_file,
        open_mode=open_mode,
        database_url=database_url,
        redis_url=redis_url,
        log_level=log_level,
        cors_origins=json.dumps(cors_origin) if cors_origin else None,
    )
    get_settings.cache_clear()
    settings = Settings()
    # Check what would stop every worker, once, with one clear line.
    keys = settings.load_api_keys()
    if not keys and not settings.effective_open_mode(keys):
        raise ValueError(
            f"no API keys configured and open mode is off (bound to {settings.host}): create one with "
            "`lurescan keys create NAME --file keys.json` and pass --keys-file keys.json"
        )
    bundle = read_bundle(settings.bundle_path)
    db = Database(settings.database_url)
    db.create_tables()
    db.dispose()
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = (
            Path(settings.metrics_dir) if settings.metrics_dir else Path(tempfile.mkdtemp(prefix="lurescan-metrics-"))
        )
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = str(metrics_dir)
    # A transformer bundle runs ONNX Runtime, whose thread pool defaults to every core in every
    # worker: N workers would each start one per core and fight over them. Share the cores out.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ.setdefault("LURESCAN_ORT_THREADS", str(max(1, cores // settings.workers)))
    typer.echo(
        f"lurescan API on http://{settings.host}:{settings.port} with {settings.workers} worker(s), model {bundle.model_version}"
        + (f", CORS for {', '.join(settings.cors_origins)}" if settings.cors_origins else ""),
        err=True,
    )
    try:
        uvicorn.run(
            "lurescan.serve.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            access_log=settings.access_log,
            timeout_graceful_shutdown=30,
            timeout_worker_healthcheck=settings.worker_healthcheck_timeout,
            # A deadline to read each request (core/slowclient.py) and a cap on connections.
            http=protocol_path(),
            limit_concurrency=settings.max_connections,
            # X-Forwarded-For only from the configured proxies (uvicorn trusts 127.0.0.1 by default,
            # which let any local client pick its own address and rate-limit bucket).
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips or None,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


feedback_app = typer.Typer(help="Moderators' feedback stored by the API.", no_args_is_help=True)


@feedback_app.command("export")
@_user_errors
def feedback_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .csv, .jsonl or .parquet (gzip allowed).")],
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL (default: LURESCAN_DATABASE_URL or sqlite:///lurescan.sqlite3).")
    ] = None,
    source: Annotated[str, typer.Option(help="Value of the `source` column.")] = "lurescan_feedback",
):
    """Write feedback in the canonical training layout, for `lurescan train --data FILE`."""
    from .core.config import Settings
    from .db import Database
    from .export import export_feedback

    _set_env(database_url=database_url)
    db = Database(Settings().database_url)
    try:
        db.create_tables()
        summary = export_feedback(db, out, source=source)
    finally:
        db.dispose()
    typer.echo(
        f"exported {summary.rows} feedback rows -> {summary.path} "
        f"(left out: {summary.skipped_unsure} unsure, {summary.skipped_no_text} without text)",
        err=True,
    )


keys_app = typer.Typer(help="API keys of the scoring API.", no_args_is_help=True)


@keys_app.command("create")
@_user_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. board-a (letters, digits, _.@-).")],
    file: Annotated[Path, typer.Option("--file", "-f", help="Keys file to add to (created if missing).")],
    admin: Annotated[bool, typer.Option(help="May reload the model (/v1/admin/reload).")] = False,
    rate_per_second: Annotated[float | None, typer.Option(help="Listings per second for this key.")] = None,
    burst: Annotated[int | None, typer.Option(help="Bucket size for this key.")] = None,
    threshold: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="This key's default decision threshold (a board with another base rate).")
    ] = None,
):
    """Create a key: print it once, store only its sha256."""
    from .core.config import ApiKeyEntry, KeysFile, Settings, read_keys_file
    from .core.security import generate_key, hash_key

    existing = read_keys_file(file) if file.exists() else []
    if burst is not None:
        # The server refuses to start with such a key (a full batch could never pass): refuse it now.
        max_items = Settings().max_batch_items
        if burst < max_items:
            raise ValueError(
                f"--burst {burst} is below the server's max_batch_items ({max_items}): a full batch could never pass; "
                f"give at least {max_items} (or lower LURESCAN_MAX_BATCH_ITEMS)"
            )
    if any(k.name == name for k in existing):
        raise ValueError(f"{file}: a key named {name!r} exists already")
    key = generate_key()
    entry = ApiKeyEntry(name=name, sha256=hash_key(key), admin=admin, rate_per_second=rate_per_second, burst=burst, threshold=threshold)
    content = KeysFile(keys=[*existing, entry]).model_dump(mode="json", exclude_none=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(content, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, file)
    typer.echo(f"created key {name!r} in {file}; this is the only time it is shown:", err=True)
    typer.echo(key)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(feedback_app, name="feedback")
    app.add_typer(keys_app, name="keys")
