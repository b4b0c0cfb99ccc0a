# Fourier features where every coordinate is periodic: nothing is left to embed.
space x in [0, 1]
field u
periodic x
-dxx(u) + u = sin(2*pi*x) on interior
model mlp(features = fourier(16, 1))
# expect: E0409 6:22
