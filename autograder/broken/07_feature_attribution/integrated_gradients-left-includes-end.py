# Bug: riemann_left and riemann_right both take n points from 0 to 1 inclusive, so the left rule includes alpha = 1 and the right rule alpha = 0.
def integrated_gradients(forward_func, inputs, baselines=None, target=None, n_steps=50, method="gausslegendre",
                         internal_batch_size=None):
    """Integrated Gradients of forward_func's target output, as captum computes it (a detached tensor)."""
    x = inputs.detach()
    base = torch.zeros_like(x) if baselines is None else torch.as_tensor(baselines, dtype=x.dtype).expand_as(x)
    # the points alpha_k on the path and their weights w_k
    if method == "gausslegendre":
        nodes, w = np.polynomial.legendre.leggauss(n_steps)
        alphas, weights = (nodes + 1) / 2, w / 2
    else:
        weights = np.full(n_steps, 1 / n_steps)
        if method == "riemann_trapezoid":
            alphas = np.linspace(0, 1, n_steps)
            weights[[0, -1]] /= 2
        elif method == "riemann_left":
            alphas = np.linspace(0, 1, n_steps)
        elif method == "riemann_right":
            alphas = np.linspace(0, 1, n_steps)
        elif method == "riemann_middle":
            alphas = np.linspace(1 / (2 * n_steps), 1 - 1 / (2 * n_steps), n_steps)
        else:
            raise ValueError(f"unknown integration method {method!r}")
    n_rows = len(x)
    per_pass = max(1, (internal_batch_size or n_rows * n_steps) // n_rows)  # path points per pass
    total = torch.zeros_like(x)
    for start in range(0, n_steps, per_pass):
        a = alphas[start:start + per_pass]
        path = torch.cat([base + float(alpha) * (x - base) for alpha in a]).requires_grad_(True)
        with torch.enable_grad():
            out = forward_func(path)
            if target is None:
                selected = out.reshape(len(path))
            elif isinstance(target, int):
                selected = out[:, target]
            else:  # one target per example, the same for every point of the path
                selected = out[torch.arange(len(path)), torch.as_tensor(target).repeat(len(a))]
            (grads,) = torch.autograd.grad(selected.sum(), path)
        w_k = torch.tensor(weights[start:start + per_pass], dtype=x.dtype).reshape(-1, *[1] * x.dim())
        total += (grads.reshape(len(a), *x.shape) * w_k).sum(0)
    return (total * (x - base)).detach()
