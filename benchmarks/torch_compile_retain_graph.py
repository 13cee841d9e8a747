import sys, torch, torch._functorch.config
torch._functorch.config.donated_buffer = False
def errors(a, t):
    return 0.5 * (t - a) ** 2
def act(z):
    return torch.sigmoid(z)
dyn = sys.argv[1] == "dynamic"
fe = torch.compile(errors, dynamic=dyn, fullgraph=True)
fa = torch.compile(act, dynamic=dyn, fullgraph=True)
for dt in [torch.float64]:
    z = torch.tensor([[1.105905967, 1.2249214039]], dtype=dt, requires_grad=True)
    t = torch.tensor([[0.01, 0.99]], dtype=dt)
    for (e_fn, a_fn), name in [((fe, fa), "compiled"), ((errors, act), "eager")]:
        a = a_fn(z)
        e = e_fn(a, t).sum()
        for k in range(3):
            print(name, k, "dE/da", torch.autograd.grad(e, a, retain_graph=True)[0].tolist(),
                  "dE/dz", torch.autograd.grad(e, z, retain_graph=True)[0].tolist())
