# Poisson equation -Δu = 2π² sin(πx) sin(πy) on the unit square, u = 0 on the boundary,
# with a [2, 20, 20, 20, 20, 1] network (1,341 parameters).
# Source: Best McKay et al. (ICML 2025), section 5.2; Müller & Zeinhofer,
# "Achieving High Accuracy with PINNs via Energy Natural Gradients" (ICML 2023).
space x in [0, 1]
space y in [0, 1]
field u

-lap(u) = 2*pi^2*sin(pi*x)*sin(pi*y)   on interior
u = 0                                   on boundary

exact u = sin(pi*x)*sin(pi*y)

model  mlp(layers = [20, 20, 20, 20], activation = tanh)
sample interior = 900
solve  iterations = 2000
