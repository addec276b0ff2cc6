"""What model is serving: version, kind, threshold, metrics, training data; and its reload."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from lurescan.model.bundle import BundleError
from lurescan.model.kinds import how_computed, scam_kinds

from ...core.errors import ApiError, error_responses
from ..deps import AdminDep, ClientDep, StateDep
from ..schemas import ModelInfo, ReloadResult, ScamKindInfo, TrainingFile

router = APIRouter(prefix="/v1", tags=["model"])


def model_info(manifest: dict, heads=None, key_threshold: float | None = None) -> ModelInfo:
    threshold = manifest.get("threshold", {})
    return ModelInfo(
        key_threshold=key_threshold,
        categories=[
            ScamKindInfo(name=name, description=description, computed=how_computed(name, heads))
            for name, description in scam_kinds().items()
        ],
        model_version=manifest["model_version"],
        kind=manifest["kind"],
        created_at=manifest.get("created_at"),
        description=manifest.get("description"),
        threshold=float(threshold["threshold"]),
        medium_risk_threshold=float(threshold.get("medium_risk_threshold", threshold["threshold"])),
        threshold_rule=threshold.get("rule"),
        target_precision=threshold.get("target_precision"),
        languages=list(manifest.get("languages") or []),
        metrics=manifest.get("metrics") or {},
        # File names only: the server's directory layout is nobody's business.
        training_data=[
            TrainingFile(
                name=Path(str(item.get("path", "?"))).name,
                rows=item.get("rows"),
                labels=item.get("labels") or {},
                sha256=item.get("sha256"),
            )
            for item in manifest.get("training_data") or []
            if isinstance(item, dict)
        ],
        split={
            k: v for k, v in (manifest.get("split") or {}).items() if k in ("seed", "method", "fractions", "counts")
        },
    )


@router.get(
    "/model", response_model=ModelInfo, responses=error_responses(401, 429, 503), summary="The model serving now"
)
async def get_model(client: ClientDep, state: StateDep) -> ModelInfo:
    scorer = state.holder.scorer
    if scorer is None:
        raise ApiError(503, "model_not_ready", "no model is loaded yet; retry shortly", headers={"Retry-After": "1"})
    return model_info(scorer.bundle.manifest, getattr(scorer, "kind_heads", None), client.threshold)


@router.post(
    "/admin/reload",
    response_model=ReloadResult,
    responses=error_responses(401, 403, 422),
    tags=["admin"],
    summary="Reload the bundle from disk (admin key)",
    description=(
        "Reads the API keys file again (a removed key is refused from the next request on), then "
        "loads and verifies the configured bundle again and swaps it in atomically; requests in flight finish on the "
        "old model. A bundle that fails its checks is refused and the old model keeps serving. With several workers, "
        "each worker follows the bundle on disk by itself within `reload_poll_seconds`; SIGHUP to the server does the same."
    ),
)
async def reload_model(client: AdminDep, state: StateDep) -> ReloadResult:
    if state.keys_reloader is not None:
        try:
            state.keys_reloader.reload()  # a key removed from the keys file is refused from now on
        except ValueError as exc:
            raise ApiError(422, "invalid_keys_file", f"keys not reloaded, the keys in force stay: {exc}") from None
    try:
        result = await state.holder.reload()
    except BundleError as exc:
        raise ApiError(422, "invalid_bundle", f"bundle not reloaded, still serving the previous model: {exc}") from None
    return ReloadResult(
        previous_version=result.previous_version, model_version=result.model_version, changed=result.changed
    )
