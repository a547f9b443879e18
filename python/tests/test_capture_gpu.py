"""GPU metrics through NVML: runs on machines with an NVIDIA driver, skipped (with the reason)
everywhere else. The sampler loads libnvidia-ml at run time, so this is the same binary."""

import ctypes
import ctypes.util
import json
import os
import subprocess

import pytest

from conftest import REPO


def nvml_loadable() -> bool:
    for name in ("libnvidia-ml.so.1", ctypes.util.find_library("nvidia-ml")):
        if not name:
            continue
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(
    not nvml_loadable(), reason="no NVIDIA driver (libnvidia-ml.so.1) on this machine"
)
def test_gpu_keys_per_device_when_nvml_is_present():
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(REPO / "target"))
    done = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "trackway-sysmon", "--example", "sample"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(out, indent=1))  # quoted in the closing note when run on a GPU machine
    assert out["gpus"], "NVML loads, so at least one device is listed"
    data = out["record"]["data"]
    for gpu in out["gpus"]:
        i = gpu["index"]
        for key in ("gpu", "memory", "memoryAllocated", "memoryAllocatedBytes", "temp"):
            assert f"system/gpu.{i}.{key}" in data, (key, sorted(data))
        assert 0.0 <= data[f"system/gpu.{i}.gpu"] <= 100.0
        assert data[f"system/gpu.{i}.memoryAllocatedBytes"] <= gpu["memory_total"]
