# Poisson problem with a piecewise source, stated with `max` and `if`:
# -u'' = π² sin(πx) − 6·max(x, 0) on [-1, 1], u(-1) = 0, u(1) = 1;
# exact solution sin(πx) + max(x, 0)³ (twice continuously differentiable; its third
# derivative jumps at x = 0).
space x in [-1, 1]
field u

-dxx(u) = pi^2*sin(pi*x) - 6*max(x, 0)   on interior
u = if(x < 0, 0, 1)                       on boundary

exact u = sin(pi*x) + max(x, 0)^3

model  mlp(layers = [20, 20, 20], activation = tanh)
sample interior = 500, boundary = 2
solve  iterations = 1000
