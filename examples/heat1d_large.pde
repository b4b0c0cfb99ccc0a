# 1+1D heat equation u_t = u_xx / 4 with a [2, 50, 50, 50, 1] network (5,301 parameters).
# Source: Best McKay, Kaur, Greif, Wetton, "Near-optimal Sketchy Natural
# Gradients for PINNs" (ICML 2025), section 5.1, architecture A2.
time  t in [0, 1]
space x in [0, 1]
field u
const kappa = 0.25

dt(u) - kappa*dxx(u) = 0   on interior
u = sin(pi*x)              on initial
u = 0                      on boundary

exact u = exp(-pi^2*kappa*t)*sin(pi*x)

model  mlp(layers = [50, 50, 50], activation = tanh)
sample interior = 900
solve  iterations = 1000
