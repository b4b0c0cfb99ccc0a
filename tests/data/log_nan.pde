# log(u - 5) is NaN wherever u < 5: with u = 2 + 4x(1 - x)·N built in and a small
# network N at initialisation, everywhere. The solve must stop naming this equation (E0601).
space x in [0, 1]
field u
-dxx(u) + log(u - 5) = 0   on interior
u = 2                      on boundary
model  mlp(layers = [8], activation = tanh)
sample interior = 20, boundary = 2
solve  optimizer = engd, iterations = 50
