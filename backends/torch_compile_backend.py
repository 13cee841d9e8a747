"""`torch-compile`: the `torch` backend with the network's three pieces (linear map,
activation, loss) each compiled by `torch.compile` (TorchDynamo + Inductor), their backwards
compiled by AOTAutograd; autograd still composes them, so every chain piece stays visible.

Compiling takes seconds per piece, shape and dtype (over 10 s for the post's first step on
2 cores), so this backend is slow: the test suite runs it only under `-m slow`. Shapes are
compiled as dynamic, so one compilation serves every batch size and width of a kind. The
recompile limit is raised so that no piece silently falls back to eager execution.
"""

from __future__ import annotations

import torch
import torch._dynamo
import torch._functorch.config

from backends.torch_backend import Pieces, TorchBackend, errors, layer_output, linear

torch._dynamo.config.recompile_limit = 4096
torch._dynamo.config.accumulated_recompile_limit = 1 << 16
torch._dynamo.config.fail_on_recompile_limit_hit = True  # never fall back to eager quietly
torch._functorch.config.donated_buffer = False  # chain pieces need the graph kept (retain_graph=True)


class CompiledPieces(Pieces):
    linear = staticmethod(torch.compile(linear, dynamic=True, fullgraph=True))
    activation = staticmethod(torch.compile(layer_output, dynamic=True, fullgraph=True))
    errors = staticmethod(torch.compile(errors, dynamic=True, fullgraph=True))


class TorchCompileBackend(TorchBackend):
    name = "torch-compile"
    pieces = CompiledPieces
