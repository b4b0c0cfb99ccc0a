# Only boundary conditions: a warning, not an error.
space x in [0, 1]
field u
u = 0 on boundary
# expect: W0501 4:1
