"""The `tensorflow` backend declares itself here, without importing TensorFlow
(backends/tensorflow_backend.py computes)."""

from __future__ import annotations

import os
from typing import Any

from bpcheck.backends.declarations import Declaration

DECLARATIONS = (
    Declaration(
        name="tensorflow",
        family="tensorflow",
        factory="bpcheck.backends.tensorflow_backend:TensorflowBackend",
        extra="tensorflow",
        distributions=("tensorflow-cpu",),
        accelerator="gpu",
        step_seconds=3.2e-5,
        import_seconds=5.7,
        network_seconds=0.35,
        compiles_per_run=True,  # a tf.function per network and rule
        settings="bpcheck.backends.tensorflow_family:settings",
        color="#9467bd",
        marker="P",
    ),
)


def settings() -> dict[str, Any]:
    import tensorflow as tf

    return {
        "version": tf.__version__,
        "tensor_float_32_execution": tf.config.experimental.tensor_float_32_execution_enabled(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),  # None: TF's default (on for x86)
        "tf_devices": [d.name for d in tf.config.list_physical_devices()],
        "threads": tf.config.threading.get_intra_op_parallelism_threads(),  # 0: as many as TF sees cores
        "interop_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }
