# examples/laplace5d_offset.pde's body (the runner's seeds 0-2 at one thread ran from this copy).
space x1 in [0, 1]
space x2 in [0, 1]
space x3 in [0, 1]
space x4 in [0, 1]
space x5 in [0, 1]
field u

let f = sin(pi*x1) + sin(pi*x2) + sin(pi*x3) + sin(pi*x4) + sin(pi*x5)

-lap(u) = pi^2*f   on interior
u = f + 3*sin(pi*x1)*sin(pi*x2)*sin(pi*x3)*sin(pi*x4)*sin(pi*x5)*cos(x1 + 2*x2 - x3)   on boundary

exact u = sin(pi*x1) + sin(pi*x2) + sin(pi*x3) + sin(pi*x4) + sin(pi*x5)

model  mlp(layers = [32, 32, 32], activation = tanh)
sample interior = 1000, adaptive = rad
solve  iterations = 2000
