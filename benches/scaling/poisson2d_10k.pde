# Scaling series (docs/PERFORMANCE.md, "Scaling"): examples/poisson2d.pde with a network
# of four hidden layers of 56 and 10000 points, so that N ≈ P.
space x in [0, 1]
space y in [0, 1]
field u

-lap(u) = 2*pi^2*sin(pi*x)*sin(pi*y)   on interior
u = 0                                   on boundary

exact u = sin(pi*x)*sin(pi*y)

model  mlp(layers = [56, 56, 56, 56], activation = tanh)
sample interior = 9400, boundary = 600
solve  iterations = 10
