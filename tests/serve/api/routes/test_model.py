"""GET /v1/model and the bundle reload (admin endpoint, watcher, SIGHUP path)."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time

import pytest
from serve_samples import SCAM_AD, copy_bundle

from lurescan.model.bundle import BundleError
from lurescan.serve.model_holder import ModelHolder


def test_model_info(client, api_bundle):
    info = client.get("/v1/model").json()
    manifest = json.loads((api_bundle / "manifest.json").read_text())
    assert info["model_version"] == manifest["model_version"]
    assert info["kind"] == "baseline"
    assert info["threshold"] == pytest.approx(manifest["threshold"]["threshold"])
    # test metrics come per origin (real / written ads, never pooled)
    assert "test" in info["metrics"] and all("pr_auc" in part["overall"] for part in info["metrics"]["test"].values())
    assert info["training_data"] and all("/" not in f["name"] for f in info["training_data"])
    assert info["training_data"][0]["rows"] > 0


def test_reload_needs_an_admin_key(make_client, keys_file, keys):
    with make_client(api_keys_file=keys_file) as client:
        r = client.post("/v1/admin/reload", headers={"X-API-Key": keys["board-a"]})
        assert r.status_code == 403 and r.json()["error"]["type"] == "admin_required"
        assert client.post("/v1/admin/reload").status_code == 401


def test_reload_swaps_the_bundle_and_refuses_a_broken_one(make_client, keys_file, keys, api_bundle, tmp_path):
    live = tmp_path / "live"
    copy_bundle(api_bundle, live, "v1")
    admin = {"X-API-Key": keys["ops"]}
    with make_client(api_keys_file=keys_file, bundle_path=live) as client:
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers=admin).json()["model_version"] == "v1"
        shutil.rmtree(live)
        copy_bundle(api_bundle, live, "v2")
        r = client.post("/v1/admin/reload", headers=admin)
        assert r.status_code == 200 and r.json() == {"previous_version": "v1", "model_version": "v2", "changed": True}
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers=admin).json()["model_version"] == "v2"
        (live / "model.safetensors").write_bytes(b"tampered")
        r = client.post("/v1/admin/reload", headers=admin)
        assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_bundle"
        assert "sha256" in r.json()["error"]["message"]
        assert client.post("/v1/score", json={"text": SCAM_AD}, headers=admin).json()["model_version"] == "v2"
        assert client.get("/readyz").json()["status"] == "ready"


def test_requests_keep_being_answered_during_a_reload(make_client, keys_file, keys, api_bundle, tmp_path):
    live = copy_bundle(api_bundle, tmp_path / "live", "v1")
    admin = {"X-API-Key": keys["ops"]}
    with make_client(api_keys_file=keys_file, bundle_path=live, rate_limit_enabled=False) as client:
        statuses, versions, stop = [], set(), threading.Event()

        def hammer():
            while not stop.is_set():
                r = client.post("/v1/score", json={"text": SCAM_AD}, headers={"X-API-Key": keys["board-a"]})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.add(r.json()["model_version"])

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            for version in ("v2", "v3"):
                shutil.rmtree(live)
                copy_bundle(api_bundle, live, version)
                assert client.post("/v1/admin/reload", headers=admin).status_code == 200
                deadline = time.monotonic() + 30
                while version not in versions:  # let the hammer see the new model before swapping again
                    assert time.monotonic() < deadline and thread.is_alive()
                    time.sleep(0.01)
        finally:
            stop.set()
            thread.join()
        assert statuses and set(statuses) == {200}, sorted(set(statuses))
        assert versions == {"v1", "v2", "v3"}


def test_watcher_follows_a_replaced_bundle(api_bundle, tmp_path):
    live = copy_bundle(api_bundle, tmp_path / "live", "v1")
    holder = ModelHolder(live)
    holder.load()

    async def scenario():
        task = asyncio.create_task(holder.watch(0.05))
        try:
            shutil.rmtree(live)
            copy_bundle(api_bundle, live, "v2")
            for _ in range(200):
                if holder.scorer.model_version == "v2":
                    break
                await asyncio.sleep(0.05)
            assert holder.scorer.model_version == "v2"
            # A broken bundle on disk: the watcher keeps the old model.
            manifest = json.loads((live / "manifest.json").read_text())
            manifest["model_version"] = "v3"
            (live / "model.safetensors").write_bytes(b"broken")
            (live / "manifest.json").write_text(json.dumps(manifest))
            await asyncio.sleep(0.5)
            assert holder.scorer.model_version == "v2"
        finally:
            task.cancel()

    asyncio.run(scenario())


def test_a_broken_bundle_at_start_is_refused(api_bundle, tmp_path):
    live = copy_bundle(api_bundle, tmp_path / "live", "v1")
    (live / "model.safetensors").write_bytes(b"broken")
    with pytest.raises(BundleError, match="sha256"):
        ModelHolder(live).load()
