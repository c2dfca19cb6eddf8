"""`mlflow models serve` on the registered champion answers a fusion request over HTTP."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from ivif_testkit import flat_png

from ivif.registry import CHAMPION, move_alias
from ivif.registry.image_codec import decode_image, encode_png

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mlflow models serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"mlflow models serve not up after {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow  # ~25 s alone, up to ~60 s on a loaded 2-core machine
def test_served_champion_fuses_an_image_pair(registered_cnn, tmp_path):
    import mlflow

    client = mlflow.MlflowClient(registered_cnn.tracking_uri, registry_uri=registered_cnn.tracking_uri)
    move_alias(client, "ivif-cnn", CHAMPION, registered_cnn.version.version)
    port = free_port()
    bin_dir = Path(sys.executable).parent  # uvicorn, started by mlflow, must be on PATH
    env = {**os.environ, "MLFLOW_TRACKING_URI": registered_cnn.tracking_uri, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    command = [
        str(bin_dir / "mlflow"),
        "models",
        "serve",
        "-m",
        "models:/ivif-cnn@champion",
        "--env-manager",
        "local",
        "-h",
        HOST,
        "-p",
        str(port),
    ]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://{HOST}:{port}"
        wait_until_up(url, proc, log)
        rng = np.random.default_rng(3)
        ir = rng.integers(0, 256, (21, 30), dtype=np.uint8)
        vi = rng.integers(0, 256, (21, 30), dtype=np.uint8)
        body = {"dataframe_records": [{"ir": encode_png(ir), "vi": encode_png(vi)}], "params": {"mode": "full"}}
        response = httpx.post(f"{url}/invocations", json=body, timeout=60)
        assert response.status_code == 200, response.text
        fused = decode_image(response.json()["predictions"][0]["fused"], "fused")
        assert fused.shape == (21, 30) and fused.dtype == np.uint8  # grayscale pair -> grayscale

        bad = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"ir": "xx", "vi": "yy"}]}, timeout=60)
        assert bad.status_code == 400 and "column 'ir'" in bad.json()["message"]

        # Small files, huge images: refused from their headers, before anything is decoded.
        for side, cause in (
            (12000, "over the per-request limit of 16.0 megapixels"),
            (30000, "column 'ir' (row 0): 30000x30000 is 900.0 megapixels, over the limit of 150.0"),
        ):
            png = base64.b64encode(flat_png(side, side)).decode("ascii")  # ~0.6 MB / ~4 MB
            huge = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"ir": png, "vi": png}]}, timeout=60)
            assert huge.status_code == 400, huge.text[:500]
            answer = huge.json()
            assert answer["error_code"] == "INVALID_PARAMETER_VALUE" and cause in answer["message"]
        again = httpx.post(f"{url}/invocations", json=body, timeout=60)  # the server is still up
        assert again.status_code == 200 and again.json() == response.json()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
