# Nonlinear boundary-value problem -u'' + u^3 = π² cos(πx) + cos³(πx) on [-1, 1]
# with homogeneous Neumann conditions u'(±1) = 0; exact solution cos(πx).
# Source: Best McKay et al. (ICML 2025), section 5.3.
space x in [-1, 1]
field u

-dxx(u) + u^3 = pi^2*cos(pi*x) + cos(pi*x)^3   on interior
dn(u) = 0                                        on boundary

exact u = cos(pi*x)

model  mlp(layers = [20, 20, 20, 20], activation = tanh)
sample interior = 500, boundary = 2
solve  iterations = 1000
