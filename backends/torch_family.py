"""The torch family declares itself here, without importing torch: `torch`, `torch-func` and
`torch-compile` (backends/torch_backend.py, torch_func_backend.py, torch_compile_backend.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bpcheck.backends.declarations import Declaration

TORCH = Declaration(
    name="torch",
    family="torch",
    factory="bpcheck.backends.torch_backend:TorchBackend",
    extra="torch",
    distributions=("torch",),
    accelerator="cuda",
    step_seconds=4.4e-4,
    import_seconds=2.0,
    network_seconds=0.2,
    settings="bpcheck.backends.torch_family:settings",
    color="#d62728",
    marker="^",
)
DECLARATIONS = (
    TORCH,
    replace(
        TORCH,
        name="torch-func",
        factory="bpcheck.backends.torch_func_backend:TorchFuncBackend",
        step_seconds=1.1e-3,
        network_seconds=0.4,
        color="#ff7f0e",
        marker="v",
    ),
    replace(
        TORCH,
        name="torch-compile",
        factory="bpcheck.backends.torch_compile_backend:TorchCompileBackend",
        slow_reason="torch.compile compiles every piece per shape and dtype (seconds each)",
        step_seconds=1.5e-3,
        import_seconds=6.0,
        network_seconds=30.0,
        color="#8c564b",
        marker="<",
    ),
)


def settings() -> dict[str, Any]:
    import torch

    return {
        "default_dtype": str(torch.get_default_dtype()),
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
        "fp16_reduced_precision_reduction": bool(torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction),
        "bf16_reduced_precision_reduction": bool(torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cuda": torch.version.cuda,
    }
