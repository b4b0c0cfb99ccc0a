# Heat equation with a conductivity known only on a grid (the kind of PINNacle's
# Heat2d-VC): dt(u) = div(k grad u) + f on the unit square, t in [0, 1].
# k(x, y) is read from data/heat_conductivity.csv, samples of 2 + sin(2πx) cos(πy) on a
# 65 × 65 grid (tools/reference_data.py), and interpolated by a cubic spline, whose first
# derivatives enter the divergence form. Manufactured solution u = exp(-t) sin(πx) sin(πy);
# the source f is built from the formula of k, so the spline's interpolation error (at most
# 2.7e-7 in k and 1.0e-4 in its first derivatives, which are about 6) is part of what the
# run measures.
space x in [0, 1]
space y in [0, 1]
time t in [0, 1]
field u
data k from "data/heat_conductivity.csv" as grid

let exact_u = exp(-t)*sin(pi*x)*sin(pi*y)
let k_exact = 2 + sin(2*pi*x)*cos(pi*y)
let flux = 2*pi*cos(2*pi*x)*cos(pi*y)*pi*exp(-t)*cos(pi*x)*sin(pi*y) - pi*sin(2*pi*x)*sin(pi*y)*pi*exp(-t)*sin(pi*x)*cos(pi*y)
let f = -exact_u + 2*pi^2*k_exact*exact_u - flux

dt(u) - k*lap(u) - dx(k)*dx(u) - dy(k)*dy(u) = f   on interior
u = 0                                              on boundary
u = sin(pi*x)*sin(pi*y)                            on initial

exact u = exp(-t)*sin(pi*x)*sin(pi*y)

solve iterations = 300
