# The residual takes log(u - 5), which is NaN wherever the network output is below 5:
# at initialisation, everywhere. The solve must stop naming this equation (E0601).
space x in [0, 1]
field u
-dxx(u) + log(u - 5) = 0   on interior
u = 6                      on boundary
model  mlp(layers = [8], activation = tanh)
sample interior = 20, boundary = 2
solve  optimizer = engd, iterations = 50
