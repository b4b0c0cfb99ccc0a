# A data column used outside its data set's equation.
space x in [0, 1]
field u
data obs from "../../examples/data/inverse_poisson1d_obs.csv"
-dxx(u) = obs.u on interior
u = 0 on boundary
# expect: E0210 5:11
