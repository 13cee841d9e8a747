"""`torch-compile`: the `torch` backend with the network's three pieces (linear map,
activation, loss) each compiled by `torch.compile` (TorchDynamo + Inductor), their backwards
compiled by AOTAutograd; autograd still composes them, so every chain piece stays visible.

Compiling takes seconds per piece, shape and dtype (over 10 s for the post's first step on
2 cores), so this backend is slow: the test suite runs it only under `-m slow`. Shapes are
compiled as dynamic, so one compilation serves every batch size and width of a kind. The
recompile limit is raised and hitting it is an error, so no piece silently falls back to
eager execution. Dynamo is imported on first use, not when the backend is listed.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from bpcheck.backends.torch_backend import Pieces, TorchBackend, errors, layer_output, linear


def _compiled_pieces() -> type[Pieces]:
    import torch._dynamo
    import torch._functorch.config

    torch._dynamo.config.recompile_limit = 4096
    torch._dynamo.config.accumulated_recompile_limit = 1 << 16
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    # The trace asks each chain piece in one backward pass per target, never twice through a
    # graph (benchmarks/torch_compile_retain_graph.py: a second pass gave wrong gradients).
    torch._functorch.config.donated_buffer = False
    compile_ = lambda f: staticmethod(torch.compile(f, dynamic=True, fullgraph=True))  # noqa: E731

    class CompiledPieces(Pieces):
        linear = compile_(linear)
        activation = compile_(layer_output)
        errors = compile_(errors)

    return CompiledPieces


class TorchCompileBackend(TorchBackend):
    name = "torch-compile"

    @cached_property
    def pieces(self) -> Any:  # type: ignore[override]
        return _compiled_pieces()
