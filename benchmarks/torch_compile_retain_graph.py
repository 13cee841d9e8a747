"""torch.compile finding (seen with torch 2.13.0 on the CPU): backward through a compiled
function run a second time on a retained graph.

With the default settings the second backward raises ("compiled with non-empty donated
buffers"); with torch._functorch.config.donated_buffer = False, which that error suggests, the
second and later backwards return wrong gradients, quietly: here each is 1/4 of the one before.
backends/torch_compile_backend.py therefore asks every chain piece in one backward pass per
target. Run: python benchmarks/torch_compile_retain_graph.py [dynamic|static]
"""

import sys

import torch
import torch._functorch.config

torch._functorch.config.donated_buffer = False


def errors(a: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return 0.5 * (t - a) ** 2


def main() -> None:
    dynamic = sys.argv[1:] != ["static"]
    compiled_errors = torch.compile(errors, dynamic=dynamic, fullgraph=True)
    compiled_sigmoid = torch.compile(torch.sigmoid, dynamic=dynamic, fullgraph=True)
    z = torch.tensor([[1.105905967, 1.2249214039]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[0.01, 0.99]], dtype=torch.float64)
    runs = {"compiled": (compiled_errors, compiled_sigmoid), "eager": (errors, torch.sigmoid)}
    for label, (e_fn, a_fn) in runs.items():
        a = a_fn(z)
        e = e_fn(a, t).sum()
        for k in range(3):
            (g,) = torch.autograd.grad(e, a, retain_graph=True)
            print(f"{label:8s} backward #{k + 1}: dE/da = {g.tolist()}")


if __name__ == "__main__":
    main()
